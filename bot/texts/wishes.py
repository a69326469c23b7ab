"""Texts of micro-wishes (微心愿), volunteer posts (设岗定责) and service records.

Texts to a wisher are plain and warm: no codes they must understand, no jargon. (The wish
number appears only where they may answer with it.)
"""

TOO_LONG = "{what}太长了，请控制在{limit}个字以内。"

# ---------------------------------------------------------------- usages
WISH_USAGE = "微心愿 想找人帮忙修轮椅（地址、电话可以写在后面，只给认领的党员和支部书记看）"
ON_BEHALF_USAGE = "代发心愿 姓名 心愿内容，如：代发心愿 王奶奶 想找人帮忙修轮椅 地址：2号楼1单元101 电话：13800000000"
LIST_USAGE = "心愿 [3号楼 或 W12]"
CLAIM_USAGE = "认领 W12"
PROGRESS_USAGE = "心愿进度 W12 已联系上，周六上门"
DONE_USAGE = "完成 W12 [说明]"
CONFIRM_USAGE = "确认 W12 [公开]（或：确认心愿 W12）"
NOT_DONE_USAGE = "没办好 W12 原因"
GIVE_UP_USAGE = "放弃 W12 [原因]"
DETAILS_USAGE = "心愿补充 W12 地址、电话或情况"
CANCEL_USAGE = "取消心愿 W12"
POST_CREATE_USAGE = "设岗 楼道安全巡查员 职责：检查楼道杂物和消防通道 时间：每周六 9:00 人数：2"
SIGNUP_USAGE = "认岗 P3（或岗位名称）"
LEAVE_USAGE = "退岗 P3"
DUTY_USAGE = "到岗 [P3] [备注]"
CLOSE_POST_USAGE = "撤岗 P3"
# Short forms for the help list (the replies above give the full usage).
HELP_WISH = "微心愿 内容"
HELP_ON_BEHALF = "代发心愿 姓名 内容"
HELP_DETAILS = "心愿补充 W12 内容"
HELP_LIST = "心愿 [3号楼｜W12]"
HELP_PROGRESS = "心愿进度 W12 内容"
HELP_POST_CREATE = "设岗 岗位名 职责：… 时间：… 人数：…"
HELP_SIGNUP = "认岗 P3"
HELP_CONFIRM = "确认心愿 W12 [公开]"
WHICH_WISH = "请写上心愿编号。用法：{usage}\n您的心愿：{wishes}"

# ---------------------------------------------------------------- posting
POSTED_GROUP = (
    "已登记微心愿：{summary}\n"
    "地址、电话等只给认领的党员和支部书记看。党员发送“认领 {number}”即可认领。"
)
POSTED_PRIVATE = (
    "已登记您的微心愿：{summary}\n"
    "大家只能看到这一句；您写的地址、电话和情况只给来帮忙的党员和支部书记看。有人来帮您，我马上告诉您。"
)
POSTED_PRIVACY_TIP = "温馨提示：地址、电话下次可以私聊我发送“心愿补充 {number} 内容”，更安全。"
POSTED_ADD_CONTACT = "还可以私聊我发送“心愿补充 {number} 地址、电话”，方便来帮忙的人联系您。"
ON_BEHALF_OK = "已替{wisher}登记微心愿：{summary}\n有人认领、办好了，我都会告诉您，请帮忙转告{wisher}。"
NEW_WISH_TO_STAFF = "【新微心愿】{line}\n小区：{compound}，登记人：{poster}\n{private}"
PRIVATE_WHO = "对象：{name}"
PRIVATE_ADDRESS = "地址：{address}"
PRIVATE_PHONE = "电话：{phone}"
PRIVATE_DETAILS = "情况：{details}"
PRIVATE_NONE = "（没有留地址电话，可以请对方用“心愿补充”补上）"
DEADLINE_SHORT = "{date}前"
TEAM_SHORT = "需{want}人，已有{have}人"

