"""Digest and ranking benchmark: 1,100 compounds × 1,000 tickets (1.1 M) on an SQLite file.

    python bench/digests.py [--compounds 1100] [--tickets 1000] [--db var/bench-digests.db] [--rebuild]

Builds the database once (in a child process, bulk inserts; reused on later runs), then, in a
fresh process, times: all daily digests computed and rendered; the whole morning send (digest
rows + 1,100 outbox rows, committed); the weekly digests of every community; one monthly
property ranking. Prints the times and the peak RSS of the measuring process.
Targets: daily digests < 5 s, ranking < 2 s, RSS < 500 MB.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Asia/Shanghai")
NOW_LOCAL = datetime(2026, 12, 1, 8, 30, tzinfo=TZ)  # a digest morning, and ranking day for November
NOW = NOW_LOCAL.astimezone(timezone.utc)
CATEGORIES = ["property", "property", "property", "environment", "facility", "security", "parking", "noise", "other"]
STATES = [("closed", 870), ("resolved", 30), ("assigned", 45), ("new", 35), ("rejected", 10), ("merged", 10)]
COMMUNITIES = 80
STREETS = 12
CHUNK = 50_000


def _ts(moment: datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime on SQLite: naive UTC with microseconds (every
    moment here is UTC already; an f-string is several times faster than strftime)."""
    m = moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}"


def _defaults(table) -> dict:  # noqa: ANN001
    """Python-side column defaults (SQLite has no server defaults for them)."""
    out = {}
    for col in table.columns:
        default = col.default
        if default is None or col.primary_key:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        out[col.name] = json.dumps(value) if isinstance(value, (dict, list)) else value
    return out


def _insert(conn: sqlite3.Connection, table, rows) -> int:  # noqa: ANN001
    """executemany in chunks; ``rows`` yields dicts of the columns that differ from defaults."""
    base = _defaults(table)
    columns = [c.name for c in table.columns if not c.primary_key]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    batch, count = [], 0
    for row in rows:
        values = {**base, **row}
        batch.append(tuple(values.get(c) for c in columns))
        if len(batch) >= CHUNK:
            conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
        count += len(batch)
    return count


