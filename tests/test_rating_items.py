"""The computed items, each against a hand-built fixture: the figure and the ids behind it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.models import ChatGroup, Event, Identity, Person
from bot.models.members import IdentityRequest, VolunteerPost
from bot.models.notices import Notice, NoticeAck, NoticeDelivery
from bot.models.rating import RatingEntry
from bot.models.schedules import VisitTarget
from bot.models.tickets import AgendaItem, DiscussionDay, HotlineOrder, Ticket, TicketReporter
from bot.models.wishes import Wish
from bot.services.rating import periods, standard
from bot.services.rating.metrics import Period, measure_all

COMPOUND = "阳光花园"


def at(h, *args):  # noqa: ANN001
    return datetime(*args).replace(tzinfo=h.clock.tz)


async def measure(h, metric: str, period: str = "2026-Q4"):  # noqa: ANN001
    cid = h.bot.org.by_name[COMPOUND].id
    start, end = periods.bounds(period, h.clock.tz)
    prev, _ = periods.bounds(periods.previous(period, "quarter"), h.clock.tz)
    async with h.session() as session:
        found = await measure_all(session, Period(start, end, prev, h.clock.now()),
                                  standard.for_settings(h.settings).complaints, [cid])
    return found[metric].get(cid)


async def add(h, *rows) -> list:  # noqa: ANN001
    async with h.session() as session:
        session.add_all(rows)
        await session.commit()
        return [r.id for r in rows]


def cid(h) -> int:  # noqa: ANN001
    return h.bot.org.by_name[COMPOUND].id


async def person(h, name: str) -> int:  # noqa: ANN001
    async with h.session() as session:
        return (await session.execute(select(Person.id).where(Person.name == name))).scalar_one()


def rating(ticket_id: int, person_id: int, value: str, when: datetime) -> tuple:
    """A reporter's answer as the tickets service leaves it: the row and the "rated" event."""
    return (TicketReporter(ticket_id=ticket_id, person_id=person_id, reported_at=when, rating=value, rated_at=when),
            Event(subject_kind="ticket", subject_id=ticket_id, action="rated", at=when, actor_person_id=person_id,
                  to_state=value))


_numbers = iter(range(1, 10_000))


def ticket(h, created, **kw) -> Ticket:  # noqa: ANN001
    kw.setdefault("state", "closed")
    kw.setdefault("category", "other")
    return Ticket(compound_id=cid(h), number=next(_numbers), text="测试", created_at=created, updated_at=created, **kw)


async def test_staff_linked_counts_secretary_and_grid_worker_with_a_linked_chat_identity(h):
    wang = await person(h, "王网格")
    async with h.session() as session:
        await session.execute(update(Identity).where(Identity.person_id == wang).values(active=False))
        await session.commit()
    m = await measure(h, "staff_linked")
    assert (m.value, m.shown, m.data["people"]) == (0.5, "1/2", [await person(h, "李书记")])


async def test_party_shown_is_the_share_of_party_members_with_an_approved_identity_request(h):
    zhang = await person(h, "张党员")
    await add(h, IdentityRequest(person_id=zhang, compound_id=cid(h), role="party_member", state="approved",
                                 created_at=at(h, 2026, 11, 2), decided_at=at(h, 2026, 11, 3)))
    m = await measure(h, "party_shown")
    assert m.shown == "1/3" and zhang in m.data["people"]                # 李书记, 张党员, 赵楼长


async def test_posts_staffed_is_the_share_of_active_posts_with_a_holder(h):
    now = h.clock.now()
    staffed, empty = await add(h, VolunteerPost(compound_id=cid(h), name="巡查", holder_count=2, created_at=now),
                               VolunteerPost(compound_id=cid(h), name="调解", holder_count=0, created_at=now))
    m = await measure(h, "posts_staffed")
    assert (m.value, m.data["posts"]) == (0.5, sorted([staffed, empty]))


