"""The digests' statement counts: one grouped query for every compound's (or community's)
rows, not one per compound."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, func, select

from bot.models.schedules import DigestRun
from bot.models.wishes import Wish
from bot.testing import BotHarness, fixed_part
from bot.texts import digests as DT


@contextmanager
def statements(h):  # noqa: ANN001, ANN201
    seen: list[tuple[str, str]] = []
    engine = h.bot.engine.sync_engine

    def listener(_conn, _cursor, statement, parameters, *_args):  # noqa: ANN001, ANN202
        seen.append((" ".join(statement.split()), repr(parameters)))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


async def test_open_wish_lines_of_every_compound_come_from_one_query():
    async with BotHarness(start=datetime(2026, 12, 1, 7, 0)) as h:
        t0 = datetime(2026, 11, 22, 8, 0, tzinfo=h.clock.tz)
        async with h.session() as session:
            for name, summaries in (("阳光花园", ["帮忙修轮椅", "教老人用手机"]), ("兰亭水岸", ["陪读绘本"])):
                for n, summary in enumerate(summaries):
                    session.add(Wish(compound_id=h.bot.org.by_name[name].id, summary=summary, state="open",
                                     created_at=t0 + timedelta(hours=n), updated_at=t0))
            await session.commit()
        with statements(h) as seen:
            await h.advance(hours=1, minutes=31)
        waiting = [sql for sql, _ in seen if "row_number() OVER" in sql and "FROM wishes" in sql]
        assert len(waiting) == 1, waiting
        [li] = [t for t in h.texts_to("李书记") if fixed_part(DT.DAILY_HEADER) in t]
        [sun] = [t for t in h.texts_to("孙书记") if fixed_part(DT.DAILY_HEADER) in t]
        assert li.index("帮忙修轮椅（等了9天）") < li.index("教老人用手机（等了8天）") and "陪读绘本" not in li
        assert "陪读绘本（等了9天）" in sun and "帮忙修轮椅" not in sun


async def test_weekly_runs_of_every_community_are_claimed_in_one_statement():
    async with BotHarness(start=datetime(2026, 12, 6, 20, 0)) as h:  # Sunday evening
        with statements(h) as seen:
            await h.advance(hours=13, minutes=5, step=timedelta(minutes=5))
        claims = [sql for sql, params in seen if sql.startswith("INSERT INTO digest_runs") and "'weekly'" in params]
        assert len(claims) == 1, claims
        async with h.session() as session:
            weekly = (await session.execute(select(func.count()).select_from(DigestRun).where(
                DigestRun.kind == "weekly"))).scalar_one()
        assert weekly == len(set(h.bot.org.community_of.values())) == 2
        assert [t for t in h.texts_to("陈社区") if "周报" in t]