def build(path: Path, compounds: int, tickets: int, seed: int = 7) -> None:
    from sqlalchemy import create_engine

    from bot.models import (Base, Branch, Community, Compound, Event, Person, PropertyProject, Role,
                            Street)
    from bot.models.tickets import Ticket, TicketReporter
    from bot.models.wishes import Wish, WishClaim

    rng = random.Random(seed)
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    # Bulk load without the tickets' secondary indexes, then build them once.
    ticket_indexes = [ix for ix in Ticket.__table__.indexes if not ix.unique]
    for ix in ticket_indexes:
        ix.drop(engine)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    created = _ts(NOW - timedelta(days=400))
    conn.execute("INSERT INTO districts (id, name) VALUES (1, '基准区')")
    _insert(conn, Street.__table__, ({"district_id": 1, "name": f"街道{i + 1}"} for i in range(STREETS)))
    _insert(conn, Community.__table__, ({"street_id": i % STREETS + 1, "name": f"社区{i + 1}"} for i in range(COMMUNITIES)))
    _insert(conn, Branch.__table__, ({"name": f"小区{i + 1}党支部"} for i in range(compounds)))
    _insert(conn, Compound.__table__, ({"community_id": i % COMMUNITIES + 1, "branch_id": i + 1, "name": f"小区{i + 1}",
                                        "settings": "{}"} for i in range(compounds)))
    _insert(conn, PropertyProject.__table__, ({"compound_id": i + 1, "company": f"物业公司{i % 300 + 1}",
                                               "name": f"小区{i + 1}项目", "manager_name": f"经理{i + 1}"}
                                              for i in range(compounds)))
    # People: a secretary per compound, 5 residents per compound, staff per community, district staff.
    people = [{"name": f"书记{i + 1}", "compound_id": i + 1, "on_roster": 1, "created_at": created} for i in range(compounds)]
    people += [{"name": f"居民{i + 1}-{j}", "compound_id": i + 1, "created_at": created}
               for i in range(compounds) for j in range(5)]
    people += [{"name": f"社区干部{k + 1}", "created_at": created} for k in range(COMMUNITIES)]
    people += [{"name": "区办", "created_at": created}]
    _insert(conn, Person.__table__, people)
    residents0 = compounds + 1
    staff0 = compounds * 6 + 1
    roles = [{"person_id": i + 1, "name": "secretary", "compound_id": i + 1, "granted_at": created} for i in range(compounds)]
    roles += [{"person_id": staff0 + k, "name": "community_staff", "community_id": k + 1, "granted_at": created}
              for k in range(COMMUNITIES)]
    roles += [{"person_id": staff0 + COMMUNITIES, "name": "district_staff", "granted_at": created}]
    _insert(conn, Role.__table__, roles)

    state_pool = [s for s, n in STATES for _ in range(n)]

    def ticket_rows():
        for c in range(1, compounds + 1):
            for n in range(1, tickets + 1):
                age = timedelta(seconds=rng.randrange(0, 365 * 86400))
                at = NOW - age
                state = rng.choice(state_pool)
                resolved = at + timedelta(hours=rng.randrange(2, 120)) if state in ("resolved", "closed") else None
                if resolved and resolved > NOW:
                    resolved = NOW - timedelta(minutes=5)
                yield {
                    "compound_id": c, "number": n, "state": state, "channel": "group",
                    "text": f"{n}号问题：{rng.choice(['楼道灯坏了', '路面积水', '电梯故障', '垃圾没人清', '停车乱', '噪音扰民'])}",
                    "category": rng.choice(CATEGORIES), "urgent": int(rng.random() < 0.02),
                    "reporter_person_id": residents0 + (c - 1) * 5 + rng.randrange(5),
                    "assignee_kind": "property" if rng.random() < 0.15 else None,
                    "created_at": _ts(at), "updated_at": _ts(resolved or at),
                    "first_response_due": _ts(at + timedelta(hours=24)),
                    "first_response_at": _ts(at + timedelta(hours=rng.randrange(1, 30))) if state != "new" else None,
                    "resolve_due": _ts(at + timedelta(days=3)),
                    "resolved_at": _ts(resolved) if resolved else None,
                    "closed_at": _ts(resolved + timedelta(days=3)) if state == "closed" and resolved else None,
                    "satisfaction": rng.choice(["satisfied", "basic", "unsatisfied", "default"]) if state == "closed" else None,
                }

    count = _insert(conn, Ticket.__table__, ticket_rows())
    conn.commit()
    conn.close()
    for ix in ticket_indexes:
        ix.create(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    t1 = time.perf_counter()
    # Reporters with ratings for the last month's closed tickets (what the digests read).
    since = _ts(NOW - timedelta(days=31))
    recent = conn.execute("SELECT id, reporter_person_id, resolved_at FROM tickets WHERE resolved_at >= ?",
                          (since,)).fetchall()
    ratings = [rng.choice(["satisfied", "satisfied", "basic", "unsatisfied"]) for _ in recent]
    _insert(conn, TicketReporter.__table__, (
        {"ticket_id": tid, "person_id": pid, "reported_at": resolved_at, "text": "",
         "rating": rating, "rated_at": resolved_at}
        for (tid, pid, resolved_at), rating in zip(recent, ratings)))
    # The ticket history the satisfaction counts read: every ticket's steps, and the ratings above.
    steps = conn.execute("SELECT id, created_at, resolved_at, closed_at FROM tickets").fetchall()
    _insert(conn, Event.__table__, (
        {"subject_kind": "ticket", "subject_id": tid, "action": action, "at": at}
        for tid, created_at, resolved_at, closed_at in steps
        for action, at in (("created", created_at), ("resolved", resolved_at), ("closed", closed_at)) if at))
    _insert(conn, Event.__table__, (
        {"subject_kind": "ticket", "subject_id": tid, "action": "rated", "at": resolved_at, "actor_person_id": pid,
         "to_state": rating} for (tid, pid, resolved_at), rating in zip(recent, ratings)))
    # Wishes: 20 per compound, a few claimed long ago without progress.
    wish_rows = ({"compound_id": c, "summary": f"微心愿{j}", "state": rng.choice(["open", "claimed", "confirmed"]),
                  "created_at": created, "updated_at": created, "wisher_name": "居民"}
                 for c in range(1, compounds + 1) for j in range(20))
    _insert(conn, Wish.__table__, wish_rows)
    claimed = conn.execute("SELECT id, compound_id FROM wishes WHERE state = 'claimed'").fetchall()
    old = _ts(NOW - timedelta(days=10))
    _insert(conn, WishClaim.__table__, ({"wish_id": wid, "person_id": residents0 + (cid - 1) * 5, "state": "active",
                                         "claimed_at": old, "last_progress_at": old} for wid, cid in claimed))
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    print(f"built {compounds} compounds, {count:,} tickets in {t1 - t0:.1f} s "
          f"(+ reporters, events, wishes: {time.perf_counter() - t1:.1f} s)")


async def measure(path: Path) -> dict:
    from sqlalchemy import select

    from bot import db
    from bot.clock import FakeClock
    from bot.config import OutboxSettings, Settings
    from bot.orgdir import OrgDirectory
    from bot.outbox import Outbox
    from bot.services import Deps
    from bot.months import previous_month
    from bot.services import digests, rankings

    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = db.session_factory(engine)
    clock = FakeClock(NOW)
    org = OrgDirectory()
    settings = Settings()
    outbox = Outbox(OutboxSettings(), clock)
    results: dict = {}
    async with sessions() as session:
        await org.refresh(session)
    async with sessions() as session:  # warm the connection and the statement caches once
        await session.execute(select(1))

    since = NOW - timedelta(days=1)
    async with sessions() as session:
        t = time.perf_counter()
        figures = await digests.compute_daily(session, since, NOW)
        deps = Deps(session, clock, outbox, org, settings)
        texts = [digests.render_daily(deps, f, NOW) for f in figures.values()]
        results["daily_compute_render_s"] = time.perf_counter() - t
        results["digests"] = len(texts)
        results["longest_digest_chars"] = max(len(x) for x in texts)

    async with sessions() as session:
        deps = Deps(session, clock, outbox, org, settings)
        t = time.perf_counter()
        sent = await digests.send_daily_digests(deps)
        await session.commit()
        results["daily_send_all_s"] = time.perf_counter() - t
        results["daily_messages"] = sent.sent

    async with sessions() as session:
        deps = Deps(session, clock, outbox, org, settings)
        t = time.perf_counter()
        weekly = await digests.send_weekly_digests(deps, NOW)
        await session.commit()
        results["weekly_all_communities_s"] = time.perf_counter() - t
        results["weekly_messages"] = weekly

    async with sessions() as session:
        deps = Deps(session, clock, outbox, org, settings)
        t = time.perf_counter()
        ranking = await rankings.compute_ranking(deps, previous_month(clock.local()))
        text = rankings.render(deps, ranking)
        await session.commit()
        results["ranking_s"] = time.perf_counter() - t
        results["ranked_projects"] = len(ranking.rows)
        results["ranking_chars"] = len(text)
    await engine.dispose()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=1100)
    parser.add_argument("--tickets", type=int, default=1000, help="tickets per compound")
    parser.add_argument("--db", default=str(ROOT / "var" / "bench-digests.db"))
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path = Path(args.db)
    if args.build_only:
        build(path, args.compounds, args.tickets)
        return 0
    if args.rebuild or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        # Built in a child process, so the peak RSS below is the digests', not the loader's.
        subprocess.run([sys.executable, __file__, "--build-only", "--db", str(path), "--compounds",
                        str(args.compounds), "--tickets", str(args.tickets)], check=True)
    else:
        print(f"reusing {path} (--rebuild to build it again)")
    # Each run starts from the same state: drop what a previous measurement wrote.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM digest_runs")
    conn.execute("DELETE FROM property_rankings")
    conn.execute("DELETE FROM outbox")
    conn.commit()
    conn.close()
    results = asyncio.run(measure(path))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    ok = lambda value, limit: "OK" if value < limit else "OVER"  # noqa: E731
    print(f"daily digests, compute + render ({results['digests']} compounds): {results['daily_compute_render_s']:.2f} s  "
          f"[{ok(results['daily_compute_render_s'], 5)} < 5 s]  longest {results['longest_digest_chars']} chars")
    print(f"daily digests, full send ({results['daily_messages']} messages, committed): {results['daily_send_all_s']:.2f} s  "
          f"[{ok(results['daily_send_all_s'], 5)} < 5 s]")
    print(f"weekly digests, all communities ({results['weekly_messages']} messages): {results['weekly_all_communities_s']:.2f} s")
    print(f"monthly ranking ({results['ranked_projects']} projects ranked): {results['ranking_s']:.2f} s  "
          f"[{ok(results['ranking_s'], 2)} < 2 s]")
    print(f"peak RSS: {results['peak_rss_mb']:.0f} MB  [{ok(results['peak_rss_mb'], 500)} < 500 MB]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
