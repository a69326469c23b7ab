"""The dispatcher's cache of groups and senders: entries expire a fixed time after they were
read, however busy the chat is (another process may have changed roles or bindings meanwhile)."""
from __future__ import annotations

from sqlalchemy import inspect

from bot.identity import ContextCache
from bot.models import ChatGroup, Person


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache() -> tuple[ContextCache, _Clock]:
    cache, clock = ContextCache(ttl=30.0), _Clock()
    cache._time = clock  # seconds, as time.monotonic
    return cache, clock


def _loaded(row):  # noqa: ANN001, ANN202
    """``row`` as the cache keeps rows: every attribute loaded (the rest None, lists empty)."""
    for attr in inspect(type(row)).attrs:
        if attr.key not in vars(row):
            setattr(row, attr.key, [] if getattr(attr, "uselist", False) else None)
    return row


def _rows() -> tuple[ChatGroup, Person]:
    group = _loaded(ChatGroup(id=1, account="sim", platform_id="room-1", topic="阳光花园业主1群", compound_id=1,
                              active=True))
    return group, _loaded(Person(id=7, name="李四", compound_id=1))


async def test_a_busy_groups_entry_expires_when_its_time_is_up():
    cache, clock = _cache()
    group, person = _rows()
    cache.remember("sim", "room-1", group, "wxid_7", person, "李四")
    for second in (10, 20, 29):  # a message every few seconds, each served from the cache
        clock.now = second
        assert cache.group("sim", "room-1", "阳光花园业主1群") is group
        assert cache.person("sim", "wxid_7", "李四") is person
        cache.remember("sim", "room-1", group, "wxid_7", person, "李四")
    clock.now = 31
    assert cache.group("sim", "room-1", "阳光花园业主1群") is None
    assert cache.person("sim", "wxid_7", "李四") is None


async def test_a_sender_seen_under_a_new_name_is_remembered_under_it():
    cache, clock = _cache()
    group, person = _rows()
    cache.remember("sim", "room-1", group, "wxid_7", person, "李四")
    cache.remember("sim", "room-1", group, "wxid_7", person, "李四（3号楼）")
    assert cache.person("sim", "wxid_7", "李四（3号楼）") is person
    assert cache.person("sim", "wxid_7", "李四") is None


async def test_what_a_message_read_before_a_clear_is_not_remembered_after_it():
    cache, _clock = _cache()
    group, person = _rows()
    read_in = cache.generation  # a message starts, served from the database
    cache.clear()  # meanwhile another message changed roles, or another process said so
    cache.remember("sim", "room-1", group, "wxid_7", person, "李四", read_in=read_in)
    assert cache.group("sim", "room-1", "阳光花园业主1群") is None
    assert cache.person("sim", "wxid_7", "李四") is None
