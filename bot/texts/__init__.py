"""Every text a person reads from the bot, in Simplified Chinese, one module per feature.

Operators change wording here without touching logic. Placeholders use str.format names.
"""
