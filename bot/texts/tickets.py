"""Texts of 有事找支部: tickets, assignment, deadlines, confirmation, agenda, hotline."""

# ---------------------------------------------------------------- labels
STATE_LABELS = {
    "new": "待受理",
    "assigned": "处理中",
    "resolved": "已办结待确认",
    "closed": "已完结",
    "rejected": "非问题已关闭",
    "merged": "已合并",
}
RATING_LABELS = {
    "satisfied": "满意",
    "basic": "基本满意",
    "unsatisfied": "不满意",
    "default": "未评价（默认办结）",
}
ASSIGNEE_KIND_LABELS = {
    "property": "物业",
    "grid_worker": "网格员",
    "building_leader": "楼长",
    "unit_leader": "单元长",
    "owners_committee": "业委会",
    "community": "社区",
    "social_worker": "社工",
    "party_member": "党员",
    "volunteer": "志愿者",
    "secretary": "支部书记",
    "person": "",
}
# What people type after 派单 → assignee kind.
ASSIGNEE_WORDS = {
    "物业": "property", "物业公司": "property", "物业经理": "property",
    "网格员": "grid_worker", "网格": "grid_worker",
    "楼长": "building_leader", "单元长": "unit_leader",
    "业委会": "owners_committee", "业主委员会": "owners_committee",
    "社区": "community", "社区党总支": "community", "社区工作人员": "community",
    "社工": "social_worker", "党员": "party_member", "志愿者": "volunteer",
    "书记": "secretary", "支部书记": "secretary", "支部": "secretary",
}
# Extra words for 改类 besides the NLP's own labels.
CATEGORY_WORDS = {
    "物业": "property", "物业服务": "property", "卫生": "sanitation", "垃圾": "sanitation",
    "环境": "sanitation", "停车": "parking", "车棚": "parking", "充电": "parking",
    "道路": "roads", "路灯": "roads", "井盖": "roads", "排水": "roads", "下水道": "roads",
    "水电": "utilities", "停水": "utilities", "停电": "utilities", "燃气": "utilities",
    "暖气": "utilities", "供暖": "utilities", "网络": "utilities", "电梯": "elevator",
    "噪音": "noise", "扰民": "noise", "安全": "safety", "消防": "safety", "纠纷": "dispute",
    "邻里纠纷": "dispute", "绿化": "greening", "宠物": "pets", "养狗": "pets",
    "求助": "assistance", "帮扶": "assistance", "困难帮扶": "assistance", "其他": "other",
}
URGENT_WORDS = ("紧急", "急")
NOT_URGENT_WORDS = ("不紧急", "一般", "普通")

EVENT_LABELS = {
    "created": "登记",
    "reported": "又有居民反映",
    "assigned": "派单",
    "transferred": "转办",
    "noted": "备注",
    "acknowledged": "接单",
    "agenda": "列入议事",
    "recategorized": "改类",
    "resolved": "办结",
    "rated": "评价",
    "reopened": "重新打开",
    "supervised": "督办",
    "closed": "完结",
    "auto_closed": "逾期未评价，自动完结",
    "rejected": "确认不是问题",
    "merged": "合并",
    "merged_from": "并入其他工单",
    "split": "拆分",
    "split_from": "由其他工单拆出",
    "hotline_linked": "关联12345热线",
    "urgent_alert": "紧急通知",
    "alert_escalated": "紧急通知未送达，已转报",
}

