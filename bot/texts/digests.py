"""Texts of the digests (daily to secretaries, weekly to community committees) and of the
monthly property complaint ranking (投诉量前30名)."""

# ---------------------------------------------------------------- daily digest (secretary)
DAILY_HEADER = "【{compound}每日简报】{date}"
DAILY_NEW = "新报事{count}件（{since}以来）{lines}"
DAILY_NEW_NONE = "新报事：无（{since}以来）"
DAILY_OPEN = "在办{total}件：{states}"
DAILY_OPEN_NONE = "在办：无"
DAILY_STATE = "{label}{count}"
DAILY_OVERDUE = "超期{count}件（最久的在前）：{lines}"
DAILY_URGENT = "紧急{count}件：{lines}"
DAILY_RESOLVED = "办结{count}件{satisfaction}"
DAILY_RESOLVED_NONE = "办结：无"
DAILY_SATISFACTION = "，评价{rated}件，满意率{rate}%{unhappy}"
DAILY_UNHAPPY = "，不满意{count}件待回访"
DAILY_WISHES = "微心愿：待认领{open}个{lines}{stale}"
OPEN_WISH_LINE = "\n· {number} {summary}（等了{days}天）"
DAILY_STALE = "，认领超过{days}天未兑现{count}个：{lines}"
DAILY_ALL_CLEAR = "今天没有需要处理的事项。"
DAILY_TAIL = "发送“工单”查看详情。"
TICKET_LINE = "\n· #{id} {summary}{extra}"
TICKET_OVERDUE_EXTRA = "（超期{age}）"
TICKET_STATE_EXTRA = "（{state}）"
DAILY_AGENDA = "待议事日{count}件（议事前不计超期）：{lines}"
TICKET_AGENDA_EXTRA = "（{when}议事）"
WISH_LINE = "\n· #{id} {summary}（{who}认领于{when}）"
MORE_LINES = "\n……另有{count}件"
AGE_DAYS = "{days}天"
AGE_HOURS = "{hours}小时"

# ---------------------------------------------------------------- weekly digest (community)
WEEKLY_HEADER = "【{community}周报】{start}—{end}"
WEEKLY_TOTALS = "本周新报事{new}件（上周{prev_new}件，{trend}），办结{resolved}件，在办{open}件，超期{overdue}件"
WEEKLY_TREND_UP = "增加{delta}件"
WEEKLY_TREND_DOWN = "减少{delta}件"
WEEKLY_TREND_SAME = "持平"
WEEKLY_HOTLINE = "12345热线工单：关联{linked}件，导入{imported}件"
WEEKLY_COMPOUNDS = "各小区（新报事/办结/在办/超期）："
WEEKLY_COMPOUND_LINE = "· {compound}：{new}/{resolved}/{open}/{overdue}{trend}"
WEEKLY_COMPOUND_TREND = "（较上周{sign}{delta}）"
WEEKLY_MOST_OVERDUE = "超期最多：{lines}"
WEEKLY_OVERDUE_ITEM = "{compound}{count}件"
WEEKLY_SATISFACTION = "满意率{rate}%（评价{rated}件）"
WEEKLY_NONE = "本周各小区没有新的报事。"

# ---------------------------------------------------------------- monthly property ranking
RANKING_HEADER = "【{month}物业服务项目投诉量排名】全区前{top}名（共{projects}个项目有投诉，投诉{total}件）："
RANKING_LINE = "{rank}. {project}（{company}，{compound}）{count}件{flag}"
RANKING_FLAGS = {
    "supervise": "",
    "replace_manager": " ⚠连续2个月：更换项目经理",
    "replace_company": " ⛔连续{months}个月：更换物业企业",
}
RANKING_RULES = (
    "按规定：列入前30名的项目纳入监管名单并约谈项目负责人；连续两个月进入前30名的更换项目经理；"
    "连续三个月进入前30名的更换物业服务企业。"
)
RANKING_NONE = "【{month}物业服务项目投诉量排名】本月没有物业类投诉。"
RANKING_COMMUNITY = "本社区上榜项目：{lines}"
RANKING_COMMUNITY_NONE = "本社区没有项目进入前{top}名。"
RANKING_COMMUNITY_LINE = "\n· 第{rank}名 {project}（{compound}）{count}件{flag}"
ACTION_LABELS = {"supervise": "监管名单", "replace_manager": "更换项目经理", "replace_company": "更换物业企业"}