ON_BEHALF_NOT_ALLOWED = "代发心愿需要社工、楼长、单元长、网格员或支部书记身份。居民请直接发送“微心愿 内容”。"
ON_BEHALF_NEEDS_NAME = "请写上是替谁发的。用法：" + ON_BEHALF_USAGE
EMPTY_SUMMARY = "请写上心愿内容。用法：" + WISH_USAGE
BAD_TEAM = "需要的人数请写1到{limit}之间的数字。"
BAD_DEADLINE = "截止日期看不懂，请写成“截止：12月20日”或“截止：2026-12-20”。"
DEADLINE_PAST = "截止时间已经过了，请写一个以后的日期。"
TOO_MANY_OPEN = "您已经有{limit}个心愿在进行中了，等它们办好后再发新的吧。"
NEED_COMPOUND = "请在本小区的群里发送，或先联系支部书记登记您所在的小区。"

# ---------------------------------------------------------------- reading
LIST_HEADER = "{where}待认领的微心愿（{count}个）："
LIST_EMPTY = "{where}目前没有待认领的微心愿。"
LIST_MORE = "……还有{n}个，发送“心愿 3号楼”可以按楼查看。"
LIST_TAIL = "党员发送“认领 编号”即可认领，如：认领 {number}"
DETAIL = "{line}\n状态：{state}{helpers}\n登记时间：{date}"
DETAIL_HELPERS = "；在办：{names}"
DETAIL_PRIVATE_SENT = "（详细信息已私聊发给您）"
DETAIL_TIMELINE = "经过："
DETAIL_TIMELINE_LINE = "· {at} {who}{what}{note}"
TIMELINE_ACTIONS = {
    "posted": "登记", "claimed": "认领", "progress": "进展", "done": "标记办好", "not_done": "说还没办好",
    "confirmed": "确认办好", "gave_up": "放弃", "released": "超时放回", "cancelled": "撤回",
    "expired": "过期", "details_added": "补充信息",
}
MY_WISHES_NONE = "您还没有发过或认领过微心愿。发送“微心愿 内容”发一个，党员发送“心愿”看看谁需要帮忙。"
MY_WISHES_POSTED = "我发的心愿："
MY_WISHES_HELPING = "我在帮的心愿："
MY_WISHES_LINE = "· {line}【{state}】"

UNKNOWN_WISH = "没有找到微心愿 {number}，请核对编号。发送“心愿”查看待认领的心愿。"
NOT_OWNER = "只有发这个心愿的人或支部书记可以这样操作微心愿 {number}。"
WISH_CLOSED = "微心愿 {number} {state}，不能再这样操作了。"

# ---------------------------------------------------------------- claiming
CLAIM_CHAT_ONLY = "请在微信里操作。"
CLAIM_NOT_MEMBER = (
    "认领微心愿需要“{compound}”的党员或志愿者身份，这样邻居才放心。"
    "党员请先发送“亮身份 党员 楼号单元”登记，支部书记确认后就能认领。"
)
CLAIM_PENDING_REQUEST = "您的身份申请 {number} 还在等支部书记确认，确认后就可以认领心愿了。"
CLAIM_OWN_WISH = "这是您自己的心愿，不能自己认领哦。"
CLAIM_ALREADY_YOURS = "您已经认领了微心愿 {number}。"
CLAIM_TAKEN = "慢了一步：微心愿 {number} 已经由{names}认领了。发送“心愿”看看还有哪些心愿等人帮忙。"
CLAIM_OK_GROUP = "{name}认领了微心愿 {number}：{summary}，谢谢！详细信息已私聊发给{name}。"
CLAIM_TEAM_LEFT = "（还差{n}人，欢迎一起）"
CLAIMER_BRIEF = (
    "您认领了微心愿 {number}：{summary}\n{private}\n"
    "请尽快联系对方。有进展发“心愿进度 {number} 内容”，办好后发“完成 {number}”；"
    "实在来不了请发“放弃 {number}”，我们再找人。"
)
CLAIMED_TO_WISHER = "{wisher}您好！您的心愿“{summary}”有人来帮您了：{helper}{helper_desc}，会尽快和您联系。有什么变化我再告诉您。"
CLAIMED_TO_POSTER = "您替{wisher}发的心愿“{summary}”有人认领了：{helper}{helper_desc}，会尽快联系。麻烦您转告{wisher}。"