# ---------------------------------------------------------------- usage
REPORT_USAGE = "报事 问题描述（如：报事 3号楼2单元楼道灯坏了）"
ASSIGN_USAGE = "派单 0042 物业｜网格员 [姓名]｜楼长｜业委会｜社区｜姓名"
TRANSFER_USAGE = "转办 0042 对象 [原因]（对象同派单）"
NOTE_USAGE = "备注 0042 内容"
AGENDA_USAGE = "议事 0042 [议题 …] [范围 物业、业委会] [责任 姓名]"
DISCUSSION_DAY_USAGE = "议事日 [12月20日 15:00 地点]"
MERGE_USAGE = "合并 0043 0042（把0043并入0042）"
SPLIT_USAGE = "拆分 0042 反映人姓名或序号"
RECATEGORIZE_USAGE = "改类 0042 类别 [紧急/不紧急]（类别如：物业、停车、电梯、噪音、绿化）"
RESOLVE_USAGE = "办结 0042 处理说明"
RATE_USAGE = "评价 0042 满意｜基本满意｜不满意 [意见]"
PROGRESS_USAGE = "进度 0042"
TICKETS_USAGE = "工单 [0042]"
NOT_ISSUE_USAGE = "不是问题 [0042]"
HOTLINE_USAGE = "热线 0042 12345工单号"
SUPERVISE_USAGE = "督办 0042 [说明]"

SUMMARY_REPORT = "登记一个问题，转给支部处理"
SUMMARY_ASSIGN = "把工单派给物业、网格员、楼长、业委会或社区"
SUMMARY_TRANSFER = "把工单转给其他人办理"
SUMMARY_NOTE = "给工单加备注"
SUMMARY_AGENDA = "把工单列入下次小区议事日（四定议事）"
SUMMARY_DISCUSSION_DAY = "查看或设定下次小区议事日"
SUMMARY_MERGE = "合并重复的工单"
SUMMARY_SPLIT = "把误合并的反映拆成新工单"
SUMMARY_RECATEGORIZE = "更改工单类别或紧急程度"
SUMMARY_RESOLVE = "承办人办结工单，请居民确认评价"
SUMMARY_RATE = "评价已办结的工单"
SUMMARY_PROGRESS = "查询工单进度"
SUMMARY_MY = "查看我反映和承办的工单"
SUMMARY_TICKETS = "本小区未办结工单（超期在前）；加编号看详情"
SUMMARY_NOT_ISSUE = "撤销误登记的工单"
SUMMARY_HOTLINE = "记录工单也打过12345热线"
SUMMARY_SUPERVISE = "督办工单（社区）"

# ---------------------------------------------------------------- errors
BAD_REF = "工单编号不对。请写编号，如 0042 或 阳光花园-0042。用法：{usage}"
NOT_FOUND = "没有找到工单 {ref}，请核对编号（发送“工单”查看本小区工单）。"
AMBIGUOUS = "有多个小区都有工单 {ref}：{codes}。请写全编号，如 {example}。"
NEED_COMPOUND = "请先确认您所在的小区：在小区群里发送，或写上小区名，如“报事 阳光花园 3号楼楼道灯坏了”。"
NO_RIGHT_HANDLE = "抱歉，您不是{compound}的支部书记、网格员或社区工作人员，不能处理该小区的工单。"
NO_RIGHT_RESOLVE = "抱歉，只有{compound}的支部书记、网格员、社区工作人员或该工单的承办人可以{action}。"
NO_RIGHT_VIEW = "抱歉，您只能查询自己反映或承办的工单。"
NO_RIGHT_NOT_ISSUE = "只有反映人或支部书记可以撤销工单。"
NOT_ISSUE_OTHERS = "该工单还有其他{count}位居民反映，不能由您撤销；如有误请联系支部书记。"
NOT_ISSUE_NONE = "没有找到您最近反映的工单。请写编号：不是问题 0042"
NO_RIGHT_RATE = "只有反映这个问题的居民可以评价工单 {code}。"
STATE_CLOSED = "工单 {code} 已完结，不需要再{action}。"
STATE_RESOLVED = "工单 {code} 已办结，正在等居民确认；如居民不满意会自动重新打开。"
NOT_REOPENABLE = "工单{code}目前“{state}”，只有已办结或已完结的工单可以重新打开。"
STATE_REJECTED = "工单 {code} 已确认不是问题并关闭。"
STATE_MERGED = "工单 {code} 已并入 {target}，请处理 {target}。"
NOT_RATABLE = "工单 {code} 现在不需要评价（{state}）。"
ALREADY_RATED = "您已经评价过工单 {code}（{rating}），谢谢！"
NOTHING_TO_RATE = "您目前没有待评价的工单。"
RATE_WHICH = "您有{count}件待评价的工单：{codes}。请写明编号，如“评价 {example} 满意”。"
UNKNOWN_CATEGORY = "没有“{word}”这个类别。可选：{labels}"
SAME_CATEGORY = "工单 {code} 已经是“{label}”类了。"
MERGE_SAME = "不能把工单合并到它自己。"
MERGE_OTHER_COMPOUND = "只能合并同一小区的工单。"
MERGE_TARGET_STATE = "目标工单 {code} 已{state}，不能再并入。"
SPLIT_ONLY_ONE = "工单 {code} 只有一位反映人，不需要拆分。"
SPLIT_FIRST = "第1位反映人是工单 {code} 的发起人，不能拆出；可以拆出其他反映人。"
SPLIT_WHO = "工单 {code} 中没有找到反映人“{who}”。反映人：{names}"
UNKNOWN_ASSIGNEE = "没有找到“{who}”。请写：物业、网格员、楼长、业委会、社区，或本小区登记过的人员姓名。"
UNKNOWN_ASSIGNEE_NAMED = "{compound}没有名为“{name}”的{kind}。"
TEXT_TOO_LONG = "内容太长了，请控制在{limit}字以内。"
HOTLINE_BAD_NO = "12345工单号不对：请写热线系统里的工单号（字母、数字或“-”，4–40位）。"
HOTLINE_TAKEN = "12345工单号 {order_no} 已关联到工单 {code}。"
NO_RIGHT_SUPERVISE = "只有社区或区级工作人员可以督办工单。"

