"""Routing's error codes: (Chinese, English)."""

from shared.errors import register_messages

register_messages({
    "workorder.not_found": ("未找到该工单", "No such work order"),
    "workorder.illegal_transition": ("工单当前状态不允许此操作", "The work order's status does not allow this"),
    "workorder.not_yours": ("您不是该工单的承办人员，不能办理", "You are not a handler of this work order"),
    "workorder.out_of_scope": ("该工单不在您的管辖范围内", "This work order is outside your area of responsibility"),
    "workorder.assist_cannot_return": ("协办工单不能退单", "An assisting work order cannot be returned"),
    "workorder.designated_cannot_return": ("指定承办的工单不能退单", "A designated work order cannot be returned"),
    "workorder.return_window_passed": ("已超过退单时限，不能退单", "The return window has passed"),
    "extension.pending_exists": ("已有待审批的延期申请", "An extension request is already pending"),
    "extension.already_decided": ("该延期申请已审批", "This extension request was already decided"),
    "extension.not_found": ("未找到该延期申请", "No such extension request"),
    "whistle.not_called": ("该部门未被吹哨，无需报到", "This department was not whistled for on this work order"),
    "whistle.already_reported": ("该部门已报到", "This department has already reported"),
    "whistle.already_called": ("已向该部门吹哨，不能重复吹哨",
                               "This department was already whistled for on this work order"),
    "extension.no_deadline": ("协办工单没有办理时限，请由主办单位申请延期",
                              "An assisting work order has no deadline of its own; the lead unit asks for extensions"),
    "extension.self_approval": ("不能审批本人提出的延期申请", "You cannot decide your own extension request"),
    "extension.count_cap": ("该工单的延期次数已达上限，超出部分须由区级审批",
                            "This work order had as many extensions as allowed; the district level must approve more"),
    "extension.days_cap": ("批准后该工单累计延期工作日将超过上限，须由区级审批",
                           "This would extend the work order beyond the working days allowed; the district level "
                           "must approve it"),
    "workorder.not_answerable": ("只有建议和私事引导类工单以答复办结，其他工单请签收、联系、办结",
                                 "Only suggestions and private matters are answered; sign, contact and resolve "
                                 "other work orders"),
    "workorder.adoption_required": ("建议类工单须说明是否采纳", "Say whether the suggestion is adopted"),
    "workorder.adoption_not_applicable": ("私事引导不涉及是否采纳",
                                          "Guidance on a private matter is not adopted or not"),
    "workorder.answered_kind": ("表扬、建议和私事引导类工单不按办理流程办结，请直接答复",
                                "Praise, suggestions and private matters are not resolved: answer them"),
    "workorder.photo_invalid": ("办结照片须填写附件 id：请先上传到 /intake/v1/attachments，再填写返回的 id",
                                "A result photo is an attachment id: upload it to /intake/v1/attachments first "
                                "and give the id returned"),
    "workorder.photo_duplicate": ("同一张办结照片填写了两次", "The same result photo is given twice"),
    "workorder.same_unit": ("该工单已由此单位承办，改派须选择其他单位",
                            "This unit handles the work order already; reassign it to another unit"),
    "unit.not_found": ("未找到该单位", "No such unit"),
    "unit.not_department": ("只能向职能部门或公共服务企业吹哨", "Only departments and utilities can be whistled for"),
    "case.not_awaiting_designation": ("该诉求未处于待指定状态", "This case is not awaiting designation"),
    "designation.major_below_street": ("大事只能指定给职能部门或街道及以上层级，不能指定给社区或网格",
                                       "A major matter (大事) is designated to a department or to the street level "
                                       "or above, never to a community or grid"),
    "routing.case_not_found": ("派单记录中没有该诉求", "Routing has no such case"),
    "responsibility.invalid": ("职责清单有误，未保存", "The responsibility list is invalid; nothing was saved"),
    "staff.not_found": ("未找到该工作人员", "No such staff member"),
    "scores.bad_period": ("统计期应为 YYYY-MM、YYYY-Qn、YYYY-Hn 或 YYYY（2000—2099 年）",
                          "The period must be YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY (2000 to 2099)"),
    "ledger.bad_format": ("导出格式只能是 csv 或 xlsx", "The export format must be csv or xlsx"),
})

# The working calendar: the State Council's holiday notices (issue 12, api/calendar.py).
register_messages({
    "calendar.date_outside_year": ("日期不在通知所属年度内", "A date lies outside the notice's year"),
    "calendar.duplicate_date": ("日期或节日重复列出", "A date or a holiday is listed twice"),
    "calendar.overlap": ("两个节日的放假时段重叠", "Two holidays overlap"),
    "calendar.contradiction": ("节假日安排自相矛盾（调休上班日应为周末且不在放假期间，法定节日不能上班）",
                               "The arrangement contradicts itself (a swapped working day must be a weekend day "
                               "outside the holidays; a statutory holiday cannot be a working day)"),
    "calendar.concurrent_load": ("该年度的节假日安排正由他人同时导入，请刷新后重试",
                                 "Someone else is loading this year's notice right now; reload and try again"),
    "calendar.year_not_covered": ("该年度的国务院节假日安排尚未导入",
                                  "The State Council's notice of this year is not loaded"),
})
