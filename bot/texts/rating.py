"""Texts of the branch star rating (支部评星), the property review (物业评议) and the
red/black lists (红黑榜)."""

STAR = "★"
NO_STAR = "☆"

# ---------------------------------------------------------------- errors (ServiceError)
NO_RIGHT_REVIEW = "只有社区或区里的工作人员可以审核评星结果。"
NO_RIGHT_APPROVE = "只有区里的工作人员可以审定评星结果。"
NO_RIGHT_ADJUST = "您不能调整这个小区的评星结果。"
NO_RIGHT_ENTRY = "只有社区或区里的工作人员可以录入正负清单和审计问题。"
NO_RIGHT_REVIEW_FORM = "只有本小区的支部书记（或社区、区工作人员）可以填写物业评议。"
REASON_NEEDED = "调整评星必须写明理由。"
STARS_RANGE = "星级应在 0 到 5 之间。"
WRONG_STATUS = "评星结果当前状态为“{status}”，不能{action}。"
RUN_APPROVED = "本期评星已审定，不能重新计算。"
NO_PROJECT = "本小区没有登记物业项目，无法评议。"
UNKNOWN_VETO = "标准中没有这个一票否决项：{key}"
FORM_COUNT = "请按顺序给出 {count} 项分数（{items}）。"
FORM_RANGE = "“{item}”最多 {max:g} 分，您填了 {got:g} 分。"
NO_SUCH_ENTRY = "找不到这条记录。"

STATUS = {"draft": "草稿（待社区审核）", "reviewed": "社区已审核（待区审定）", "approved": "已审定",
          "published": "已审定并发布"}
ENTRY_KINDS = {"positive": "正面清单", "negative": "负面清单", "veto": "一票否决", "audit": "审计问题"}
BOARDS = {"red": "红榜", "black": "黑榜"}

# ---------------------------------------------------------------- publication
RESULT_DISTRICT = ("【{period}支部评星结果】共评定{count}个小区：五星{s5}个、四星{s4}个、三星{s3}个、"
                   "二星及以下{low}个。{classes}\n详见管理后台“评星”页。")
RESULT_CLASS = "{name}{count}个（{focus}）"
RESULT_COMMUNITY = "本社区：{lines}"
RESULT_COMMUNITY_LINE = "\n· {compound} {stars}（{klass}，{total:g}分）"
RESULT_SECRETARY = ("【{period}支部评星结果】{compound}：{stars}，{klass}，总分{total:g}"
                    "（支部{branch:g}分，物业评议{property}）。{advice}")
RESULT_ADVICE = "\n可提升：{lines}"
RESULT_ADVICE_LINE = "\n· {line}"

# ---------------------------------------------------------------- chat: 评星
STANDING_HEADER = "【{compound}评星】{period}（截至{now}，预估）"
STANDING_TOTAL = "预估{stars}，{klass}，总分{total:g}（支部{branch:g}分 × {bw:.0%} + 物业{property} × {pw:.0%}）"
STANDING_ASPECT = "\n· {name} {score:g}/{max:g}"
STANDING_VETO = "\n⚠ 一票否决：{name}（最高{max_stars}星）"
STANDING_ADVICE = "\n可提升：{lines}"
STANDING_LAST = "\n上期（{period}）：{stars}，{klass}"
STANDING_FORM_MISSING = "\n本期物业评议还没填：私聊发“物业评议”。"
PROPERTY_NONE = "无"
HELP_STANDING = "评星 — 查看本小区本期评星的预估和可提升的项目（书记）"
HELP_FORM = "物业评议 [各项分数…] — 给本小区的物业项目打分（书记，私聊）"

# ---------------------------------------------------------------- chat: 物业评议
FORM_INTRO = ("【{project}物业评议】{period}\n请按顺序回复各项分数，例如：物业评议 {example}\n{items}"
              "\n可在分数后加备注。{current}")
FORM_ITEM = "\n{index}. {name}（满分{points:g}）"
FORM_CURRENT = "\n本期已评：{scores}，合计{total:g}分。"
FORM_SAVED = "已记录{project}{period}物业评议：合计{total:g}分。发送“评星”查看本小区预估。"

# ---------------------------------------------------------------- red/black lists
LISTS_HEADER = "【{month}物业服务红黑榜】"
LISTS_RED = "\n红榜（{count}个）：{lines}"
LISTS_BLACK = "\n黑榜（{count}个）：{lines}"
LISTS_LINE = "\n· {project}（{company}，{compound}）评分{score}，投诉{complaints}件"
LISTS_NONE = "无"
LISTS_RULES = "\n规则见评星标准；明细和导出见管理后台“红黑榜”页。"
LISTS_GROUP_RED = "【表扬】{project}获评{month}物业服务红榜，感谢物业的用心服务！"
REASON_RED = "评分{score:g}≥{min:g}且投诉{complaints}件≤{max}"
REASON_LOW_SCORE = "评分{score:g}<{max:g}"
REASON_COMPLAINTS = "投诉{complaints}件≥{min}"
REASON_RANKING = "连续{months}个月进入投诉前30名"

# ---------------------------------------------------------------- dashboard pages
WEB_PICK_PERIOD = "请选择评定期"
WEB_NO_RUN = "没有这一期的评星"
WEB_RUN_DONE = {"compute": "已计算评星草稿", "review": "已审核{marked}个小区", "approve": "已审定",
                "publish": "已发布结果"}
WEB_RUN_FLASH = "{period}：{done}。"
WEB_ADJUSTED = "已调整星级，理由已记入操作记录。"
WEB_BAD_DATE = "日期格式应为 2026-12-31"
WEB_BAD_MONTH = "月份格式应为 2026-11"
WEB_ENTRY_INCOMPLETE = "请选择类别并填写事项"
WEB_ENTRY_ADDED = "已录入。"
WEB_ENTRY_CLOSED = "已整改销号。"
WEB_FORM_SCORE_MISSING = "请填写“{name}”的分数"
WEB_FORM_SAVED = "物业评议已保存。"
WEB_EXPORT_NAME = "评星{period}"
WEB_DISTRIBUTION = "星级分布"