# ---------------------------------------------------------------- intake
ACK_GROUP = "收到，已转支部处理：工单 {short}（{what}）。查进度请发“进度 {num}”。"
ACK_PRIVATE = (
    "您反映的问题已记录为工单 {code}（{what}），已转{compound}党支部处理。\n"
    "原话：{text}\n查进度请发“进度 {num}”；如登记有误，请回复“不是问题 {num}”。"
)
ACK_MERGED = "这个问题已有人反映，已合并到工单 {short}，已有{count}位居民反映，支部正在跟进。"
ACK_MERGED_PRIVATE = "您反映的问题与工单 {code}（{what}）相同，已合并，已有{count}位居民反映，支部正在跟进。"
ACK_REPEAT = "您反映的问题已在工单 {short} 中（{state}），不用重复反映，有进展会通知您。"
# Sent in the same breath as the alerts, before they are delivered: say so, never "已通知".
URGENT_GROUP = "正在通知{who}（工单 {short}）。如有危险请先拨打119/120/110，注意安全！"
URGENT_WHO_FALLBACK = "社区工作人员"

URGENT_ALERT = (
    "【紧急】{code} {what}\n反映人：{reporter}{where}\n原话：{text}\n"
    "请立即处理！派单请回复“派单 {num} 物业/网格员/…”，处理完回复“办结 {num} 说明”。"
)
NEW_TICKET = (
    "【新工单】{code} {what}\n反映人：{reporter}{where}\n{address}原话：{text}\n"
    "首次响应期限：{due}\n请回复：派单 {num} 物业｜网格员｜楼长｜业委会｜社区；议事 {num}；"
    "不是问题 {num}"
)
WHERE_GROUP = "（{group}）"
WHERE_PRIVATE = "（私聊）"

