"""Star rating benchmark: 1,100 compounds with a year of generated activity on an SQLite file.

    python bench/rating.py [--compounds 1100] [--db var/bench-rating.db] [--rebuild]

Builds the database once in a child process with bulk inserts (per compound over the year:
~120 tickets with reporters and ratings, 12 wishes, 4 discussion days with agenda items,
10 visit targets, 3 volunteer posts, 12 12345 orders, 12 notices with deliveries and 收到,
party members with identity requests, audit findings, a property review form), then, in a
fresh process, times one quarterly rating run (every computed item of every compound, the
property scores, stars, classes; rows written and committed) and the monthly red/black
lists. Prints the times and the peak RSS of the measuring process.
Targets: one quarterly run < 5 s and < 300 MB.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
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
sys.path.insert(0, str(ROOT / "bench"))

from digests import _insert, _ts  # noqa: E402  (the same bulk loader as the digests bench)

TZ = ZoneInfo("Asia/Shanghai")
NOW_LOCAL = datetime(2027, 1, 1, 6, 0, tzinfo=TZ)  # the scheduled run for 2026-Q4
NOW = NOW_LOCAL.astimezone(timezone.utc)
CATEGORIES = ["property", "sanitation", "elevator", "greening", "roads", "parking", "noise", "utilities", "other"]
STATES = ["closed"] * 80 + ["resolved"] * 5 + ["assigned"] * 7 + ["new"] * 4 + ["rejected"] * 2 + ["merged"] * 2
COMMUNITIES = 80
STREETS = 12


def build(path: Path, compounds: int, seed: int = 11) -> None:
    from sqlalchemy import create_engine

    from bot.models import Base, Branch, Community, Compound, Identity, Person, PropertyProject, Role, Street
    from bot.models.members import IdentityRequest, VolunteerPost
    from bot.models.notices import Notice, NoticeAck, NoticeDelivery
    from bot.models.rating import PropertyReview, RatingEntry
    from bot.models.schedules import VisitTarget
    from bot.models.tickets import AgendaItem, DiscussionDay, HotlineOrder, Ticket, TicketReporter
    from bot.models.wishes import Wish

    rng = random.Random(seed)
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    year_ago = NOW - timedelta(days=365)
    created = _ts(year_ago)

    def when() -> datetime:
        return year_ago + timedelta(seconds=rng.randrange(0, 365 * 86400 - 3600))

    conn.execute("INSERT INTO districts (id, name) VALUES (1, '基准区')")
    _insert(conn, Street.__table__, ({"district_id": 1, "name": f"街道{i + 1}"} for i in range(STREETS)))
    _insert(conn, Community.__table__, ({"street_id": i % STREETS + 1, "name": f"社区{i + 1}"} for i in range(COMMUNITIES)))
    _insert(conn, Branch.__table__, ({"name": f"小区{i + 1}党支部"} for i in range(compounds)))
    _insert(conn, Compound.__table__, ({"community_id": i % COMMUNITIES + 1, "branch_id": i + 1, "name": f"小区{i + 1}",
                                        "settings": "{}"} for i in range(compounds)))
    _insert(conn, PropertyProject.__table__, ({"compound_id": i + 1, "company": f"物业公司{i % 300 + 1}",
                                               "name": f"小区{i + 1}项目"} for i in range(compounds)))
    # Per compound: secretary, grid worker, 5 party members, 5 residents (ids in that order).
    per = 12
    people = []
    for c in range(1, compounds + 1):
        people += [{"name": f"书记{c}", "compound_id": c, "on_roster": 1, "created_at": created},
                   {"name": f"网格员{c}", "compound_id": c, "on_roster": 1, "created_at": created}]
        people += [{"name": f"党员{c}-{j}", "compound_id": c, "on_roster": 1, "created_at": created} for j in range(5)]
        people += [{"name": f"居民{c}-{j}", "compound_id": c, "created_at": created} for j in range(5)]
    _insert(conn, Person.__table__, people)

    def pid(c: int, k: int) -> int:
        return (c - 1) * per + k + 1

    roles = []
    for c in range(1, compounds + 1):
        roles += [{"person_id": pid(c, 0), "name": "secretary", "compound_id": c, "granted_at": created},
                  {"person_id": pid(c, 1), "name": "grid_worker", "compound_id": c, "granted_at": created}]
        roles += [{"person_id": pid(c, 2 + j), "name": "party_member", "compound_id": c, "granted_at": created}
                  for j in range(5)]
    _insert(conn, Role.__table__, roles)
    _insert(conn, Identity.__table__, ({"account": "bench", "platform_id": f"wx{c}-{k}", "person_id": pid(c, k),
                                        "first_seen_at": created, "last_seen_at": created,
                                        "active": int(rng.random() < 0.9)}
                                       for c in range(1, compounds + 1) for k in (0, 1)))
    _insert(conn, IdentityRequest.__table__, ({"person_id": pid(c, 2 + j), "compound_id": c, "role": "party_member",
                                               "state": "approved", "created_at": created, "decided_at": created}
                                              for c in range(1, compounds + 1) for j in range(rng.randrange(0, 6))))
    _insert(conn, VolunteerPost.__table__, ({"compound_id": c, "name": f"岗位{j}", "holder_count": rng.randrange(0, 3),
                                             "created_at": created} for c in range(1, compounds + 1) for j in range(3)))

    number = {c: 0 for c in range(1, compounds + 1)}

    def ticket_rows():
        for c in range(1, compounds + 1):
            for _ in range(120):
                at = when()
                state = rng.choice(STATES)
                resolved = at + timedelta(hours=rng.randrange(2, 120)) if state in ("resolved", "closed") else None
                if resolved and resolved > NOW:
                    resolved = NOW - timedelta(minutes=5)
                number[c] += 1
                yield {"compound_id": c, "number": number[c], "state": state, "text": "问题", "created_at": _ts(at),
                       "updated_at": _ts(resolved or at), "category": rng.choice(CATEGORIES),
                       "assignee_kind": "property" if rng.random() < 0.2 else None,
                       "first_response_due": _ts(at + timedelta(hours=24)),
                       "first_response_at": _ts(at + timedelta(hours=rng.randrange(1, 30))) if state != "new" else None,
                       "resolve_due": _ts(at + timedelta(days=3)), "resolved_at": _ts(resolved) if resolved else None,
                       "closed_at": _ts(resolved + timedelta(days=3)) if state == "closed" and resolved else None,
                       "reopen_count": int(rng.random() < 0.03), "reporter_person_id": pid(c, 7 + rng.randrange(5))}

    tickets = _insert(conn, Ticket.__table__, ticket_rows())
    rated = conn.execute("SELECT id, reporter_person_id, resolved_at FROM tickets WHERE resolved_at IS NOT NULL").fetchall()
    _insert(conn, TicketReporter.__table__, (
        {"ticket_id": tid, "person_id": p, "reported_at": at, "text": "", "rated_at": at,
         "rating": rng.choice(["satisfied", "satisfied", "basic", "unsatisfied", "default"])}
        for tid, p, at in rated))
    _insert(conn, Wish.__table__, ({"compound_id": c, "summary": "心愿", "created_at": _ts(w), "updated_at": _ts(w),
                                    "state": rng.choice(["open", "claimed", "done", "confirmed", "confirmed", "cancelled"])}
                                   for c in range(1, compounds + 1) for w in (when() for _ in range(12))))
    _insert(conn, DiscussionDay.__table__, ({"compound_id": c, "starts_at": _ts(year_ago + timedelta(days=91 * q + 20)),
                                             "state": rng.choice(["held", "held", "held", "cancelled"]), "created_at": created}
                                            for c in range(1, compounds + 1) for q in range(4)))
    days = conn.execute("SELECT id, compound_id FROM discussion_days").fetchall()
    _insert(conn, AgendaItem.__table__, ({"discussion_day_id": d, "compound_id": c, "topic": "议题",
                                          "scope": json.dumps(["物业"] if rng.random() < 0.8 else []),
                                          "owner_label": "物业" if rng.random() < 0.8 else "",
                                          "state": rng.choice(["open", "discussed", "discussed"]), "outcome": "已议定",
                                          "created_at": created} for d, c in days for _ in range(3)))
    _insert(conn, VisitTarget.__table__, ({"compound_id": c, "kind": "weekly", "label": "对象", "created_at": created,
                                           "last_visited_at": _ts(when())} for c in range(1, compounds + 1) for _ in range(10)))
    _insert(conn, HotlineOrder.__table__, ({"order_no": f"H{c}-{j}", "compound_id": c, "received_at": _ts(when()),
                                            "imported_at": created} for c in range(1, compounds + 1) for j in range(12)))
    _insert(conn, Notice.__table__, ({"kind": "notice", "status": "sent", "text": "通知", "scope": "compound",
                                      "scope_label": f"小区{c}", "compound_id": c, "created_at": _ts(at), "sent_at": _ts(at),
                                      "ack_until": _ts(at + timedelta(days=1))}
                                     for c in range(1, compounds + 1) for at in (when() for _ in range(12))))
    notices = conn.execute("SELECT id, compound_id, sent_at FROM notices").fetchall()
    _insert(conn, NoticeDelivery.__table__, ({"notice_id": n, "compound_id": c, "person_id": pid(c, 7 + k),
                                              "status": "sent", "created_at": at, "sent_at": at}
                                             for n, c, at in notices for k in range(2)))
    deliveries = conn.execute("SELECT id, notice_id, person_id, sent_at FROM notice_deliveries").fetchall()
    _insert(conn, NoticeAck.__table__, ({"notice_id": n, "delivery_id": d, "person_id": p, "at": at}
                                        for d, n, p, at in deliveries if rng.random() < 0.7))
    _insert(conn, RatingEntry.__table__, ({"compound_id": c, "kind": "audit", "title": "审计问题", "owner": "业委会",
                                           "occurred_at": created, "deadline": _ts(dl), "created_at": created,
                                           "created_by": "bench", "closed_at": _ts(dl - timedelta(days=3))
                                           if rng.random() < 0.7 else None}
                                          for c in range(1, compounds + 1) for dl in (when() for _ in range(2))))
    _insert(conn, PropertyReview.__table__, ({"project_id": c, "compound_id": c, "period": "2026-Q4",
                                              "scores": json.dumps({"management": 15}), "form_score": rng.randrange(50, 100),
                                              "submitted_at": _ts(NOW - timedelta(days=10)), "submitted_by": f"书记{c}"}
                                             for c in range(1, compounds + 1) if rng.random() < 0.8))
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    print(f"built {compounds} compounds, {tickets:,} tickets and a year of activity in {time.perf_counter() - t0:.1f} s")


async def measure(path: Path) -> dict:
    from sqlalchemy import select

    from bot import db
    from bot.clock import FakeClock
    from bot.config import OutboxSettings, Settings
    from bot.orgdir import OrgDirectory
    from bot.outbox import Outbox
    from bot.services import Deps
    from bot.services.rating import lists, runs, standard
    from schedules.context import SYSTEM

    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = db.session_factory(engine)
    clock, org, settings = FakeClock(NOW), OrgDirectory(), Settings()
    outbox = Outbox(OutboxSettings(), clock)
    std = standard.load()
    results: dict = {}
    async with sessions() as session:
        await org.refresh(session)
        await session.execute(select(1))
    async with sessions() as session:
        deps = Deps(session, clock, outbox, org, settings)
        # CPU seconds of every thread (the SQLite driver runs in one): on a shared, loaded
        # machine the wall time waits for cores, the CPU time does not.
        t, cpu = time.perf_counter(), time.process_time()
        run = await runs.compute_run(deps, std, "2026-Q4", SYSTEM)
        await session.commit()
        results["quarterly_run_s"] = time.perf_counter() - t
        results["quarterly_run_cpu_s"] = time.process_time() - cpu
        rows = await runs.ratings_of(deps, run)
        results["compounds_rated"] = len(rows)
        results["stars"] = {s: sum(1 for r in rows if r.stars == s) for s in range(5, -1, -1)}
    async with sessions() as session:
        deps = Deps(session, clock, outbox, org, settings)
        t = time.perf_counter()
        result = await lists.compute_lists(deps, std, "2026-12")
        await session.commit()
        results["monthly_lists_s"] = time.perf_counter() - t
        results["red"], results["black"] = len(result.red), len(result.black)
    await engine.dispose()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=1100)
    parser.add_argument("--db", default=str(ROOT / "var" / "bench-rating.db"))
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path = Path(args.db)
    if args.build_only:
        build(path, args.compounds)
        return 0
    if args.rebuild or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        # Built in a child process, so the peak RSS below is the rating run's, not the loader's.
        subprocess.run([sys.executable, __file__, "--build-only", "--db", str(path), "--compounds",
                        str(args.compounds)], check=True)
    else:
        print(f"reusing {path} (--rebuild to build it again)")
    conn = sqlite3.connect(path)  # each measurement starts from the built state
    for table in ("compound_ratings", "rating_runs", "property_lists", "events"):
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()
    results = asyncio.run(measure(path))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    ok = lambda value, limit: "OK" if value < limit else "OVER"  # noqa: E731
    print(f"quarterly rating run ({results['compounds_rated']} compounds): {results['quarterly_run_s']:.2f} s  "
          f"[{ok(results['quarterly_run_s'], 5)} < 5 s]  CPU {results['quarterly_run_cpu_s']:.2f} s  "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)  stars: " +
          ", ".join(f"{s}★ {n}" for s, n in results["stars"].items() if n))
    print(f"monthly red/black lists: {results['monthly_lists_s']:.2f} s  (red {results['red']}, black {results['black']})")
    print(f"peak RSS: {results['peak_rss_mb']:.0f} MB  [{ok(results['peak_rss_mb'], 300)} < 300 MB]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
