"""Texts of `zhibu doctor` and `zhibu outbox status`: each finding in Chinese, then English.

A finding says what is wrong and what to do, in one line.
"""

LEVELS = {"ok": "[正常]", "warn": "[注意]", "error": "[错误]"}
SUMMARY_OK = "检查完成：没有发现问题。 / All checks passed."
SUMMARY_BAD = "检查完成：{errors}项错误，{warnings}项需注意。 / {errors} errors, {warnings} warnings."

# configuration
NO_GATEWAY = ("未配置微信网关：设置 wechaty.endpoint/token（或 WECHATY_PUPPET_SERVICE_ENDPOINT/_TOKEN），见 README“上线步骤”",
              "no WeChat gateway configured: set wechaty.endpoint/token (see README, Going live)")
ACCOUNTS = ("配置的微信账号：{names}", "configured accounts: {names}")
FILE_MISSING = ("配置项 {key} 指向的文件不存在：{path}", "{key} names a missing file: {path}")

# database
DB_UNREACHABLE = ("无法连接数据库（{error}）：检查 database_url / DATABASE_URL",
                  "cannot connect to the database ({error}): check database_url")
DB_EMPTY = ("数据库未初始化：运行 zhibu db upgrade", "the database is empty: run zhibu db upgrade")
DB_OUTDATED = ("数据库版本 {current}，最新 {head}：运行 zhibu db upgrade", "database at {current}, head {head}: run zhibu db upgrade")
DB_OK = ("数据库版本最新（{head}）", "database at the newest revision ({head})")

# gateway
GW_UNREACHABLE = ("账号“{account}”：连不上微信网关 {endpoint}（{error}）：先启动网关（node gateway/server.js …）",
                  "account {account!r}: gateway {endpoint} unreachable ({error}): start the gateway")
GW_TOKEN = ("账号“{account}”：网关 {endpoint} 拒绝了令牌：wechaty.token 须与网关的 --token 相同",
            "account {account!r}: gateway {endpoint} rejected the token: use the gateway's --token")
GW_ERROR = ("账号“{account}”：网关 {endpoint} 出错（{error}）：查看网关日志",
            "account {account!r}: gateway {endpoint} error ({error}): see the gateway's log")
GW_NOT_LOGGED_IN = ("账号“{account}”：网关可用，但微信未登录：运行 zhibu run 并用机器人的微信扫码",
                    "account {account!r}: gateway up, WeChat not logged in: run zhibu run and scan the QR code")
GW_OK = ("账号“{account}”：网关 {endpoint} 可用，微信已登录，在{rooms}个群里",
         "account {account!r}: gateway {endpoint} up, logged in, in {rooms} groups")

# groups
SERVES = ("账号“{account}”服务{count}个已绑定的群：{groups}", "account {account!r} serves {count} bound groups")
NOT_IN_GROUP = ("群“{topic}”（{compound}）属于账号“{account}”，但该微信不在群里：把机器人的微信拉进群，或在群里发“绑定 {compound}”",
                "group {topic!r} ({compound}) is on account {account!r}, whose WeChat is not in it: invite the bot")
PENDING_LINK = ("群“{topic}”（{compound}）已导入，机器人在同名群里：下次 zhibu run 登录后自动对应，或在群里发“绑定 {compound}”",
                "group {topic!r} ({compound}) was imported; the bot is in a group of that name: linked at the next login")
NO_ACCOUNT = ("{count}个已绑定小区的群属于账号“{account}”，没有配置这个账号，没人回答：zhibu import org 文件 --account {hint} 重新导入，或在群里发“绑定 小区名”",
              "{count} bound groups are on account {account!r}, which is not configured: nobody answers them; re-import with --account {hint}")
RELINK_PENDING = ("群“{topic}”在重新登录后按群名和成员认定属于“{compound}”，待确认：请书记在群里发“绑定 {compound}”",
                  "group {topic!r} was matched to {compound} by name after a new login: the secretary confirms with 绑定 {compound}")
COMPOUND_NO_GROUP = ("小区“{compound}”没有已绑定的群：把机器人拉进小区群后，请书记在群里发“绑定 {compound}”",
                     "compound {compound!r} has no bound group: invite the bot, then the secretary sends 绑定 {compound}")

# outbox
OUTBOX_OK = ("待发消息{waiting}条，近7天发送失败{failed}条", "outbox: {waiting} waiting, {failed} failed in 7 days")
OUTBOX_BACKLOG = ("有{count}条消息等待发送超过{minutes}分钟（最早 {oldest}）：检查网关与登录，详情 zhibu outbox status",
                  "{count} sends waiting over {minutes} min (oldest {oldest}): check the gateway; see zhibu outbox status")
OUTBOX_FAILED = ("近7天{count}条消息发送失败（最近原因：{reason}）：详情 zhibu outbox status",
                 "{count} sends failed in 7 days (latest reason: {reason}): see zhibu outbox status")
OUTBOX_PAUSED = ("账号“{account}”因发送过于频繁暂停到 {until}：消息不会丢，到时自动继续",
                 "account {account!r} paused for rate limits until {until}: nothing is lost")
OUTBOX_NO_ACCOUNT = ("{count}条私聊消息在等待可用账号：收件人所在的微信账号当前没有进程服务（检查该账号的进程或备用进程），账号上线后自动发出",
                     "{count} private texts wait for a live account: no process serves the recipients' accounts; they go once one does")
OUTBOX_URGENT = ("{count}条紧急提醒迟迟未送达：立即检查网关，并电话联系相关书记",
                 "{count} urgent alerts undelivered: check the gateway now and phone the secretaries")

# inbound
FAILED_INBOUND = ("{count}条收到的消息处理出错（已保存）：修复后运行 zhibu retry",
                  "{count} stored messages failed in the handlers: run zhibu retry after fixing")
DEAD_LETTERS = ("{count}条收到的消息数据库拒收，已另存（inbound_dead_letters）：把这些记录和日志交给维护人员",
                "{count} arriving messages the database refused were kept aside (inbound_dead_letters): pass them and the log to maintenance")
INBOUND_OK = ("没有处理出错的消息", "no failed inbound messages")

# web
WEB_EXPOSES = ("网页服务 http://{host}:{port}/：管理后台 /dashboard/（需登录）、接口 /api/v1（需令牌）、/api/docs（公开，仅接口说明）；网页聊天只在 zhibu demo 或 zhibu run --web-chat（需管理员登录）时提供",
               "web on {host}:{port}: /dashboard/ (login), /api/v1 (token), /api/docs (public, no data); web chat only with demo or --web-chat (admin login)")
WEB_PUBLIC = ("网页服务监听在 {host}，不只本机可访问：请在前面配置 HTTPS 反向代理，否则登录密码明文传输",
              "the web server listens on {host}: put an HTTPS reverse proxy in front, or passwords travel in clear")
WEB_NO_ADMIN = ("还没有管理后台管理员账号：zhibu user add 姓名 --role district_staff --admin",
                "no dashboard administrator: zhibu user add NAME --role district_staff --admin")

# zhibu outbox status
STATUS_WAITING = "等待发送（{count}条）："
STATUS_PROBLEMS = "近7天发送失败或未确认（{count}条）："
STATUS_NONE = "  （无）"
STATUS_ROW = "  #{id} {status} {account} → {to} 尝试{attempts}次 {created} 原因：{reason} ｜ {preview}"
STATUS_PAUSED = "账号“{account}”暂停发送到 {until}（发送过于频繁）"
STATUS_COUNTS = "各状态条数：{counts}"
NO_REASON = "—"
