"""Texts of the WeCom (企业微信) connection: operator messages and what staff read."""

BAD_AES_KEY_LENGTH = "EncodingAESKey 应为 43 个字符（现在是 {length} 个）：请从企业微信管理后台原样复制。"
BAD_AES_KEY_CHARS = "EncodingAESKey 含有无效字符：请从企业微信管理后台原样复制（43 个字母和数字）。"
NEEDS_CORP_ID = "企业微信配置缺少 corp_id（企业ID）：{what}需要它。"
NEEDS_AGENT = "企业微信配置中 agent_id 和 agent_secret 要一起填写（自建应用，用于私聊通知工作人员）。"
HOOK_ONE_SCOPE = "企业微信群机器人“{name}”只能填写 compound 或 community 其中之一。"
UNKNOWN_COMMUNITY = "企业微信配置中的社区“{community}”（{what}）在名册中不存在。"
UNKNOWN_COMPOUND = "企业微信配置中的小区“{compound}”（{what}）在名册中不存在。"

# Send failures (stored on outbox rows and shown in delivery records).
NO_GROUP_REPLY = "企业微信群只能在机器人被@后1小时内回复，现在没有可用的回复地址"
NO_PRIVATE_CHANNEL = "无法私聊该企业微信成员：没有有效的回复地址，也未配置自建应用"
HOOK_INVALID = "企业微信群机器人“{name}”的webhook地址已失效（93000），已停用，请在群里重新添加机器人并更新配置"
HOOK_RATE_LIMITED = "企业微信群机器人“{name}”发送过于频繁（45009）"
API_ERROR = "企业微信接口返回错误 {errcode}：{errmsg}"
UNREACHABLE = "无法连接企业微信接口：{reason}"

# Customer-group notices (客户联系 群发).
TASK_CREATED = "企业微信群发任务已创建，等待{sender}在企业微信中确认发送"
TASK_SENT = "已由群主确认发送"
TASK_NOT_FRIEND = "企业微信：群发失败（客户群不可达）"
TASK_LIMIT = "企业微信：该客户群本月接收群发已达上限"
TASK_UNCONFIRMED = "企业微信群发任务 {hours} 小时内未确认，已放弃"
CONFIRM_PROMPT = (
    "【请确认群发】通知{notice}将发往企业微信客户群“{label}”。"
    "请打开企业微信 → 工作台 → 客户联系 → 群发助手，确认发送。"
)
REMINDED = "已提醒群主确认（今天第{count}次）"
