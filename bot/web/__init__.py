"""The web dashboard and JSON API for secretaries, community and district staff.

    from bot.web.app import build_web_app, mount_dashboard
    web_app = build_web_app(bot_app)          # /dashboard, /api/v1, /api/docs
    mount_dashboard(existing_root, bot_app)   # the same, beside the chat simulator at /

The package itself imports nothing: the bot's first-run work (``bot.web.accounts``) is
imported by ``bot.app``, which the web app in turn serves.
"""