async def test_discussion_days_held_count_and_their_agenda_items_four_fixes_and_resolution(h):
    held, planned = await add(
        h, DiscussionDay(compound_id=cid(h), starts_at=at(h, 2026, 11, 10, 19), state="held", created_at=h.clock.now()),
        DiscussionDay(compound_id=cid(h), starts_at=at(h, 2026, 11, 20, 19), state="planned", created_at=h.clock.now()))
    full, partial = await add(
        h, AgendaItem(discussion_day_id=held, compound_id=cid(h), topic="电梯加装", scope=["物业", "业委会"],
                      owner_label="周经理", state="discussed", outcome="分两期实施", created_at=h.clock.now()),
        AgendaItem(discussion_day_id=held, compound_id=cid(h), topic="停车", scope=[], owner_label="",
                   state="open", created_at=h.clock.now()))
    days, fixes, resolved = (await measure(h, "discussion_days"), await measure(h, "four_fixes"),
                             await measure(h, "agenda_resolved"))
    assert (days.value, days.data["meetings"]) == (1, [held])
    assert (fixes.shown, fixes.data["agenda"]) == ("1/2", [full, partial])
    assert resolved.shown == "1/2"


async def test_first_response_on_time_leaves_out_tickets_whose_deadline_has_not_come(h):
    oct1 = at(h, 2026, 10, 5, 9)
    on_time, late, _ = await add(
        h, ticket(h, oct1, first_response_due=oct1 + timedelta(hours=2), first_response_at=oct1 + timedelta(hours=1)),
        ticket(h, oct1, first_response_due=oct1 + timedelta(hours=2), first_response_at=oct1 + timedelta(hours=5)),
        ticket(h, h.clock.now(), state="new", first_response_due=h.clock.now() + timedelta(hours=2)))
    m = await measure(h, "first_response_on_time")
    assert (m.value, m.data["tickets"], m.data["late"]) == (0.5, [on_time, late], [late])


async def test_resolved_on_time_counts_an_unresolved_ticket_past_its_deadline_as_late(h):
    oct1 = at(h, 2026, 10, 5, 9)
    ok, stuck = await add(
        h, ticket(h, oct1, resolve_due=oct1 + timedelta(days=3), resolved_at=oct1 + timedelta(days=1)),
        ticket(h, oct1, state="assigned", resolve_due=oct1 + timedelta(days=3)))
    m = await measure(h, "resolved_on_time")
    assert (m.value, m.data["late"]) == (0.5, [stuck])


async def test_satisfaction_counts_ratings_given_in_the_period_but_not_default_closures(h):
    t1, t2, t3 = await add(h, *(ticket(h, at(h, 2026, 10, 5)) for _ in range(3)))
    zhang, li, wang = await person(h, "张三"), await person(h, "李四"), await person(h, "王奶奶")
    rated = at(h, 2026, 10, 9)
    await add(h, *rating(t1, zhang, "satisfied", rated), *rating(t2, li, "unsatisfied", rated),
              TicketReporter(ticket_id=t3, person_id=wang, reported_at=rated, confirm_asked_at=rated),
              # 王奶奶 never answered: the auto-close gave her the default rating.
              Event(subject_kind="ticket", subject_id=t3, action="auto_closed", at=rated, to_state="closed",
                    data={"defaulted": 1}))
    m = await measure(h, "satisfaction")
    assert (m.value, m.data["tickets"]) == (0.5, [t1, t2])


async def test_wishes_fulfilled_is_done_or_confirmed_among_wishes_not_cancelled(h):
    when = at(h, 2026, 11, 1)
    done, open_, _ = await add(h, *(Wish(compound_id=cid(h), summary="修轮椅", state=state, created_at=when,
                                         updated_at=when) for state in ("confirmed", "open", "cancelled")))
    m = await measure(h, "wishes_fulfilled")
    assert (m.value, m.data["wishes"]) == (0.5, [done, open_])


async def test_visits_done_is_the_share_of_active_targets_visited_in_the_period(h):
    made = at(h, 2026, 9, 1)
    now_visited, long_ago = await add(
        h, VisitTarget(compound_id=cid(h), kind="weekly", label="3号楼独居老人", created_at=made,
                       last_visited_at=at(h, 2026, 11, 20)),
        VisitTarget(compound_id=cid(h), kind="weekly", label="5号楼困难户", created_at=made,
                    last_visited_at=at(h, 2026, 9, 20)))
    m = await measure(h, "visits_done")
    assert (m.value, m.data["visits"]) == (0.5, [now_visited, long_ago])


