"""Request and response bodies of the grid service: the API's contract, every field described."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.fields import Flag, Meaningful, When
from shared.geo import CoordSystem

ClientAt = Annotated[When | None, Field(None, description="手机上操作发生的时间（离线排队后补传时为原时间；缺省为"
                                                          "服务器收到的时间）the client's time of the act")]
Lat = Annotated[float, Field(ge=-90, le=90, description="纬度 latitude")]
Lon = Annotated[float, Field(ge=-180, le=180, description="经度 longitude")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- patrols -------------------------------------------------------------------------------------


class PointIn(Strict):
    lat: Lat
    lon: Lon
    at: When = Field(description="定位时间（手机时钟）the fix's time on the phone")


class Track(Strict):
    coord_system: CoordSystem | None = Field(None, description="轨迹点的坐标系：gcj02（微信、高德、腾讯地图）、wgs84"
                                                               "（GPS）、bd09（百度）；有轨迹点时必填")
    points: list[PointIn] = Field(default_factory=list, max_length=5000, description="轨迹点 track points")


class PatrolStart(Track):
    grid_code: str | None = Field(None, max_length=32, description="网格代码；只负责一个网格时可省略")
    note: Meaningful | None = Field(None, max_length=2000, description="备注 note")
    client_at: ClientAt


class PatrolPoints(Track):
    client_at: ClientAt


class PatrolFinish(Track):
    note: Meaningful | None = Field(None, max_length=2000, description="巡查小结 summary")
    client_at: ClientAt


# A case's id as intake gives it: a UUID (hex digits in groups of 8-4-4-4-12).
CaseId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$",
                              json_schema_extra={"format": "uuid"}, description="诉求 id（UUID）")]


class FindingsIn(Strict):
    case_ids: list[CaseId] = Field(
        min_length=1, max_length=50, description="本次巡查上报的诉求 id（诉求服务 POST /intake/v1/cases，"
                                                 "channel=grid_patrol，含自办自结），不得重复；诉求服务确认为本人"
                                                 "巡查上报后计入统计 cases reported on this patrol")
    client_at: ClientAt


class PointView(BaseModel):
    lat: float = Field(description="纬度（WGS-84）")
    lon: float = Field(description="经度（WGS-84）")
    at: datetime = Field(description="定位时间")


class PatrolView(BaseModel):
    id: str = Field(description="巡查 id")
    grid_code: str = Field(description="网格代码")
    worker_id: str = Field(description="网格员")
    status: Literal["open", "finished"] = Field(description="open 巡查中；finished 已结束")
    day: str = Field(description="巡查日期（当地）")
    started_at: datetime = Field(description="开始时间（手机时钟）")
    finished_at: datetime | None = Field(description="结束时间（手机时钟）")
    distance_m: float = Field(description="轨迹里程（米）")
    point_count: int = Field(description="轨迹点数")
    counts: bool = Field(description="是否计入“一日双巡”（已结束且达到最短时长）")
    finding_ids: list[str] = Field(description="关联的诉求 id（含诉求服务尚未确认的）")
    finding_count: int = Field(description="计入统计的巡查发现数：关联诉求中诉求服务已确认为本人巡查上报的"
                                           "（channel=grid_patrol）")
    note: str | None = Field(description="备注")
    points: list[PointView] | None = Field(None, description="轨迹（仅单条巡查详情）")


class DayView(BaseModel):
    grid_code: str = Field(description="网格代码")
    grid_name: str = Field(description="网格名称")
    day: str = Field(description="日期（当地）")
    required: int = Field(description="规则要求的巡查次数")
    done: int = Field(description="已完成且计入的巡查次数")
    met: bool = Field(description="是否达标")
    status: Literal["pending", "met", "missed"] = Field(description="检查结果：pending 未到检查时间；met 达标；"
                                                                    "missed 未达标（已提醒社区）")
    distance_m: float = Field(description="当日巡查里程（米）")
    findings: int = Field(description="当日巡查发现数（关联诉求中诉求服务已确认为网格员本人巡查上报的）")
    self_resolved: int = Field(description="当日自办自结数（来自诉求服务的事件）")
    patrols: list[PatrolView] = Field(description="当日巡查")


class GridView(BaseModel):
    code: str = Field(description="网格代码")
    name: str = Field(description="网格名称")
    community_code: str | None = Field(description="所属社区代码")


# ---- the register --------------------------------------------------------------------------------

Name = Annotated[Meaningful, Field(min_length=1, max_length=60)]
Phone = Annotated[str, Field(max_length=20, description="电话（手机或座机）phone")]
IdNumber = Annotated[str, Field(max_length=18, description="居民身份证号码 resident ID number")]


class BuildingFields(Strict):
    name: Meaningful = Field(min_length=1, max_length=120, description="楼栋或地址名称，如“玉林北路2号3栋”")
    address: str | None = Field(None, max_length=200, description="门牌地址（楼栋的，非个人）the building's address")
    floors: int | None = Field(None, ge=0, le=200, description="层数")
    note: str | None = Field(None, max_length=2000, description="备注")


class HouseholdFields(Strict):
    room: Meaningful = Field(min_length=1, max_length=40, description="门牌室号，如“2单元501”")
    head_name: Name | None = Field(None, description="户主姓名（个人信息）")
    phone: Phone | None = None
    members: int | None = Field(None, ge=0, le=100, description="在住人数")
    note: str | None = Field(None, max_length=2000, description="备注（个人信息）")


class PersonFields(Strict):
    category: str = Field(max_length=40, description="类别代码，见 GET /register/categories")
    name: Name = Field(description="姓名（个人信息）")
    id_number: IdNumber | None = None
    phone: Phone | None = None
    address: str | None = Field(None, max_length=200, description="住址（个人信息）")
    gender: Literal["男", "女"] | None = Field(None, description="性别")
    guardian_name: Name | None = Field(None, description="监护人或紧急联系人姓名（个人信息）")
    guardian_phone: Phone | None = None
    note: str | None = Field(None, max_length=2000, description="情况说明（个人信息）")


class RentalFields(Strict):
    room: Meaningful = Field(min_length=1, max_length=40, description="出租屋门牌室号")
    landlord_name: Name | None = Field(None, description="房东姓名（个人信息）")
    landlord_phone: Phone | None = None
    rooms: int | None = Field(None, ge=0, le=100, description="出租间数")
    note: str | None = Field(None, max_length=2000, description="备注")


class TenantFields(Strict):
    name: Name = Field(description="租户姓名（个人信息）")
    id_number: IdNumber | None = None
    phone: Phone | None = None
    origin: str | None = Field(None, max_length=120, description="户籍地（个人信息）")
    moved_in: date | None = Field(None, description="入住日期")
    moved_out: date | None = Field(None, description="搬离日期")


class OrganisationFields(Strict):
    name: Meaningful = Field(min_length=1, max_length=120, description="单位名称（商户、物业公司等）")
    org_kind: Literal["shop", "property", "company", "social", "other"] = Field(
        "other", description="shop 商户；property 物业；company 企业；social 社会组织；other 其他")
    address: str | None = Field(None, max_length=200, description="经营地址（单位的）")
    licence_no: str | None = Field(None, max_length=40, description="统一社会信用代码")
    contact_name: Name | None = Field(None, description="联系人（个人信息）")
    contact_phone: Phone | None = None


FIELDS: dict[str, type[Strict]] = {"building": BuildingFields, "household": HouseholdFields,
                                   "person": PersonFields, "rental": RentalFields, "tenant": TenantFields,
                                   "organisation": OrganisationFields}


class EntryMeta(Strict):
    grid_code: str | None = Field(None, max_length=32, description="网格代码；只负责一个网格时可省略")
    parent_id: str | None = Field(None, max_length=36, description="上级记录：住户、出租屋属于楼栋；人员属于住户"
                                                                   "（可省略）；租户属于出租屋（必填）")
    client_at: ClientAt


class BuildingIn(EntryMeta, BuildingFields):
    kind: Literal["building"] = Field(description="楼栋/地址")


class HouseholdIn(EntryMeta, HouseholdFields):
    kind: Literal["household"] = Field(description="住户")


class PersonIn(EntryMeta, PersonFields):
    kind: Literal["person"] = Field(description="特殊人群或关爱对象")


class RentalIn(EntryMeta, RentalFields):
    kind: Literal["rental"] = Field(description="出租屋")


class TenantIn(EntryMeta, TenantFields):
    kind: Literal["tenant"] = Field(description="租户（流动人口）")


class OrganisationIn(EntryMeta, OrganisationFields):
    kind: Literal["organisation"] = Field(description="单位组织")


EntryIn = Annotated[BuildingIn | HouseholdIn | PersonIn | RentalIn | TenantIn | OrganisationIn,
                    Field(discriminator="kind")]


class EntryPatch(Strict):
    version: int | None = Field(None, strict=True, ge=1,
                                description="您最后看到的版本号（也可用 If-Match 头）；与当前版本不同则"
                                            "409，不作修改 the version you last saw")
    fields: dict[str, Any] = Field(default_factory=dict, description="要修改的字段（同创建时该类型的字段；null 清空"
                                                                     "可选字段）the fields to change")
    parent_id: str | None = Field(None, max_length=36, description="改挂到另一上级记录")
    active: Flag | None = Field(None, description="false：搬离、注销（记录保留）")
    client_at: ClientAt


class EntryView(BaseModel):
    id: str = Field(description="记录 id")
    kind: str = Field(description="类型：building、household、person、rental、tenant、organisation")
    grid_code: str = Field(description="网格代码")
    parent_id: str | None = Field(description="上级记录 id")
    category: str | None = Field(description="人员类别代码")
    category_name: str | None = Field(description="人员类别名称")
    fields: dict[str, Any] = Field(description="字段；个人信息对无需知悉的角色已脱敏 the fields, personal ones masked "
                                               "for roles without need")
    masked: bool = Field(description="个人信息是否已脱敏")
    active: bool = Field(description="是否在册")
    version: int = Field(description="版本号：修改时带上（If-Match 或 version）")
    visit_every_days: int | None = Field(description="走访周期（天）")
    visit_due_at: datetime | None = Field(description="下次走访截止")
    last_visit_at: datetime | None = Field(description="最近一次走访")
    updated_at: datetime = Field(description="最近修改时间")


class CategoryView(BaseModel):
    code: str = Field(description="类别代码")
    name: str = Field(description="名称")
    name_en: str = Field(description="English name")
    list: Literal["special", "care"] = Field(description="special 特殊人群；care 关爱对象")
    department_type: str = Field(description="负责的职能部门类型")
    visit_every_days: int | None = Field(description="走访周期（天）")


class ImportReport(BaseModel):
    kind: str = Field(description="导入的记录类型")
    total: int = Field(description="数据行数")
    created: int = Field(description="新建记录数")
    dry_run: bool = Field(description="只校验未导入")
    entry_ids: list[str] = Field(description="新建记录 id（按行序）")


# ---- visits --------------------------------------------------------------------------------------


class VisitIn(Strict):
    person_id: str = Field(max_length=36, description="走访对象（台账中的人员记录 id）")
    note: Meaningful = Field(min_length=1, max_length=4000, description="走访情况（个人信息，加密保存）")
    lat: Lat | None = None
    lon: Lon | None = None
    coord_system: CoordSystem | None = Field(None, description="位置的坐标系（有位置时必填）gcj02 / wgs84 / bd09")
    help_needed: Flag = Field(False, description="对象需要帮助（求助）：应答中附带可提交诉求服务的诉求草稿")
    help_text: Meaningful | None = Field(None, max_length=2000, description="需要什么帮助（写入诉求草稿）")
    client_at: ClientAt


class CaseDraft(BaseModel):
    """The body to POST to /intake/v1/cases, as the worker's phone sends it (with its own Idempotency-Key)."""

    category: str = Field(description="诉求类别")
    appeal_type: Literal["求助"] = Field(description="诉求类型")
    channel: Literal["grid_patrol"] = Field(description="渠道：网格员上报")
    description: str = Field(description="诉求描述（不含走访对象的姓名、电话，由网格员补充）")
    lat: float | None = Field(description="纬度（WGS-84）")
    lon: float | None = Field(description="经度（WGS-84）")
    coord_system: Literal["wgs84"] | None = Field(description="坐标系")


