"""Texts of notices (通知), collections (统计/接龙) and their delivery records."""

# ---------------------------------------------------------------- usage
USAGE_NOTICE = (
    "通知用法：\n"
    "· 通知 内容 — 发到本小区各群\n"
    "· 通知 3号楼 内容 — 发到该楼的群（没有楼栋群时私信该楼居民）\n"
    "· 通知 全社区 内容 / 通知 全区 内容 — 社区、区级工作人员使用\n"
    "· 定时 2026-12-01 09:00 通知 内容 — 定时发送\n"
    "· 通知 收集 议事日报名: 楼号 单元 人数 截止 12-05 18:00 — 收集回复（统计/接龙）\n"
    "· 通知列表 / 通知详情 编号 [未回复｜提醒楼长] / 撤回通知 编号 / 统计 编号"
)
USAGE_SCHEDULE = "定时用法：定时 2026-12-01 09:00 通知 内容（也可写“定时 明天 8:00 通知 内容”）"
USAGE_CANCEL = "撤回用法：撤回通知 编号（编号见“通知列表”）"
USAGE_DETAIL = "用法：通知详情 编号（编号见“通知列表”）；通知详情 编号 未回复 / 通知详情 编号 提醒楼长"
USAGE_COLLECTION = (
    "收集用法：通知 收集 标题: 字段1 字段2 … 截止 12-05 18:00\n"
    "例如：通知 收集 议事日报名: 楼号 单元 人数 截止 12-05 18:00\n"
    "可在第二行起写说明。居民直接回复“3号楼2单元 2人”即可。"
)
SUMMARY_LIST = "查看通知；发布用“通知 内容”，定时、收集见“通知”用法"

# ---------------------------------------------------------------- errors
NOT_STAFF = "只有支部书记、社区或区级工作人员可以发布通知。"
EMPTY = "通知内容不能为空。\n" + USAGE_NOTICE
TOO_LONG = "通知太长了（{length}字），请控制在{limit}字以内，或分成几条发送。"
NO_COMPOUND = "请在已绑定小区的群里发送，或写明范围，例如“通知 阳光花园 内容”。"
NOT_YOUR_COMPOUND = "您不是“{compound}”的支部书记或工作人员，不能向该小区发通知。"
NOT_COMMUNITY = "“全社区”通知需要社区工作人员身份。"
NOT_DISTRICT = "“全区”通知需要区级工作人员身份。"
BUILDING_NEEDS_ONE_COMPOUND = "按楼发送时请只选一个小区（在小区群里发送，或写“通知 小区名 3号楼 内容”）。"
UNKNOWN_BUILDING = "“{compound}”没有{building}号楼。已登记的楼：{known}"
NO_TARGETS = "没有可以发送的对象：{label}还没有绑定的群{extra}。"
NO_TARGETS_BUILDING = "，该楼也没有登记了微信的居民"
BAD_TIME = "时间“{text}”看不懂。请写成“2026-12-01 09:00”或“12-01 9:00”。"
TIME_PAST = "定时时间 {when} 已经过去了，请写一个将来的时间。"
TIME_TOO_FAR = "定时最多提前{days}天。"
SCHEDULE_NEEDS_NOTICE = "定时时间后面请接“通知 内容”。\n" + USAGE_SCHEDULE
NO_DRAFT = "您没有待确认的通知。"
DRAFT_EXPIRED = "通知#{id}的确认已超时（{minutes}分钟内有效），请重新发送。"
NOT_FOUND = "没有找到通知#{id}。发送“通知列表”查看编号。"
NOT_AUTHOR = "通知#{id}不是您发布的，不能操作。"
ALREADY_SENT = "通知#{id}已全部发出，微信消息无法撤回。如需更正，请再发一条通知说明。"
ALREADY_DONE = "通知#{id}已{state}，无需撤回。"

# ---------------------------------------------------------------- flow
PREVIEW = (
    "【通知预览 #{id}】将发送到{count}个{unit}（{targets}）{when}：\n"
    "————————\n{body}\n————————\n"
    "确认无误请回复“确认”（{minutes}分钟内有效）；不发请回复“撤回通知 {id}”。"
)
PREVIEW_WHEN = "，定时 {when}"
PREVIEW_MORE = "等"
SENT_NOW = "通知#{id}已提交发送：{count}个{unit}（{targets}）。发送情况见“通知详情 {id}”。"
SCHEDULED = "通知#{id}已定时：{when} 发送到{count}个{unit}（{targets}）。如需取消请回复“撤回通知 {id}”。"
CANCELLED = "通知#{id}已撤回，不会发送。"
CANCELLED_PARTLY = "通知#{id}已停止发送：已发出{sent}个，剩余{stopped}个不再发送（已发出的微信消息无法撤回）。"
MISSED_TO_AUTHOR = "通知#{id}原定{when}发送，但当时系统未运行，已超过{hours}小时，未发送。如仍需发送请重新发布。"
UNIT_GROUP = "群"
UNIT_PERSON = "人"

# What residents see.
HEADER_COMPOUND = "【{compound}党支部通知】"
HEADER_COMMUNITY = "【{community}通知】"
HEADER_DISTRICT = "【通知】"
ACK_HINT = "（收到请回复“收到”）"