async def test_notice_acks_is_the_share_of_deliveries_answered_with_a_shou_dao(h):
    sent = at(h, 2026, 11, 5, 10)
    async with h.session() as session:
        groups = list((await session.execute(select(ChatGroup.id).where(ChatGroup.compound_id == cid(h))
                                             .order_by(ChatGroup.id))).scalars())
    [notice] = await add(h, Notice(kind="notice", status="sent", text="停水通知", scope="compound", scope_label=COMPOUND,
                                   compound_id=cid(h), created_at=sent, sent_at=sent, ack_until=sent + timedelta(days=1)))
    await add(h, *(NoticeDelivery(notice_id=notice, group_id=g, compound_id=cid(h), status="sent", created_at=sent,
                                  sent_at=sent) for g in groups))
    await add(h, NoticeAck(notice_id=notice, person_id=await person(h, "张三"), group_id=groups[0], at=sent))
    m = await measure(h, "notice_acks")
    assert (m.shown, m.data["notices"]) == ("1/2", [notice])


async def test_overdue_closed_is_the_share_of_overdue_or_reopened_tickets_now_closed(h):
    oct1 = at(h, 2026, 10, 5, 9)
    closed_late, reopened_open, _fine = await add(
        h, ticket(h, oct1, resolve_due=oct1 + timedelta(days=1), resolved_at=oct1 + timedelta(days=4)),
        ticket(h, oct1, state="assigned", reopen_count=1),
        ticket(h, oct1, resolve_due=oct1 + timedelta(days=3), resolved_at=oct1 + timedelta(days=1)))
    m = await measure(h, "overdue_closed")
    assert (m.value, m.data["tickets"], m.data["open"]) == (0.5, [closed_late, reopened_open], [reopened_open])


async def test_audit_on_time_is_the_share_of_findings_due_in_the_period_closed_by_their_deadline(h):
    due = at(h, 2026, 11, 15)
    kw = dict(compound_id=cid(h), kind="audit", occurred_at=at(h, 2026, 10, 1), owner="钱主任", deadline=due,
              created_at=at(h, 2026, 10, 1), created_by="陈社区")
    on_time, late, _later = await add(
        h, RatingEntry(title="公共收益未公示", closed_at=due - timedelta(days=2), **kw),
        RatingEntry(title="维修资金台账不全", closed_at=due + timedelta(days=2), **kw),
        RatingEntry(title="合同未备案", **(kw | {"deadline": at(h, 2026, 12, 20)})))
    m = await measure(h, "audit_on_time")
    assert (m.value, m.data["entries"], m.data["late"]) == (0.5, [on_time, late], [late])


async def test_hotline_change_compares_this_periods_12345_orders_with_the_last(h):
    orders = [HotlineOrder(order_no=f"Q3-{i}", compound_id=cid(h), received_at=at(h, 2026, 8, 10 + i),
                           imported_at=h.clock.now()) for i in range(4)]
    orders += [HotlineOrder(order_no=f"Q4-{i}", compound_id=cid(h), received_at=at(h, 2026, 10, 10 + i),
                            imported_at=h.clock.now()) for i in range(3)]
    ids = await add(h, *orders)
    m = await measure(h, "hotline_change")
    assert (m.value, m.shown, m.data["hotline_orders"]) == (-0.25, "本期 3 件 / 上期 4 件", ids[4:])


async def test_property_overdue_counts_tickets_handed_to_the_property_past_their_deadline(h):
    oct1 = at(h, 2026, 10, 5, 9)
    late, _ok, _other = await add(
        h, ticket(h, oct1, state="assigned", assignee_kind="property", resolve_due=oct1 + timedelta(days=2)),
        ticket(h, oct1, assignee_kind="property", resolve_due=oct1 + timedelta(days=2), resolved_at=oct1),
        ticket(h, oct1, state="assigned", assignee_kind="grid_worker", resolve_due=oct1 + timedelta(days=2)))
    m = await measure(h, "property_overdue")
    assert (m.value, m.data["tickets"]) == (1, [late])


async def test_property_satisfaction_reads_only_the_tickets_the_complaint_rule_counts(h):
    lift, noise = await add(h, ticket(h, at(h, 2026, 10, 5), category="elevator"),
                            ticket(h, at(h, 2026, 10, 5), category="noise"))
    rated = at(h, 2026, 10, 9)
    await add(h, *rating(lift, await person(h, "张三"), "unsatisfied", rated),
              *rating(noise, await person(h, "李四"), "satisfied", rated))
    m = await measure(h, "property_satisfaction")
    assert (m.value, m.data["tickets"]) == (0.0, [lift])
