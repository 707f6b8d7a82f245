"""Message templates, as data: Chinese first, English beside it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    code: str
    title: str
    body: str
    title_en: str
    body_en: str

    def render(self, **values) -> tuple[str, str]:
        return self.title, self.body.format(**values)


TEMPLATES = {t.code: t for t in (
    Template("case.accepted", "诉求已受理", "您的诉求（编号 {case_no}）已受理，我们将尽快派单办理。",
             "Request received", "Your request {case_no} has been received and will be dispatched shortly."),
    Template("case.dispatched", "诉求已派单", "您的诉求（编号 {case_no}）已派至{unit_name}办理。",
             "Request dispatched", "Your request {case_no} has been sent to {unit_name}."),
    Template("workorder.new", "新工单待签收", "新工单 {case_no} 已派给您（{unit_name}），请及时签收处理。",
             "New work order", "Work order {case_no} ({unit_name}) is assigned to you: please sign for it."),
)}