# ---------------------------------------------------------------- handling
ASSIGNED_OK = "工单 {code} 已派给{label}，办结期限 {due}。"
TRANSFERRED_OK = "工单 {code} 已转给{label}，办结期限 {due}。"
ASSIGN_NOBODY = "（{label}还没有登记联系人，请线下通知对方。）"
ASSIGNED_TELL = (
    "【派单】{by}把工单 {code} 交给您办理：\n{what}\n原话：{text}\n反映人数：{count}\n{extra}"
    "办结期限：{due}\n有进展直接回复我即可（如“明天上午安排师傅去换”），会记入工单并告知反映人；"
    "处理完请回复“办结 {num} 处理说明”；需他人办理可“转办 {num} 对象”。"
)
ASSIGNED_EXTRA = "说明：{note}\n"
REPORTER_ASSIGNED = "您反映的问题（工单 {code}）已交给{label}办理，有进展会通知您。"
NOTE_OK = "已给工单 {code} 加上备注。"
NOTE_TELL = "工单 {code} 有新备注（{by}）：{note}"
REJECTED_OK = "工单 {code} 已确认不是问题并关闭，谢谢指正，我会改进识别。"
REJECTED_TELL = "工单 {code} 已由{by}确认不是问题并撤销，不用再办理。"
RECATEGORIZED_OK = "工单 {code} 已改为“{label}”{urgent}，办结期限 {due}。"
MERGED_OK = "已把工单 {source} 并入 {target}，现有{count}位居民反映。"
MERGED_TELL = "您反映的问题（工单 {source}）与工单 {target} 相同，已合并处理，有进展会通知您。"
SPLIT_OK = "已把{name}的反映从工单 {source} 拆出，新工单 {target}（{what}）。"
HOTLINE_OK = "已记录：工单 {code} 也反映到了12345热线（工单号 {order_no}）。"
SUPERVISE_OK = "已督办工单 {code}，正在通知{who}。"

RESOLVED_OK = "工单 {code} 已办结，正在请{count}位反映人确认评价。"
RESOLVED_TELL_SECRETARY = "工单 {code} 已由{by}办结：{note}"
CONFIRM_ASK = (
    "您反映的问题（工单 {code}，{what}）已办结：{note}\n"
    "请回复“满意”“基本满意”或“不满意”。{days}天内未回复视为已解决。"
)
CONFIRM_ASK_GROUP = (
    "工单 {short}（{what}）已办结：{note}\n"
    "请反映的邻居回复“满意”“基本满意”或“不满意”。{days}天内未回复视为已解决。"
)
RATED_THANKS = "谢谢您的评价（{rating}）！工单 {code} 已完结。"
RATED_WAIT = "谢谢您的评价（{rating}）！"
REOPENED_REPLY = "抱歉没有处理好。工单 {code} 已重新打开，支部会继续跟进。"
REOPENED_TELL = "【重新打开】工单 {code}（{what}）居民不满意{comment}，请继续办理，新的办结期限 {due}。"

# ---------------------------------------------------------------- deadlines
SUPERVISE_TELL = (
    "【督办】{code} {what}\n原因：{reason}\n状态：{state}{assignee}\n登记于 {created}，反映人数 {count}。"
    "请督促跟进。"
)
REASON_RESPONSE_OVERDUE = "超过首次响应期限（{due}）仍未受理"
REASON_RESOLVE_OVERDUE = "超过办结期限（{due}）仍未办结"
REASON_SECOND_REOPEN = "居民第{count}次不满意，工单再次重开"
REASON_MANUAL = "{by}督办：{note}"

# ---------------------------------------------------------------- queries
MY_NONE = "您目前没有反映或承办的工单。遇到问题直接在群里说，或发“报事 问题描述”。"
MY_REPORTED = "您反映的工单："
MY_ASSIGNED = "您承办的工单："
MY_LINE = "· {code} {what} — {state}"
LIST_HEADER = "{scope}未办结工单 {total} 件，超期 {overdue} 件："
LIST_NONE = "{scope}目前没有未办结的工单。"
LIST_LINE = "{flag}{code} {what}“{excerpt}” — {state}{assignee}{due}"
LIST_EXCERPT = 16  # characters of the report shown under each line of 工单
LIST_MORE = "……另有{count}件，请在管理后台查看。"
FLAG_SUPERVISED = "【督办】"
FLAG_OVERDUE = "【超期】"
FLAG_URGENT = "【紧急】"
DUE_OVERDUE = "，已超期{ago}"
DUE_LEFT = "，{left}后到期"
DUE_SEP = "，"
DUE_RESPOND = "，{left}内须响应"  # an urgent ticket nobody has answered yet
DUE_RESPONSE_OVERDUE = "，响应已超时{ago}"