def helper_desc(building: str | None) -> str:
    """Who the helper is, in neighbours' words."""
    return f"（咱们小区的党员志愿者，住{building}号楼）" if building else "（咱们小区的党员志愿者）"


NOT_YOUR_CLAIM = "您没有在办微心愿 {number}。"

# ---------------------------------------------------------------- progress, done, confirm
PROGRESS_EMPTY = "请写上进展内容。用法：" + PROGRESS_USAGE
PROGRESS_OK = "已记下进展，也告诉了对方。"
PROGRESS_TO_WISHER = "{wisher}您好，帮您办“{summary}”的{helper}说：{note}"
PROGRESS_TO_POSTER = "您替{wisher}发的心愿“{summary}”有新进展，{helper}说：{note}"
DONE_DEFAULT_NOTE = "已办好"
DONE_OK = "已记下：微心愿 {number} 办好了，对方确认后记入您的服务记录。辛苦了！"
DONE_TO_WISHER = (
    "{wisher}您好，{helper}说您的心愿“{summary}”已经办好了{note}。\n"
    "如果办好了，请回复“确认 {number}”；还没办好，请回复“没办好 {number}”，我们接着帮您。\n"
    "愿意让我们在群里谢谢帮您的人，就回复“确认 {number} 公开”。"
)
DONE_TO_POSTER = (
    "您替{wisher}发的心愿“{summary}”，{helper}说已经办好了{note}。请向{wisher}核实后回复“确认 {number}”"
    "（{wisher}同意在群里公开感谢的话，回复“确认 {number} 公开”）；没办好请回复“没办好 {number} 原因”。"
)
DONE_TO_TEAM = "{helper}把微心愿 {number}“{summary}”标记为办好了，正在等对方确认。"
CONFIRM_OWN_WORK = "微心愿 {number} 是您帮忙办的，请由对方或支部书记来确认。"
DONE_TO_STAFF = "微心愿 {number}“{summary}”{helper}说已经办好了，对方不在微信里。请核实后回复“确认 {number}”，或“没办好 {number} 原因”。"
CONFIRM_NOT_DONE = "微心愿 {number} 还没有人标记办好，办好后才能确认。"
CONFIRM_OK = "谢谢您的确认！帮您的人会收到您的认可。"
CONFIRM_OK_PUBLIC = "谢谢您的确认！我们会在群里谢谢帮您的人。"
CONFIRM_OK_STAFF = "已确认微心愿 {number} 办好，已为{n}位党员记入服务记录。"
CONFIRMED_TO_CLAIMER = "微心愿 {number}“{summary}”对方已确认办好，记入您的服务记录 +{points}分。谢谢您！"
THANKS_IN_GROUP = "【微心愿实现】“{summary}”已经办好啦，感谢{who}的热心帮助！有事找支部，邻里一家亲。"
UNNAMED_HELPERS = "{n}位不愿留名的党员志愿者"
NOT_DONE_DEFAULT = "还没办好"
NOT_DONE_OK = "知道了，已经告诉帮您的人，他们会接着办。"
NOT_DONE_WRONG_STATE = "微心愿 {number} 现在是“{state}”，不需要这样操作。"
NOT_DONE_TO_CLAIMER = "微心愿 {number}“{summary}”对方说还没办好：{reason}。请再联系一下，办好后再发“完成 {number}”。"

