"""Feature routers: chat commands (role-checked), plain-text hooks and hooks for what is not
text (photos, videos, recalls).

A handler names what it needs — ``ctx``, ``args``, ``session``, ``clock``, ``outbox``,
``settings``, ``org`` or any registered service — and receives only that.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Literal

Where = Literal["any", "group", "private"]
Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    handler: Handler
    roles: frozenset[str] | None  # None: anyone
    where: Where
    usage: str
    summary: str
    unbound_ok: bool  # may run in a group not yet bound to a compound
    params: tuple[str, ...]
    router: str
    in_help: bool = True


@dataclass(frozen=True)
class TextHook:
    handler: Handler
    params: tuple[str, ...]
    router: str
    order: int


def _params(fn: Handler) -> tuple[str, ...]:
    return tuple(inspect.signature(fn).parameters)


@dataclass
class Router:
    name: str
    commands: list[Command] = field(default_factory=list)
    text_hooks: list[TextHook] = field(default_factory=list)
    non_text_hooks: list[TextHook] = field(default_factory=list)

    def command(self, *words: str, roles: Iterable[str] | None = None, where: Where = "any",
                usage: str = "", summary: str = "", unbound_ok: bool = False,
                in_help: bool = True) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.commands.append(Command(
                words=words, handler=fn, roles=frozenset(roles) if roles is not None else None,
                where=where, usage=usage or words[0], summary=summary, unbound_ok=unbound_ok,
                params=_params(fn), router=self.name, in_help=in_help,
            ))
            return fn
        return register

    def text(self, order: int = 100) -> Callable[[Handler], Handler]:
        """A plain-text hook; returns True when it consumed the message. Lower order runs first."""
        def register(fn: Handler) -> Handler:
            self.text_hooks.append(TextHook(fn, _params(fn), self.name, order))
            return fn
        return register

    def non_text(self, order: int = 100) -> Callable[[Handler], Handler]:
        """A hook for a photo, video or recall; returns True when it acted on it. Lower order runs first."""
        def register(fn: Handler) -> Handler:
            self.non_text_hooks.append(TextHook(fn, _params(fn), self.name, order))
            return fn
        return register


_SEPARATORS = (" ", "\u3000", ":", "：", "\n", "\t", ",", "，")


class CommandTable:
    """All routers' commands, matched by the longest command word at the start of a text."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.routers = list(routers)
        self.commands = [c for r in self.routers for c in r.commands]
        by_word = sorted(((w, c) for c in self.commands for w in c.words), key=lambda item: -len(item[0]))
        # Indexed by first character: every chat line is matched, and almost none is a command.
        self._by_first: dict[str, list[tuple[str, Command]]] = {}
        for word, command in by_word:
            self._by_first.setdefault(word[0], []).append((word, command))
        self.text_hooks = sorted((h for r in self.routers for h in r.text_hooks), key=lambda h: h.order)
        self.non_text_hooks = sorted((h for r in self.routers for h in r.non_text_hooks), key=lambda h: h.order)

    def match(self, text: str) -> tuple[Command, str] | None:
        body = text.lstrip("#/＃ ")
        for word, command in self._by_first.get(body[:1], ()):
            if body.startswith(word):
                rest = body[len(word):]
                if not rest or rest.startswith(_SEPARATORS):
                    return command, rest.strip(" \u3000:：,，\n\t")
        return None


def call_with(handler: Handler, params: tuple[str, ...], available: dict[str, Any]) -> Awaitable[Any]:
    try:
        arguments = {p: available[p] for p in params}
    except KeyError:
        missing = [p for p in params if p not in available]
        raise TypeError(f"handler {handler.__qualname__} asks for unknown {missing}") from None
    return handler(**arguments)