class VisitView(BaseModel):
    id: str = Field(description="走访 id")
    person_id: str = Field(description="走访对象")
    grid_code: str = Field(description="网格代码")
    category: str | None = Field(description="对象类别")
    worker_id: str = Field(description="走访人")
    visited_at: datetime = Field(description="走访时间（手机时钟）")
    note: str | None = Field(description="走访情况（对无需知悉的角色隐藏）")
    lat: float | None = Field(description="纬度（WGS-84）")
    lon: float | None = Field(description="经度（WGS-84）")
    help_needed: bool = Field(description="是否需要帮助")
    next_due_at: datetime | None = Field(description="下次走访截止")
    case_draft: CaseDraft | None = Field(None, description="需要帮助时：提交 POST /intake/v1/cases 的诉求草稿")


class DueView(BaseModel):
    person_id: str = Field(description="人员记录 id")
    grid_code: str = Field(description="网格代码")
    category: str | None = Field(description="类别")
    visit_due_at: datetime = Field(description="走访截止")
    overdue: bool = Field(description="是否已超期")
    last_visit_at: datetime | None = Field(description="最近一次走访")


# ---- offline batches -----------------------------------------------------------------------------

Op = Literal["patrol.start", "patrol.points", "patrol.finish", "patrol.findings", "visit.record",
             "register.create", "register.update"]