# ---------------------------------------------------------------- give up, release, cancel
GIVE_UP_OK = "已放弃微心愿 {number}，它回到了待认领列表。谢谢您如实告诉我们。"
# Say what happened, nothing more: the bot does not know why a helper went quiet.
RELEASED_TO_WISHER = (
    "{wisher}您好，认领您心愿“{summary}”的{helper}已经{days}天没有更新进展，心愿已重新开放，"
    "我们正在另找人帮您，有人认领会告诉您。"
)
GAVE_UP_TO_WISHER = "{wisher}您好，{helper}告诉我们暂时帮不了您的心愿“{summary}”，心愿已重新开放，我们正在另找人帮您。"
RELEASED_TO_POSTER = "您替{wisher}发的心愿“{summary}”，认领的{helper}已经{days}天没有更新进展，已重新开放，我们正在另找人。"
GAVE_UP_TO_POSTER = "您替{wisher}发的心愿“{summary}”，{helper}表示暂时帮不了，已重新开放，我们正在另找人。"
RELEASED_TO_CLAIMER = (
    "微心愿 {number}“{summary}”已经{days}天没有进展，已放回待认领列表，让其他党员来帮忙。"
    "如果您其实在办，可以重新发送“认领 {number}”。"
)
RELEASE_NOTE = "{days}天没有进展，自动放回"
STALE_REMINDER = (
    "提醒：您认领的微心愿 {number}“{summary}”已经{days}天没有进展了。"
    "有进展请发“心愿进度 {number} 内容”，办好了发“完成 {number}”，来不了发“放弃 {number}”。"
    "再过{left}天没有进展，它会放回待认领列表。"
)
EXPIRED_TO_WISHER = "{wisher}您好，您的心愿“{summary}”到了截止时间还没有人认领，先结束了。还需要帮忙的话，可以再发一次，或直接找支部书记。"
EXPIRED_TO_POSTER = "您替{wisher}发的心愿“{summary}”到了截止时间还没有人认领，先结束了。还需要的话可以再发一次。"
CONFIRM_REMINDER_TO_STAFF = "微心愿 {number}“{summary}”标记办好已经{days}天，还没有人确认。请核实后回复“确认 {number}”，或“没办好 {number} 原因”。"
CANCEL_OK = "已撤回微心愿 {number}。"
CANCELLED_TO_CLAIMER = "微心愿 {number}“{summary}”已经撤回，不用再办了，谢谢您！"
DETAILS_OK = "已补充微心愿 {number} 的信息，只有认领的党员和支部书记能看到。"
DETAILS_EMPTY = "请写上要补充的内容。用法：" + DETAILS_USAGE
DETAILS_TO_CLAIMER = "微心愿 {number}“{summary}”补充了信息：\n{private}"