DETAIL = (
    "工单 {code}：{what}\n状态：{state}{assignee}\n反映人数：{count}{reporters}\n"
    "登记：{created}{channel}\n{deadlines}{extra}原话：{text}"
)
DETAIL_ADDRESS = "反映人住址：{address}（原话未写地点）\n"
DETAIL_MEDIA = "附件：{count}个（{kinds}），在管理后台查看\n"
DETAIL_DEADLINES = "首次响应期限：{first}；办结期限：{resolve}\n"
DETAIL_DEADLINE_RESPOND = "首次响应期限：{first}{due}（响应后再定办结期限）\n"
DETAIL_DEADLINE_WAITING = "期限：{waiting}（议事日议定后再定办结期限）\n"
DETAIL_RESOLUTION = "办结说明：{note}\n"
DETAIL_SATISFACTION = "评价：{rating}\n"
DETAIL_HOTLINE = "12345工单号：{order_no}\n"
DETAIL_SUPERVISED = "已督办（{at}）\n"
DETAIL_REOPENED = "重新打开 {count} 次\n"
TIMELINE_HEADER = "处理记录："
TIMELINE_LINE = "{at} {who}{action}{change}{note}"
PROGRESS = "工单 {code}（{what}）：{state}{assignee}。\n{last}"
PROGRESS_LAST = "最新进展：{at} {action}{note}"
CHANNEL_LABELS = {"group": "（群聊）", "private": "（私聊）", "web": "（后台登记）", "hotline": "（12345热线）"}

# ---------------------------------------------------------------- agenda
AGENDA_OK = (
    "已把工单 {code} 列入{compound}小区议事日：\n"
    "定时间：{when}{place}\n定议题：{topic}\n定范围：{scope}\n定责任：{owner}\n"
    "议事后发“议定 {num} 结果 …”记下议定结果，责任人和反映人会收到通知。"
)
AGENDA_ALREADY = "工单 {code} 已在 {when} 的议事日议程中。"
AGENDA_TELL = "【议事】工单 {code} 已列入 {when}{place} 的小区议事日，议题：{topic}。您负责跟进（定责任）。"
DAY_NONE = "{compound}还没有安排下次议事日。设定：{usage}"
DAY_HEADER = "{compound}下次议事日：{when}{place}\n议程（{count}项）："
DAY_EMPTY = "暂无议题。用“议事 0042”把工单列入议程。"
DAY_ITEM = "{index}. {topic}（范围：{scope}；责任：{owner}）"
DAY_SET = "已设定{compound}小区议事日：{when}{place}。"
DAY_BAD_TIME = "时间不对。用法：{usage}"
DAY_PAST = "议事日要在将来，请写以后的时间。"
DAY_REMIND = (
    "【明天议事】{compound}小区议事日 {when}{place}，议程：\n{items}\n"
    "议事后对每项发“议定 工单编号 结果 …”记下议定结果。"
)
PLACE = "，地点：{place}"
SCOPE_SECRETARY = "支部书记"
SCOPE_GRID = "网格员"
SCOPE_PROPERTY = "物业经理"
SCOPE_COMMITTEE = "业委会"
SCOPE_LEADER = "楼长"
SCOPE_COMMUNITY = "社区两委"
SCOPE_REPORTERS = "居民代表"

