"""Texts of the web dashboard and the JSON API (page titles, messages, labels, errors)."""

APP_TITLE = "支部助手 · 管理后台"

NAV = (
    ("home", "概览", "/dashboard/"),
    ("tickets", "工单", "/dashboard/tickets"),
    ("wishes", "微心愿", "/dashboard/wishes"),
    ("notices", "通知", "/dashboard/notices"),
    ("people", "人员与群", "/dashboard/people"),
    ("stats", "统计", "/dashboard/stats"),
    ("rating", "评星", "/dashboard/rating"),
    ("outbox", "未送达", "/dashboard/outbox"),
)
NAV_ADMIN = (("users", "账号", "/dashboard/users"), ("audit", "操作记录", "/dashboard/audit"))

WEB_ROLE_LABELS = {
    "secretary": "支部书记",
    "community_staff": "社区工作人员",
    "district_staff": "区级工作人员",
}

# ------------------------------------------------------------------ log-in and accounts
LOGIN_FAILED = "用户名或密码错误。"
LOGIN_THROTTLED = "登录失败次数过多，请 {minutes} 分钟后再试。"
LOGIN_BUSY = "同时登录的人太多，请稍等几秒再试。"
LOGIN_DISABLED = "该账号已停用，请联系区级管理员。"
LOGGED_OUT = "您已退出登录。"
SESSION_EXPIRED = "登录已过期，请重新登录。"
PASSWORD_TOO_SHORT = "密码至少需要 {n} 位。"
PASSWORD_TOO_LONG = "密码太长了。"
PASSWORD_TOO_SIMPLE = "密码过于简单，请混合使用字母、数字或符号。"
PASSWORD_CHANGED = "密码已修改，其他设备上的登录已失效。"
PASSWORD_WRONG = "当前密码不正确。"
PASSWORD_MISMATCH = "两次输入的新密码不一致。"
USER_EXISTS = "用户名“{name}”已存在。"
USER_CREATED = "账号“{name}”已创建。"
USER_DISABLED = "账号“{name}”已停用。"
USER_ENABLED = "账号“{name}”已启用。"
USER_UNKNOWN = "没有名为“{name}”的账号。"
USERNAME_INVALID = "用户名只能包含字母、数字、下划线、点和短横线（2–64 位），或使用中文姓名。"
SCOPE_REQUIRED_COMPOUND = "支部书记账号需要至少一个所属小区（--compound）。"
SCOPE_REQUIRED_COMMUNITY = "社区工作人员账号需要至少一个所属社区（--community）。"
ADMIN_ONLY_DISTRICT = "只有区级工作人员账号可以设为管理员。"
UNKNOWN_COMPOUND = "没有名为“{name}”的小区。"
UNKNOWN_COMMUNITY = "没有名为“{name}”的社区。"
UNKNOWN_PERSON = "名册中没有“{name}”（或有重名，请用编号）。"
CANNOT_DISABLE_SELF = "不能停用自己的账号。"
TOKEN_CREATED = "新的接口令牌（只显示这一次，请妥善保存）："
TOKEN_REVOKED = "令牌“{name}”已作废。"

# ------------------------------------------------------------------ generic errors
CSRF_FAILED = "页面已过期或来源不明，请刷新页面后重试。"
FORBIDDEN = "您没有查看或操作这项内容的权限。"
NOT_FOUND = "没有找到这项内容。"
ADMIN_REQUIRED = "只有区级管理员可以管理账号。"
UNAUTHENTICATED = "请先登录，或在请求头中提供有效的接口令牌（Authorization: Bearer …）。"
BAD_JSON = "请求体不是有效的 JSON。"
BAD_REQUEST = "请求格式不正确。"
INVALID_FIELD = "字段“{field}”不正确：{reason}"
TOO_LARGE = "上传的文件太大（上限 {mb} MB）。"
SERVER_ERROR = "服务器出错了，已记录下来，请稍后再试。"
METHOD_NOT_ALLOWED = "不支持该请求方法。"
RATE_LIMITED = "请求过于频繁，请稍后再试。"

# ------------------------------------------------------------------ people, groups, import
IMPORT_NO_FILE = "请选择要导入的 CSV 或 XLSX 文件。"
IMPORT_BAD_TYPE = "只支持 .csv、.xlsx 或组织文件 .yaml。"
IMPORT_FAILED = "导入失败，未写入任何数据。请修改以下问题后重新上传："
IMPORT_DONE = "导入完成：{compounds} 个小区、{people} 人、{groups} 个群、新增 {roles} 个角色。"
IMPORT_OUT_OF_SCOPE = "文件中的小区“{name}”不在您的管理范围内。"
IMPORT_ROLE_FORBIDDEN = "您不能授予这个范围的社区或区级角色。"
IMPORT_RUNNING = "正在导入……"
IMPORT_UNKNOWN_JOB = "导入任务不存在或已过期。"
REQUEST_APPROVED = "已同意身份申请 {number}，已通知申请人。"
REQUEST_REJECTED = "已拒绝身份申请 {number}，已通知申请人。"
GROUP_BOUND = "群“{group}”已绑定到“{compound}”。"
GROUP_UNBOUND = "群“{group}”已解除绑定。"

# ------------------------------------------------------------------ labels
YES = "是"
NO = "否"
ALL = "全部"
NONE = "—"
DISTRICT_WIDE = "全区"

API_TITLE = "支部助手 API"

# ------------------------------------------------------------------ tickets
TICKET_ASSIGNED = "已派单给{label}。"
TICKET_TRANSFERRED = "已转办给{label}。"
TICKET_TOLD = "已私信通知处理人。"
TICKET_NOBODY_TO_TELL = "该类处理人尚未登记微信，请线下联系。"
TICKET_NAME_NEEDED = "请填写处理人的姓名。"
TICKET_NOTED = "备注已记录。"
TICKET_AGENDA = "已列入 {when} 的小区议事日。"
TICKET_RESOLVED = "已办结，已请 {count} 位反映的居民确认并评价。"
TICKET_REOPENED = "工单已重新打开，处理人和支部书记已收到通知。"
TICKET_SUPERVISED = "这是第二次重开，已自动督办。"
TICKET_MERGED = "已并入 {target}，反映的居民一并计入。"
TICKET_REJECTED = "已确认不是问题并关闭。"
TICKET_UNKNOWN_CATEGORY = "没有“{word}”这个类别。"
TICKET_RECATEGORIZED = "类别已改为“{label}”，期限随之调整。"
TICKET_SUPERVISE_DONE = "已督办，已通知{who}。"
TICKET_HOTLINE = "已关联12345工单 {order_no}。"
HOTLINE_IMPORTED = "12345工单：新增 {created}，更新 {updated}，未匹配小区 {unmatched}。"
