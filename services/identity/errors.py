"""Identity's error codes: code → (Chinese, English). A failed sign-in never says whether the
account exists."""

from shared.errors import register_messages

register_messages({
    "signin.failed": ("账号或密码错误", "Wrong username or password"),
    "signin.locked": ("尝试次数过多，账号已暂时锁定，请稍后再试", "Too many attempts: try again later"),
    "signin.code_invalid": ("验证码错误或已失效", "The code is wrong or has expired"),
    "signin.code_limit": ("验证码发送过于频繁，请稍后再试", "Too many codes requested: try again later"),
    "signin.bad_phone": ("手机号码格式不正确", "Not a valid mobile phone number"),
    "signin.wechat_code_invalid": ("微信登录凭证无效或已使用，请重新登录", "The WeChat login code is invalid or used"),
    "signin.wechat_unavailable": ("微信服务暂时不可用，请稍后再试", "WeChat cannot be reached: try again shortly"),
    "signin.wechat_disabled": ("未启用微信登录", "WeChat sign-in is not enabled"),
    "signin.oidc_unknown_provider": ("未配置该统一身份认证", "No such identity provider"),
    "signin.oidc_failed": ("统一身份认证登录失败", "Sign-in at the identity provider failed"),
    "signin.oidc_unavailable": ("统一身份认证服务暂时不可用", "The identity provider cannot be reached"),
    "signin.oidc_no_role": ("您在统一身份认证中的岗位无权使用本系统",
                            "Your role at the identity provider has no access"),
    "signin.bad_redirect": ("回调地址不在白名单内", "The redirect URI is not allowed"),
    "token.refresh_invalid": ("登录已失效，请重新登录", "The sign-in has expired: sign in again"),
    "user.not_found": ("未找到该用户", "No such user"),
    "user.username_taken": ("用户名已被使用", "The username is taken"),
    "user.weak_password": ("密码不符合要求", "The password does not meet the rules"),
    "user.bad_role": ("角色不存在", "No such role"),
    "roster.invalid": ("名册有误，未导入", "The roster has errors: nothing was imported"),
    "api_key.not_found": ("未找到该密钥", "No such API key"),
    "api_key.bad_scope": ("不支持的权限范围", "Unknown scope"),
    "dev.disabled": ("开发用验证码收件箱仅在嵌入式模式下可用",
                     "The development code inbox exists in embedded mode only"),
})
