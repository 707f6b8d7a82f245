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
    "notify.url_host_not_allowed": ("回调地址的主机不在允许名单中", "The webhook URL's host is not on the allow-list"),
    "notify.url_not_public": ("回调地址解析到内网、本机或保留地址，不允许推送",
                              "The webhook URL resolves to a private, loopback, link-local, multicast or "
                              "reserved address"),
    "notify.url_unresolvable": ("回调地址的主机无法解析", "The webhook URL's host does not resolve"),
    "notify.phone_not_verified": ("该手机号未经验证：请先在身份服务验证本人手机号（POST /identity/v1/me/phone），"
                                  "再设为短信联系方式",
                                  "This phone is not the one you verified: verify it first "
                                  "(POST /identity/v1/me/phone), then set it as your SMS contact"),
    "notify.phone_from_directory": ("工作人员的手机号由人员名册维护，不能在此修改",
                                    "A staff member's phone comes from the staff directory and cannot be "
                                    "changed here"),
    "notify.email_unavailable": ("本平台未开通邮件通知，不能设置邮箱",
                                 "Email notifications are not enabled here: an email contact cannot be set"),
    "notify.email_code_missing": ("没有待验证的邮箱验证码：请先提交邮箱（PUT /notify/v1/me/contacts）获取验证码",
                                  "No email code is awaited: set the email first (PUT /notify/v1/me/contacts) "
                                  "to be sent one"),
    "notify.email_code_wrong": ("邮箱验证码不正确", "The email code is not right"),
    "notify.email_code_expired": ("邮箱验证码已过期，请重新提交邮箱获取新的验证码",
                                  "The email code has expired: set the email again to be sent a new one"),
    "notify.email_code_used_up": ("错误次数过多，该验证码已作废，请重新提交邮箱获取新的验证码",
                                  "Too many wrong tries: the code no longer works; set the email again to be "
                                  "sent a new one"),
    "notify.bad_pattern": ("事件类型格式不正确", "Not a valid event type pattern"),
    "notify.bad_signature": ("回调签名校验失败", "The callback signature does not verify"),
    "notify.not_dead": ("该消息不在死信队列中", "The message is not in the dead-letter queue"),
    "notify.bad_area": ("区域应为单位代码或其前若干位（字母或数字，最多30位）",
                        "An area is a unit code or its first digits (letters or digits, at most 30)"),
    "notify.bad_category": ("类别应为类别代码或其上级代码，如 env 或 env.noise",
                            "A category is a catalogue code or a parent of one, e.g. env or env.noise"),
    "notify.delivery_pending": ("该投递正在排队或发送中，无需重发",
                                "This delivery is queued or being sent already: nothing to re-send"),
    "notify.webhook_inactive": ("该订阅已停用，不能重发", "The subscription is deactivated: nothing is sent to it"),
    "notify.platform_off": ("未开通12345平台回写（未配置回写地址或密钥），不能重发",
                            "The 12345 platform write-back is off (no URL or secret configured): nothing can be "
                            "re-sent"),
})
