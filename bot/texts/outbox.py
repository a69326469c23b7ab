"""Texts the outbox adds to what it sends or records (operators and recipients read them)."""

# An urgent alert that may already have gone out before a crash is sent again, marked.
REPEAT_PREFIX = "（重发）"

WAITING_CONNECTION = "等待连接：{detail}"
RATE_LIMITED = "账号被限速，暂停发送{seconds:.0f}秒"
NO_ADDRESS = "收件人未关联微信身份或群已失效"
CHAT_GONE = "群或联系人已不可达"
GAVE_UP = "发送失败{attempts}次，已放弃：{detail}"
RESENT_AFTER_CRASH = "发送中途程序异常退出，可能已发出；紧急通知已标“（重发）”再次发送"
UNCERTAIN_AFTER_CRASH = "发送中途程序异常退出，可能已发出也可能没有；为免重复未再发送，请人工核对"
EXPIRED_GROUP_REPLY = "群内回复超过{hours}小时仍未发出，已过时，不再发送"
EXPIRED_BROADCAST = "群发消息超过{hours}小时仍未发出，已过时，不再发送"
UNDELIVERED_URGENT = "紧急通知{minutes}分钟内未能送达"
NO_LIVE_ACCOUNT = "等待可用账号：此人所在的微信账号当前都无进程服务，账号上线或此人换号发言后自动发出"
NOT_ON_ACCOUNT = "此人在账号 {account} 上没有微信身份，已改由其他账号发送"