# ---------------------------------------------------------------- hotline import (CLI)
HOTLINE_IMPORT_DONE = "导入完成：新增 {created} 条，更新 {updated} 条，未匹配到小区 {unmatched} 条。"
HOTLINE_IMPORT_PROBLEMS = "导入失败，文件有问题（未写入任何数据）："
HOTLINE_MISSING_COLUMN = "{file}：缺少“{column}”列（可用表头：{accepted}）"
HOTLINE_BAD_DATE = "{file} 第{row}行：受理时间“{value}”看不懂（如 2026-12-01 09:30）"
HOTLINE_EMPTY_NO = "{file} 第{row}行：缺少工单号"
HOTLINE_BAD_FILE = "{file}：只能导入 .csv 或 .xlsx 文件"
HOTLINE_DUP_NO = "{file} 第{row}行：工单号 {order_no} 在文件中重复"

# ---------------------------------------------------------------- undelivered alerts
URGENT_ESCALATED = (
    "【紧急·转报】以下紧急通知{minutes}分钟内未能送达{who}，请您立即处理或联系对方：\n{alert}"
)
URGENT_ESCALATED_NOBODY = "无人可转报"

# ---------------------------------------------------------------- talk: roster address, quotes,
# photos, recalls, assignees' plain replies
REPORTER_ADDRESS = "反映人住址：{address}（原话未写地点）\n"
ASK_LOCATION = "请问具体在哪栋楼、哪个位置？直接回复即可。"
LOCATED_OK = "好的，已把位置“{location}”补充到工单 {short}。"
QUOTE_NOTED = "已把您的补充记到工单 {short}，支部和办理人会看到。"
QUOTE_REOPENED = "工单 {short} 已重新打开，已通知办理人继续处理。"
QUOTE_TICKET_GONE = "工单 {code} 已撤销或合并，请直接描述问题重新反映。"
FOLLOW_UP_TELL = "工单 {code} 有居民补充（{by}）：{note}"
MEDIA_KIND_LABELS = {"image": "照片", "video": "视频", "file": "文件"}
WITHDRAWN_OK = "您撤回了消息，工单 {code} 已撤销。如仍需反映，直接再说一遍即可。"
WITHDRAWN_NOTE = "反映人撤回了消息"
WITHDRAWN_TELL = "工单 {code}（{what}）的反映人撤回了消息，尚未处理，已自动撤销，不用再办理。"
RECALLED_NOTE = "反映人撤回了消息（工单已在处理中，未撤销）"
RECALLED_ACTED_TELL = (
    "工单 {code}（{what}）的反映人撤回了原消息，但工单已在处理中，未自动撤销。"
    "如确认不需要办理，请回复“不是问题 {num}”。"
)
ASSIGNEE_NOTED = "已记入工单 {code} 的进展，反映人会收到通知。"
ASSIGNEE_WHICH = "您手上有{count}件工单，这条进展是哪一件的？回复编号即可：\n{lines}"
ASSIGNEE_WHICH_LINE = "{num} {what}"
ASSIGNEE_WHICH_BAD = "编号不在您办理的工单中，请回复其中一个编号：{nums}"
REPORTER_PROGRESS = "您反映的问题（工单 {code}）有新进展：{note}"
REPORTER_TAKEN = "您反映的问题（工单 {code}）已有人接单。"
ASSIGNEE_ACKED = "好的，已记下您接单：工单 {codes}。有进展直接回复我，反映人会收到通知。"
ASSIGNEE_ACKED_AGAIN = "好的。有进展直接回复我，反映人会收到通知。"

# ---------------------------------------------------------------- civility nudge (劝导), private only
CIVILITY_ABUSIVE = (
    "【文明劝导】{group}里{time}有邻居说了过激的话。您是本群的党员，方便时请私下或在群里温和劝导，"
    "提醒大家有事好好说、有问题找支部。（此提醒只发给本群党员，助手不会在群里点名批评。）"
)
CIVILITY_QUARREL = (
    "【文明劝导】{group}里{time}前后有邻居在争吵，情绪比较激动。您是本群的党员，方便时请出面劝和，"
    "必要时约双方当面谈或联系支部调解。（此提醒只发给本群党员，助手不会在群里点名批评。）"
)
