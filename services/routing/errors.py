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
    "unit.not_found": ("未找到该单位", "No such unit"),
    "unit.not_department": ("只能向职能部门或公共服务企业吹哨", "Only departments and utilities can be whistled for"),
    "case.not_awaiting_designation": ("该诉求未处于待指定状态", "This case is not awaiting designation"),
    "routing.case_not_found": ("派单记录中没有该诉求", "Routing has no such case"),
    "responsibility.invalid": ("职责清单有误，未保存", "The responsibility list is invalid; nothing was saved"),
    "staff.not_found": ("未找到该工作人员", "No such staff member"),
    "scores.bad_period": ("统计周期格式应为 YYYY-MM", "The period must look like YYYY-MM"),
    "ledger.bad_format": ("导出格式只能是 csv 或 xlsx", "The export format must be csv or xlsx"),
})
