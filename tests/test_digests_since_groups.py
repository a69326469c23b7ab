"""Compounds whose last daily digests went out at different times count "new" from their own
moments, and the sections that do not depend on it (overdue, urgent, agenda) are read once."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event

from bot.models.schedules import DigestRun
from bot.models.tickets import Ticket
from bot.testing import BotHarness, fixed_part
from bot.texts import digests as DT
from insert_log import inserts_into


@contextmanager
def statements(h):  # noqa: ANN001, ANN201
    seen: list[tuple[str, str]] = []

    def listener(_conn, _cursor, statement, parameters, *_args):  # noqa: ANN001, ANN202
        seen.append((" ".join(statement.split()), repr(parameters)))

    event.listen(h.bot.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(h.bot.engine.sync_engine, "before_cursor_execute", listener)


async def test_two_since_groups_share_the_standing_sections():
    async with BotHarness(start=datetime(2026, 12, 1, 7, 0)) as h:
        tz = h.clock.tz
        sun, lan = h.bot.org.by_name["阳光花园"].id, h.bot.org.by_name["兰亭水岸"].id
        async with h.session() as session:
            # 阳光花园's last digest covered up to three days ago; 兰亭水岸 has none (one day back).
            session.add(DigestRun(kind="daily", scope_id=sun, period="2026-11-28",
                                  due_at=datetime(2026, 11, 28, 8, 30, tzinfo=tz),
                                  covered_to=datetime(2026, 11, 28, 8, 30, tzinfo=tz), status="sent"))
            for n, cid in enumerate((sun, lan), start=1):
                created = datetime(2026, 11, 29, 10, 0, tzinfo=tz)  # two days ago
                session.add(Ticket(compound_id=cid, number=n, state="new", text=f"楼道灯坏了{n}", category="other",
                                   created_at=created, updated_at=created))
            await session.commit()
        with statements(h) as seen:
            await h.advance(hours=1, minutes=31)
        windows = [sql for sql, _ in seen if "row_number() OVER (PARTITION BY tickets.compound_id" in sql]
        assert len(windows) == 2 + 3, windows  # "new" per group, overdue / urgent / agenda once
        [li] = [t for t in h.texts_to("李书记") if fixed_part(DT.DAILY_HEADER) in t]
        [sun_text] = [t for t in h.texts_to("孙书记") if fixed_part(DT.DAILY_HEADER) in t]
        assert "新报事1件" in li and "楼道灯坏了1" in li
        assert "新报事：无" in sun_text and "楼道灯坏了2" not in sun_text


async def test_digest_run_claims_of_different_sizes_share_one_compiled_insert():
    async with BotHarness(start=datetime(2026, 12, 6, 20, 0)) as h:  # Sunday evening
        with inserts_into(h, "digest_runs") as claims:
            await h.advance(hours=13, minutes=5, step=timedelta(minutes=5))  # Monday: daily, then weekly
        assert len({n for _, n in claims}) > 1, claims  # the runs claimed different numbers of rows
        assert all(hit for hit, _ in claims[1:]), claims
