"""Texts about how an arriving message was received (Simplified Chinese)."""

# Appended to an answer given long after the message arrived (the bot was offline): the
# answer goes privately to the sender instead of into the group, which has moved on.
LATE_NOTE = "（抱歉，这是机器人离线期间收到的消息，现在才处理。）"
LATE_GROUP_PREFIX = "关于您在“{topic}”里说的“{quote}”：\n"
