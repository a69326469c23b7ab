"""Texts the command line prints to the operator (`zhibu run`, `zhibu import org`)."""

RUN_NO_GATEWAY = ("未配置微信网关（wechaty.endpoint/token 或 WECHATY_PUPPET_SERVICE_ENDPOINT/_TOKEN），不启动。\n"
                  "  本地演示请用 zhibu demo；确需在本库上开网页聊天（需管理员登录）请用 zhibu run --web-chat。\n"
                  "  No WeChat gateway configured: use `zhibu demo`, or `zhibu run --web-chat` on purpose.")
IMPORT_ACCOUNT = "群和微信号归属账号“{account}”（{why}）。 / groups attached to account {account!r}"
IMPORT_ACCOUNT_FLAG = "由 --account 指定"
IMPORT_ACCOUNT_FILE = "由文件中的 account 指定"
IMPORT_ACCOUNT_CONFIG = "配置中唯一的账号"
IMPORT_DEMO_ACCOUNT = ("群和微信号归属演示账号“{account}”（未配置微信账号，只有 zhibu demo 的网页聊天会回答）；"
                       "接入微信后请重新导入。 / no WeChat account configured: groups attached to the demo account {account!r}")
IMPORT_ELSEWHERE = ("注意：数据库中还有{count}个群属于账号“{other}”，账号“{account}”不会回答这些群；"
                    "它们若应由“{account}”服务，请在群里发“绑定 小区名”，不再使用的可忽略。"
                    " / note: {count} groups belong to account {other!r}, which {account!r} does not serve")
IMPORT_MOVED = ("已把{count}个群从演示账号“{other}”转到账号“{account}”。"
                " / {count} groups moved from the demo account {other!r} to {account!r}")
IMPORT_SERVED_ELSEWHERE = ("群“{topic}”由账号“{other}”服务（同一个群只由一个账号回答），账号“{account}”在它退出该群后接手。"
                           " / group {topic!r} stays with account {other!r}; {account!r} takes over when it leaves")
