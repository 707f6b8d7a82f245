"""Notify's error codes: (Chinese, English)."""

from shared.errors import register_messages

register_messages({
    "notify.unknown_channel": ("不支持的通知渠道", "Unknown channel"),
    "notify.duplicate_channel": ("渠道顺序中有重复", "A channel appears twice in the order"),
    "notify.bad_time": ("时间格式应为 HH:MM", "Time must be HH:MM"),
    "notify.bad_timezone": ("时区不存在", "Unknown time zone"),
    "notify.category_not_optional": ("该类通知不能退订（工单与督办类通知必须送达）",
                                     "This category cannot be opted out of (work orders and supervision)"),
    "notify.bad_phone": ("手机号码格式不正确", "Not a valid mainland China mobile number"),
    "notify.bad_email": ("邮箱地址格式不正确", "Not a valid email address"),
    "notify.bad_url": ("回调地址必须是 https 地址", "The webhook URL must be https"),
    "notify.bad_pattern": ("事件类型格式不正确", "Not a valid event type pattern"),
    "notify.bad_signature": ("回调签名校验失败", "The callback signature does not verify"),
    "notify.not_dead": ("该消息不在死信队列中", "The message is not in the dead-letter queue"),
})
