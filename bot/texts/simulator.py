"""Texts of the local web chat (bot/transports/simulator.py)."""

LOGIN_REQUIRED = "网页聊天需要先以管理员身份登录管理后台（/dashboard/login）。"
BAD_ORIGIN = "拒绝连接：只接受本站页面发起的网页聊天连接。"
UNREADABLE = "无法识别的消息：{error}"
NOT_STORED = "消息未能保存，没有发送，请稍后重试。"
