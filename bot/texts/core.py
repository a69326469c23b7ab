"""Texts of the core: help, privacy, binding, linking, errors."""

BOT_NAME = "支部助手"

SELF_INTRO = (
    "大家好，我是{bot_name}，{compound}党支部的小帮手：有事找支部，直接在群里说就行，"
    "我会登记并转给支部处理。\n"
    "隐私说明：我只保存与报事、心愿、命令有关的消息，其余聊天{days}天后自动删除；"
    "群里不显示手机号。发送“隐私”查看详情，发送“帮助”查看用法。"
)

JOINED_UNBOUND = (
    "大家好，我是{bot_name}。本群还没有绑定小区，请小区党支部书记在群里发送“绑定 小区名”完成绑定。"
)

PRIVACY_NOTICE = (
    "【隐私说明】\n"
    "1. 保存什么：报事、微心愿、命令及其处理记录；与这些无关的群聊消息{days}天后自动删除。\n"
    "2. 谁能看到：本小区党支部书记及其指派的处理人；社区、街道工作人员可查看统计数字。"
    "手机号、身份证号在群内一律打码。\n"
    "3. 如何删除：私聊我发送“删除我的信息”，或联系支部书记，我们会在核实后删除您的聊天记录"
    "（已办理工单的必要记录按规定保留）。"
)

HELP_HEADER = "您可以这样用我："
HELP_RESIDENT_TAIL = "遇到问题直接在群里说，比如“3号楼2单元楼道灯坏了”，我会登记并转给支部。"
HELP_REPORT_LINE = "· 有事直接在群里说，如“3号楼2单元楼道灯坏了”"
HELP_LINE = "· {usage} — {summary}"
HELP_TOPICS = "更多用法请发：{topics}"
HELP_TOPIC_HEADER = "【{topic}】可以这样用："
HELP_UNKNOWN_TOPIC = "没有“{topic}”的帮助。可以发：{topics}"

NOT_ALLOWED = "抱歉，“{command}”需要{roles}身份才能使用。如需开通，请联系小区党支部书记。"
USAGE = "格式不对。用法：{usage}"
ONLY_PRIVATE = "“{command}”请私聊我使用，以免打扰群里的邻居。"
ONLY_GROUP = "“{command}”请在小区群里使用。"
NEED_COMPOUND = "请先确认您所在的小区：在已绑定小区的群里使用，或联系支部书记登记。"

HANDLER_FAILED = "抱歉，刚才处理您的消息时出错了，已记录下来，工作人员会尽快处理。"
TOO_LONG_NOTE = "（消息过长，只处理了前{limit}个字）"

BIND_OK = "本群已绑定到“{compound}”（{community}），{bot_name}开始为大家服务。"
BIND_USAGE = "绑定 小区名"
BIND_UNKNOWN_COMPOUND = "没有找到名为“{name}”的小区，请核对名称。已登记的小区：{known}"
BIND_NOT_SECRETARY = "只有“{compound}”的党支部书记（或社区工作人员）可以绑定本群。"
BIND_ALREADY = "本群已经绑定到“{compound}”。"
BIND_CONFIRMED = "已确认：本群仍属于“{compound}”，重新登录后的群关联已核实。"
BIND_ONLY_GROUP = "请在需要绑定的群里发送“绑定 小区名”。"

LINK_OK = "身份确认成功：{name}，{roles}（{scope}）。发送“帮助”查看可用的命令。"
LINK_BAD_CODE = "验证码无效或已过期，请向发码的工作人员重新索取。"
LINK_ALREADY = "该验证码已被使用。如有疑问请联系社区工作人员。"

MY_ROLES = "{name}，您的身份：\n{lines}"
MY_ROLES_NONE = "{name}，您目前是居民身份。党员可发送“亮身份 党员 楼号单元”申请登记。"

ROLE_LABELS = {
    "resident": "居民",
    "party_member": "党员",
    "building_leader": "楼长",
    "unit_leader": "单元长",
    "grid_worker": "网格员",
    "social_worker": "社工",
    "secretary": "支部书记",
    "community_staff": "社区工作人员",
    "district_staff": "区级工作人员",
    "property_manager": "物业负责人",
    "owners_committee": "业委会成员",
    "volunteer": "志愿者",
}

NON_TEXT_IGNORED = ""  # images, voice, files: stored silently
# Someone addressed the bot (privately, or @ in a group) and nothing matched.
NOT_UNDERSTOOD = "我没太明白。发送“帮助”查看我能做什么；遇到问题直接描述就行，比如“3号楼楼道灯坏了”。"
