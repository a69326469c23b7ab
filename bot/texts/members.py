"""Texts of members: 亮身份 requests, secretaries adding people, rosters, consent, honour rolls."""

TOO_LONG = "{what}太长了，请控制在{limit}个字以内。"
STAFF_ONLY = "这项操作需要“{compound}”的支部书记（或社区工作人员）来做。"

# ---------------------------------------------------------------- 亮身份
APPLY_USAGE = "亮身份 党员 3号楼2单元（身份可以是：党员、楼长、单元长、志愿者）"
HELP_APPLY = "亮身份 党员 3号楼2单元"
HELP_APPROVE = "同意 R3"
HELP_ADD = "添加 姓名 身份 [楼号单元] [手机号]"
HELP_ROSTER = "党员名单 [3号楼]"
HELP_ROLL = "表彰 [本月｜上月] [发布]"
APPLY_CHAT_ONLY = "请在微信里发送这条命令。"
APPLY_ROLE_APPOINTED = "“{role}”身份由社区或支部登记，不能自己申请。如需登记，请联系小区党支部书记。"
APPLY_ALREADY_HAS = "您已经是“{compound}”的{role}了，不用再申请。"
APPLY_PENDING = "您的申请 {number} 已经提交，正在等支部书记确认，请耐心等待。"
APPLY_NEED_COMPOUND = "请在本小区的群里发送，或写上小区名，比如：亮身份 党员 阳光花园 3号楼2单元"
APPLY_OK = (
    "已收到您的申请（编号 {number}）：登记为“{compound}”的{role}{home}。\n"
    "支部书记确认后我会私聊告诉您；确认之前，暂时还不能使用党员的功能。"
)
DETAIL_WECHAT_NAME = "微信昵称：{name}"
REQUEST_TO_STAFF = (
    "【身份申请 {number}】{name} 申请登记为“{compound}”的{role}（{detail}）。\n"
    "核实后，同意请回复“同意 {number}”，不同意请回复“拒绝 {number} 原因”。"
)
REQUEST_UNKNOWN = "没有找到申请 {number}，请核对编号。发送“身份申请”查看待处理的申请。"
REQUEST_DECIDED = "申请 {number} {state}，不用再处理。"
REQUEST_STATES = {"pending": "待处理", "approved": "已经同意过了", "rejected": "已经拒绝过了"}
REJECT_NEEDS_REASON = "拒绝时请写上原因，方便告诉申请人。用法：拒绝 R3 原因"
APPROVE_USAGE = "同意 R3（R3 是申请编号；发送“身份申请”查看待处理的申请）"
REJECT_USAGE = "拒绝 R3 原因"
APPROVED_OK = "已同意 {number}：{name} 登记为“{compound}”的{role}。"
REJECTED_OK = "已拒绝 {number}，已把原因告诉{name}。"
APPROVED_TO_APPLICANT = "{name}，您的申请已通过：您已登记为“{compound}”的{role}。{rights}"
MEMBER_RIGHTS = "现在可以发送“心愿”看看邻居们的微心愿，发送“岗位”认领志愿岗位。"
REJECTED_TO_APPLICANT = "您登记为“{compound}”{role}的申请没有通过，原因：{reason}。如有疑问请联系支部书记。"
SHOW_IDENTITY_IN_GROUP = "【亮身份】{name}{home}已登记为本小区{role}，邻居们有事可以找他/她，也欢迎找支部。"
PENDING_NONE = "目前没有待处理的身份申请。"
PENDING_HEADER = "待处理的身份申请（{count}）："
PENDING_LINE = "· {number} {name}（{compound}）申请{role}：{detail}"
PENDING_TAIL = "回复“同意 编号”或“拒绝 编号 原因”处理。"

# ---------------------------------------------------------------- 添加 / 移除
ADD_USAGE = "添加 姓名 身份 [3号楼2单元] [手机号]，如：添加 王五 党员 3号楼2单元"
REMOVE_USAGE = "移除 姓名 身份，如：移除 王五 志愿者"
ADD_BAD_NAME = "姓名不能为空，也不要超过16个字。"
ADD_UNKNOWN_ROLE = "不认识“{word}”这个身份。可以添加：党员、楼长、单元长、志愿者、网格员、社工、物业、业委会。"
ADD_ROLE_NOT_ALLOWED = "“{role}”身份需要社区工作人员来登记。"
ADD_AMBIGUOUS = "名册里有{count}位“{name}”，请加上手机号区分，如：添加 {name} 党员 13800000000"
ADD_OK = "已为{name}登记“{compound}”的{role}{home}。"
ADD_ALREADY = "{name}已经是“{compound}”的{role}了。"
ADD_CODE_TO_STAFF = (
    "{name}还没有关联微信。请把验证码 {code} 告诉本人，让他/她私聊我发送这6位码即可完成关联"
    "（{hours}小时内有效，只能用一次，请勿发到群里）。"
)
ADDED_TO_PERSON = "您已被登记为“{compound}”的{role}。发送“帮助”查看可以使用的功能。"
REMOVED_OK = "已移除{name}的“{role}”身份（{compound}）。"
REMOVE_NOT_FOUND = "名册里没有身份为“{role}”的{name}。"

# ---------------------------------------------------------------- 名单
ROSTER_HEADER = "{compound}{what}（共{count}人）："
ROSTER_BUILDING = "{building}："
ROSTER_NO_BUILDING = "未登记楼号："
ROSTER_PERSON = "{name}{unit}{roles}"
ROSTER_EMPTY = "{compound}还没有登记{what}。"
ROSTER_PARTY = "党员名单"
ROSTER_ALL = "成员名单"
ROSTER_USAGE = "党员名单 [3号楼]，或 成员 [3号楼]"

# ---------------------------------------------------------------- 公开 / 不公开
CONSENT_ON = "好的，以后表彰名单和感谢里可以写上您的名字。如不愿意，随时发送“不公开”。"
CONSENT_OFF = "好的，以后表彰名单和感谢里不写您的名字，您的服务记录照常保留。想公开时发送“公开”。"

# ---------------------------------------------------------------- 表彰
ROLL_USAGE = "表彰 [本月 / 上月 / 2026-11] [发布]"
ROLL_HEADER = "【{compound}{year}年{month}月服务之星】感谢为邻里奔走的党员和志愿者："
ROLL_LINE = "{rank}. {name} {points}分（{deeds}）"
ROLL_WISHES = "兑现微心愿{n}个"
ROLL_DUTIES = "到岗服务{n}次"
ROLL_HIDDEN = "另有{n}位党员志愿者默默奉献，不愿留名，一并感谢！"
ROLL_FOOTER = "有事找支部，邻里一家亲。"
ROLL_EMPTY = "{compound}{year}年{month}月还没有可以表彰的服务记录。"
ROLL_NOTHING_TO_POST = "{year}年{month}月没有可以公开表彰的党员（没有服务记录，或都选择了不公开姓名）。"
ROLL_PREVIEW_TAIL = "发送“表彰 发布”把名单发到小区各群，或在群里发送“表彰”只发到那个群。"
ROLL_PREVIEW = "{roll}\n\n（以上是预览，只有您能看到）" + "\n" + ROLL_PREVIEW_TAIL
ROLL_POSTED = "已把{year}年{month}月表彰名单发到{groups}个群。"
ROLL_NO_GROUPS = "“{compound}”还没有绑定的群，名单没有发出。"
ROLL_BAD_MONTH = "月份看不懂，请写成“本月”、“上月”或“2026-11”。"