# ---------------------------------------------------------------- records
DELIVERY_REPORT = "通知#{id}发送完成：成功{sent}个，失败{failed}个。{failures}"
DELIVERY_FAILURE_LINE = "\n· {label}：{error}"
DETAIL = (
    "通知#{id}（{state}）{scope}\n"
    "发布：{author} {created}{when}\n"
    "内容：{preview}\n"
    "发送：成功{sent}，失败{failed}，待发{pending}{cancelled}\n"
    "收到回复：{acks}人{per_group}{failures}"
)
DETAIL_CANCELLED = "，已取消{count}"
DETAIL_WHEN = "，定时 {when}"
DETAIL_GROUP_ACKS = "\n{lines}"
DETAIL_GROUP_ACK_LINE = "· {label}：{status}，收到{acks}人"
DETAIL_FAILURE_LINE = "\n· 失败 {label}：{error}"
DETAIL_MORE_FAILURES = "\n……另有{count}个失败，完整记录见管理后台"
LIST_HEADER = "通知（最近{count}条）："
LIST_EMPTY = "还没有通知。发送“通知 内容”发布第一条。"
LIST_LINE = "#{id} [{state}] {scope} · {preview}{extra}"
LIST_EXTRA_SENT = " · 送达{sent}/{total} · 收到{acks}人"
LIST_EXTRA_COLLECTION = " · 回复{answers}条"

STATE_LABELS = {
    "draft": "待确认",
    "scheduled": "已定时",
    "sent": "已发送",
    "cancelled": "已撤回",
    "expired": "未确认已作废",
    "missed": "错过时间未发送",
}
DELIVERY_LABELS = {"pending": "待发送", "sent": "已送达", "failed": "失败", "cancelled": "已取消"}
UNKNOWN_ERROR = "原因不明"

# ---------------------------------------------------------------- collections
COLLECTION_BODY = "【{title}】\n{description}请直接回复：{fields}\n例如：{example}{deadline}\n（重复回复以最后一次为准）"
COLLECTION_DEADLINE = "\n截止时间：{when}"
COLLECTION_BAD_SPEC = "收集的格式不对。\n" + USAGE_COLLECTION
COLLECTION_NO_FIELDS = "请写出需要回复的内容，例如“议事日报名: 楼号 单元 人数”。\n" + USAGE_COLLECTION
COLLECTION_TOO_MANY_FIELDS = "需要回复的项目最多{limit}个。"
COLLECTION_DEADLINE_PAST = "截止时间 {when} 已经过去了。"
ANSWER_OK = "已登记（{title}）：{values}"
ANSWER_UPDATED = "已更新您的登记（{title}）：{values}。以最后一次为准。"
ANSWER_PARTIAL = "已登记（{title}）：{values}。还差{missing}，{ask}"
ANSWER_ASK = "请回复补上，例如：{example}"
ANSWER_ASK_ROSTER = "名册上您家是{hint}，对的话直接回复“{hint}”即可。"
ANSWER_FORMAT = "没看懂您的登记（{title}）。请按格式回复：{fields}，例如：{example}"
ANSWER_CLOSED = "“{title}”已于{when}截止，未能登记。如有需要请联系{author}。"
REMINDER = "【提醒】“{title}”将于{when}截止，本群还没有人回复。请需要的邻居按格式回复：{fields}，例如：{example}"
FINAL_TO_AUTHOR = "“{title}”（通知#{id}）已截止。\n{tally}\n完整表格可在管理后台导出。"
TALLY_HEADER = "“{title}”（通知#{id}）{state}：共{answers}条回复{totals}"
TALLY_TOTAL = "，{field}合计{value}"
TALLY_LINE = "· {key}：{answers}条{totals}"
TALLY_LINE_TOTAL = "，{field}{value}"
TALLY_NO_BUILDING = "未填楼号"
TALLY_INCOMPLETE = "其中{count}条缺项待补（已请本人补充）"
TALLY_SILENT_GROUPS = "未回复的群：{groups}"
TALLY_OPEN = "进行中（截止 {when}）"
TALLY_OPEN_NO_DEADLINE = "进行中"
TALLY_CLOSED = "已截止"
TALLY_NONE = "您还没有发起过收集。发起方法：\n" + USAGE_COLLECTION
TALLY_NOT_COLLECTION = "通知#{id}不是收集类通知。"
EXPORT_HEADERS = ("序号", "姓名", "来源", "回复时间", "修改次数", "原话")
EXPORT_PRIVATE = "私聊"

# ---------------------------------------------------------------- acknowledgements / who has not replied
ACK_PRIVATE = "已记下：您收到了通知#{id}（{preview}）。谢谢！"
DETAIL_SILENT_HINT = "\n未回复：{count}人，发送“通知详情 {id} 未回复”查看名单"
USAGE_SILENT = "用法：通知详情 编号 未回复（查看名单）/ 通知详情 编号 提醒楼长（私信各楼长本楼名单）"
SILENT_HEADER = "通知#{id}（{preview}）未回复：{count}人（应回复{expected}人，已回复{replied}人）"
SILENT_NONE = "通知#{id}（{preview}）：名册上的{expected}人都已回复。"
SILENT_BUILDING = "· {building}（{count}人）：{names}"
SILENT_NO_BUILDING = "未登记楼号"
SILENT_MORE = "等{count}人"
SILENT_TAIL = "发送“通知详情 {id} 提醒楼长”可私信各楼长本楼未回复名单。"
LEADER_REMINDER = (
    "【未回复提醒】通知#{id}（{preview}）{building}还有{count}人未回复：{names}。"
    "请您方便时提醒一下，谢谢！"
)
LEADERS_REMINDED = "已私信{count}位楼长本楼未回复名单：{leaders}"
LEADERS_NONE_REMINDED = "没有可提醒的楼长。"
LEADERS_ORPHANS = "\n以下楼栋没有登记楼长，请另行提醒：{buildings}"
EXPORT_SILENT_SHEET = "未回复"
EXPORT_SILENT_HEADERS = ("楼号", "单元", "房号", "姓名")
