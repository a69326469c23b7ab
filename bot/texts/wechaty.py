"""Texts of the WeChat connection: operator messages at start-up and the re-link confirmation."""


TEXT_NO_ACCOUNT = (
    "未配置微信网关：请设置环境变量 WECHATY_PUPPET_SERVICE_ENDPOINT 和 "
    "WECHATY_PUPPET_SERVICE_TOKEN，或在 zhibu.toml 的 [wechaty] 中填写 endpoint 和 token。"
)
TEXT_BAD_ENDPOINT = "微信网关地址无效：{endpoint}（账号 {account}）。应为“主机:端口”，例如 127.0.0.1:8788。"
TEXT_BAD_TOKEN = (
    "微信网关 {endpoint} 拒绝了令牌（账号 {account}）：请检查 WECHATY_PUPPET_SERVICE_TOKEN "
    "或 zhibu.toml 中的 token 是否与网关启动时的令牌一致。（{detail}）"
)
TEXT_UNREACHABLE = (
    "无法连接微信网关 {endpoint}（账号 {account}，已尝试 {attempts} 次）：{reason}。"
    "请确认网关已经启动，地址和端口无误。"
)
TEXT_LOGIN_TIMEOUT = (
    "已连接微信网关 {endpoint}（账号 {account}），但 {seconds:.0f} 秒内没有登录微信。"
    "如需扫码，请用机器人的微信扫描终端里的二维码，然后重新启动。"
)
TEXT_NOT_GATEWAY = (
    "{endpoint} 不是微信网关（账号 {account}）：这个地址能连上，但对方不是 Wechaty 网关（puppet service）。"
    "请检查 WECHATY_PUPPET_SERVICE_ENDPOINT 或 zhibu.toml 中的 endpoint 是否指向网关的端口。"
    " / {endpoint} is not a Wechaty gateway (account {account}): something accepts connections there "
    "but does not speak the Wechaty puppet service; check the endpoint. ({detail})"
)
TEXT_SCAN = "请用机器人的微信扫码登录（账号 {account}）：{url}"
TEXT_NOT_CONNECTED = "微信网关未连接（账号 {account}），稍后重试。"
TEXT_CONNECTION_LOST = "与微信网关 {endpoint} 的连接断开（账号 {account}）：{reason}；正在重连。"
TEXT_RECONNECTED = "已重新连接微信网关 {endpoint}（账号 {account}）。"

TEXT_CONFIRM_GUESS = (
    "【请确认】微信重新登录后，群“{topic}”（{count}人）的编号变了。我按群名和成员判断它仍是"
    "“{compound}”的群，暂时照常服务。如无误，请在该群发送“绑定 {compound}”确认；"
    "如果认错了，请联系社区工作人员处理。"
)
