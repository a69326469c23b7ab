"""Texts of the discussion day's side of tickets: waiting for the meeting, the reminder to
everyone concerned, and the outcome (议定) that flows back to the ticket."""

WAITING = "待议事日 {when}"  # a ticket on the agenda: its deadline is the meeting
REMIND_ITEMS = "【明天议事】{compound}小区议事日 {when}{place}，与您有关的议程：\n{items}"
REMIND_REPORTER = (
    "【明天议事】您反映的问题（工单 {code}：{excerpt}）将在 {when}{place} 的小区议事日上商议，"
    "欢迎参加并发表意见。"
)
OUTCOME_USAGE = "议定 0042 结果 内容 [责任 姓名或物业/网格员…] [期限 12月20日]"
SUMMARY_OUTCOME = "记下议事日对工单的议定结果（定责任、期限），通知各方和反映人"
OUTCOME_OK = "已记下工单 {code} 的议定结果：{outcome}；责任：{owner}；期限：{due}。已通知{count}人。"
OUTCOME_TELL = "【议事结果】工单 {code}（{topic}）议定：{outcome}。责任：{owner}，期限：{due}。"
OUTCOME_REPORTER = "【议事结果】您反映的问题（工单 {code}）议事日议定：{outcome}。由{owner}负责，期限 {due}。"
OUTCOME_NO_ITEM = "工单 {code} 不在议事日议程中。先用“议事 {num}”列入议程。"
OUTCOME_NEED_TEXT = "请写明议定结果，例如：" + OUTCOME_USAGE
OUTCOME_BAD_DUE = "期限“{text}”看不懂，请写成“12月20日”或“12-20 18:00”。"
OUTCOME_DUE_PAST = "期限要在将来。"