# ---------------------------------------------------------------- volunteer posts
SCHEDULE_BAD_TIME = "时间看不懂，请写成“每周六 9:00”或“每天 8:00-9:00”。"
SCHEDULE_NEEDS_TIME = "请写上几点，如“每周六 9:00”。"
SCHEDULE_UNREADABLE = "时间看不懂，请写成“每周六 9:00”、“工作日 19:00”或“每天 8:00-9:00”；没有固定时间写“随时”。"
SCHEDULE_END_BEFORE_START = "结束时间要晚于开始时间，如“每天 8:00-9:00”。"
SCHEDULE_NONE = "不固定"
POST_CREATED = (
    "已设岗 {number}：{name}\n职责：{duties}\n时间：{schedule}\n人数：{capacity}\n"
    "党员发送“认岗 {number}”即可认岗。"
)
CAPACITY_ANY = "不限"
DUTIES_NONE = "按支部安排"
POST_UNKNOWN = "没有找到岗位 {ref}。发送“岗位”查看本小区的岗位。"
POST_BAD_NAME = "岗位名称不能为空，不要超过{limit}个字，也不能只是编号。用法：" + POST_CREATE_USAGE
POST_BAD_CAPACITY = "人数请写1到{limit}之间的数字。"
POST_EXISTS = "已经有岗位“{name}”（{number}）了。"
POST_CLOSED_OK = "已撤销岗位“{name}”，在岗的党员已收到通知。"
POST_CLOSED_TO_HOLDER = "岗位“{name}”已撤销，感谢您的付出！"
POST_NOT_MEMBER = "认岗需要“{compound}”的党员或志愿者身份。党员请先发送“亮身份 党员 楼号单元”登记。"
POST_ALREADY = "您已经在“{name}”岗位上了。"
POST_FULL = "“{name}”岗位已经满了（{capacity}人），可以看看其他岗位。"
POST_NOT_HELD = "您不在“{name}”岗位上。发送“岗位”查看，发送“认岗 编号”认岗。"
SIGNUP_OK = (
    "已认岗：{name}（{number}）\n职责：{duties}\n时间：{schedule}\n"
    "值守前我会提醒您，完成后发“到岗 {number}”记录。谢谢您！"
)
LEAVE_OK = "已退出岗位“{name}”，谢谢您的付出！"
DUTY_NO_POST = "您还没有认领岗位。发送“岗位”查看，发送“认岗 编号”认岗。"
DUTY_WHICH_POST = "您有好几个岗位，请写上是哪个：{posts}。如：到岗 P3"
DUTY_ALREADY = "今天“{name}”的到岗已经记录过了，辛苦了！"
DUTY_OK = "已记录：{name} 到岗服务 +{points}分（本月第{n}次）。辛苦了！"
DUTY_REMINDER = "提醒：您的岗位“{name}”今天{time}开始值守。\n职责：{duties}\n完成后请发“到岗 {number}”记录。"
POSTS_HEADER = "{compound}的志愿岗位："
POSTS_LINE = "{number} {name}｜{schedule}｜{holders}"
POSTS_HOLDERS = "在岗：{names}"
POSTS_NOBODY = "暂无人认岗"
POSTS_SPACE = "（{have}/{capacity}人）"
POSTS_EMPTY = "{compound}还没有设立志愿岗位。支部书记可发送：" + POST_CREATE_USAGE
POSTS_TAIL = "党员发送“认岗 编号”认岗，发送“到岗”记录值守。"

# ---------------------------------------------------------------- service record
RECORD = (
    "{name}的服务记录：\n"
    "· 积分：共{total}分，本月{month}分\n"
    "· 兑现微心愿：{wishes}个；正在办：{active}个\n"
    "· 在岗：{posts}\n"
    "· 到岗服务：{duties}次\n"
    "· {dates}\n"
    "{rules}"
)
RECORD_DATES = "首次服务：{first}，最近一次：{last}"
RECORD_NO_DATES = "还没有服务记录，发送“心愿”或“岗位”开始吧"
RECORD_NO_POSTS = "暂无"
RECORD_RULES = "积分规则：兑现一个微心愿（对方确认后）{wish}分；到岗服务一次{duty}分（每岗每天一次）。"

# ---------------------------------------------------------------- wishes that don't fall through
REOFFER_TO_MEMBER = "【微心愿·再次求助】{building}号楼的邻居有个心愿还没人帮：{line}\n能帮忙的话回复“认领 {number}”。"
REOFFER_TO_GROUP = "【微心愿·再次求助】有位邻居的心愿还等着人帮：{line}\n党员、志愿者能帮忙的请私聊我“认领 {number}”。"
FALLING_THROUGH_TO_STAFF = "【心愿待关注】微心愿 {number}“{summary}”{reason}，发布已{age}天，请支部安排人跟进。"
FALLING_THROUGH_RELEASES = "已被认领后放回{count}次"
FALLING_THROUGH_AGE = "{days}天无人认领"
HOLD_NOTED = "（已记下约定日期，{date}前不会因为没有进展而放回。）"
COMPLAINT_LINKED = "您说的是心愿 {number}“{summary}”吧？已转告支部和认领的党员，会尽快跟进。"
COMPLAINT_TO_STAFF = "【心愿催办】{wisher}在群里说起微心愿 {number}“{summary}”（{state}）：{text}"

# A wish's state as people read it (keys: bot.models.wishes.WishState).
STATE_LABELS = {
    "open": "待认领", "claimed": "已认领", "done": "待确认", "confirmed": "已实现", "cancelled": "已撤回",
    "expired": "已过期",
}