class SyncOp(Strict):
    key: str = Field(min_length=1, max_length=100, description="该项操作的幂等键（重放时返回首次结果，不再改动）")
    op: Op = Field(description="操作：patrol.start、patrol.points、patrol.finish、patrol.findings、visit.record、"
                              "register.create、register.update")
    target_id: str | None = Field(None, max_length=36, description="巡查 id 或台账记录 id（points、finish、findings、"
                                                                   "update 时）；也可写 @键 引用本批中前一项创建的记录")
    body: dict[str, Any] = Field(default_factory=dict, description="与对应单项接口相同的请求体（含 client_at）")


class SyncIn(Strict):
    ops: list[SyncOp] = Field(min_length=1, max_length=200, description="离线队列，按手机上发生的先后排列")


class SyncResult(BaseModel):
    key: str = Field(description="幂等键")
    op: str = Field(description="操作")
    status: int = Field(description="该项的 HTTP 状态（200/201 成功；4xx 失败，未作改动）")
    replayed: bool = Field(description="是否为重放（返回首次结果）")
    body: dict[str, Any] = Field(description="该项的应答（失败时为错误）")


class SyncOut(BaseModel):
    results: list[SyncResult] = Field(description="按提交顺序逐项的结果")


# ---- statistics ----------------------------------------------------------------------------------


class StatRow(BaseModel):
    grid_code: str = Field(description="网格代码")
    worker_id: str | None = Field(description="网格员（按网格合计时为空）")
    patrols: int = Field(description="巡查次数（已结束）")
    distance_m: float = Field(description="巡查里程（米）")
    findings: int = Field(description="巡查发现（已结束巡查的关联诉求中诉求服务已确认为本人巡查上报的）")
    self_resolved: int = Field(description="自办自结")
    visits: int = Field(description="走访次数")
