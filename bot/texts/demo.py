"""Texts of zhibu demo's first start (bot/demo_start.py): the progress line on the chat page and
the dashboard while the sample history is generated, and the console lines."""

HISTORY_PROGRESS = "示例历史生成中：已完成 {percent}%… 现在就可以聊天，机器人的回复会在生成完成后送达。"
HISTORY_DONE = "示例历史已生成完毕：刷新页面即可看到六个月的统计。"
HISTORY_FAILED = "示例历史生成失败（详见终端日志）；再次运行 zhibu demo 会从头重新生成。"
HALF_MADE_DISCARDED = "上次的示例历史没有生成完（启动被中断），已删除这个不完整的演示数据库，重新生成。"
