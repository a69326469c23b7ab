"""Zhibu (支部助手): the bot core — storage, dispatcher, outbox, transports, CLI."""
