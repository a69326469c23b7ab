"""Texts of the social workers' visit lists and reminders (社工来敲门)."""

KIND_LABELS = {"daily": "日走访", "weekly": "周入户", "monthly": "月遍访"}
KIND_TARGET = {"daily": "重点点位", "weekly": "困难家庭", "monthly": "住户（楼栋/单元）"}

USAGE_ADD = (
    "用法：添加走访 类型 对象 [备注]\n"
    "类型：日走访（重点区域、场所、点位）、周入户（重点困难人群）、月遍访（所有住户，按楼栋或单元）\n"
    "例如：添加走访 周入户 3号楼2单元501 独居老人，腿脚不便"
)
USAGE_DONE = "用法：已走访 编号（可写多个，用空格隔开；编号见“走访名单”）"
USAGE_REMOVE = "用法：删除走访 编号"
BAD_KIND = "类型请写 日走访、周入户 或 月遍访。\n" + USAGE_ADD
NO_COMPOUND = "请在小区群里发送，或在对象前写小区名，例如“添加走访 日走访 阳光花园 菜市场东门”。"
NOT_ALLOWED = "您不是“{compound}”的社工、网格员或支部书记，不能维护该小区的走访名单。"
EMPTY_LABEL = "请写出走访对象。\n" + USAGE_ADD
TOO_LONG = "走访对象请控制在{limit}字以内，详情写在备注里。"
ADDED = "已加入{compound}{kind}名单：#{id} {label}"
DUPLICATE = "{compound}{kind}名单里已有“{label}”（#{id}）。"
REMOVED = "已从走访名单删除：#{id} {label}"
NOT_FOUND = "没有找到走访对象#{id}。发送“走访名单”查看编号。"
DONE = "已记录走访：{items}"
LIST_HEADER = "{compound}走访名单（{count}项）："
LIST_KIND = "【{kind}】"
LIST_LINE = "#{id} {label}{note}{last}"
LIST_LAST = "（上次 {when}）"
LIST_EMPTY = "{compound}还没有走访名单。\n" + USAGE_ADD
REMINDER_HEADER = "【{kind}提醒】{compound}{period}待走访{target}（{count}）："
REMINDER_PERIOD = {"daily": "今日", "weekly": "本周", "monthly": "本月"}
REMINDER_LINE = "{index}. #{id} {label}{note}"
REMINDER_MORE = "……另有{count}项，发送“走访名单”查看全部"
REMINDER_TAIL = "走访后回复“已走访 编号”记录。"
IMPORT_BAD_ROW = "第{row}行：{problem}"
IMPORT_MISSING_COLUMN = "缺少列“{column}”"
IMPORT_UNKNOWN_COMPOUND = "小区“{name}”不存在"
IMPORT_UNKNOWN_WORKER = "社工“{name}”不在名册中"
