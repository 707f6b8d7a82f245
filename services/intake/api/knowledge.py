"""The hotline's knowledge base: staff search and read it, `knowledge_editor_roles` (supervisors,
admins) create, edit and retire entries; every version is kept and every change audited."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from shared.deps import SessionDep, StaffUser, Uow

from .. import knowledge
from ..schemas import KnowledgeCreate, KnowledgeEntryView, KnowledgeHit, KnowledgeUpdate, KnowledgeView
from .deps import answers

router = APIRouter(tags=["知识库 knowledge base"])

EntryId = Annotated[str, Path(max_length=40, description="条目 id entry id")]
# Versions are numbered from 1 by editing; a number beyond this names none.
MAX_VERSION = 1_000_000


@router.get("/knowledge", response_model=list[KnowledgeHit],
            summary="检索知识库（咨询当场答复）search the knowledge base",
            description="只返回现行（未停用）条目的现行版本，最多 5 条。", responses=answers(403))
def search_knowledge(user: StaffUser, session: SessionDep,
                     q: Annotated[str, Query(min_length=1, max_length=200, description="检索词 what the caller asks")]
                     ) -> list[KnowledgeHit]:
    return knowledge.search(session, q)


@router.get("/knowledge/{entry_id}", response_model=KnowledgeEntryView,
            summary="知识库条目（现行版本及版本历史）an entry and its versions", responses=answers(403, 404))
def get_entry(user: StaffUser, entry_id: EntryId, session: SessionDep) -> KnowledgeEntryView:
    return knowledge.entry_view(session, entry_id)


@router.get("/knowledge/{entry_id}/versions/{version}", response_model=KnowledgeView,
            summary="条目的某一版本 one version of an entry", responses=answers(403, 404))
def get_entry_version(user: StaffUser, entry_id: EntryId,
                      version: Annotated[int, Path(ge=1, le=MAX_VERSION, description="版本号 version")],
                      session: SessionDep) -> KnowledgeView:
    return knowledge.version_view(session, entry_id, version)


@router.post("/knowledge", status_code=201, response_model=KnowledgeEntryView,
             summary="新增知识库条目 create an entry",
             description="仅督办人员和管理员（配置 knowledge_editor_roles）；类别须在当前类别目录中。记入审计。",
             responses=answers(403))
def create_entry(user: StaffUser, body: KnowledgeCreate, uow: Uow) -> KnowledgeEntryView:
    return knowledge.create(uow.session, uow.audit, user, body)


@router.put("/knowledge/{entry_id}", response_model=KnowledgeEntryView,
            summary="修改知识库条目：保存为新版本 edit an entry (a new version)",
            description="提交完整内容和编辑所基于的版本号 base_version；期间他人已修改或条目已停用返回 409。"
                        "旧版本保留，已引用旧版本的诉求不受影响。记入审计。",
            responses=answers(403, 404, 409))
def update_entry(user: StaffUser, entry_id: EntryId, body: KnowledgeUpdate, uow: Uow) -> KnowledgeEntryView:
    return knowledge.update(uow.session, uow.audit, user, entry_id, body)


@router.post("/knowledge/{entry_id}/retire", response_model=KnowledgeEntryView,
             summary="停用知识库条目 retire an entry",
             description="停用后不再出现在检索中，也不能再被诉求引用（422 case.knowledge_retired）；各版本保留。"
                         "已停用再停用返回 409。记入审计。",
             responses=answers(403, 404, 409))
def retire_entry(user: StaffUser, entry_id: EntryId, uow: Uow) -> KnowledgeEntryView:
    return knowledge.retire(uow.session, uow.audit, user, entry_id)
