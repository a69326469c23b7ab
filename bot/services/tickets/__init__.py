"""有事找支部: the rules of tickets, shared by chat handlers, the dashboard and schedules.

Lifecycle (every change is an ``Event`` row with subject_kind="ticket"):

    report()  ─► new ─► assign()/transfer ─► assigned ─► resolve() ─► resolved ─► rate() ─► closed
                  │                                            ▲          │ unsatisfied: reopen()
                  └─ mark_not_issue() ─► rejected               └──────────┘ (second reopen: supervise)
    merge() ─► merged (into another ticket);  split() moves one reporter to a new ticket
    sweep: escalate_overdue() (督办 to the community), close_unconfirmed() (auto-close)

One module per job; callers import the module that holds what they use:

- ``policy``      settings per compound, deadlines, category labels, quiet hours
- ``naming``      ticket codes, "category · place", quotes, spans, parsing "#0042"
- ``people``      role holders of a compound, a ticket's reporters
- ``rights``      who may handle, view, resolve; the system actor
- ``events``      the Event row of every change
- ``notify``      private messages about a ticket
- ``intake``      ``report()``: a new ticket or a duplicate joined
- ``media``       photos and videos around a report
- ``announce``    who hears of a new or urgent ticket (and of an undelivered urgent alert)
- ``lookup``      the ticket a chat message means
- ``workflow``    assign/transfer, notes, acknowledgement, not-an-issue, recategorize, merge, split
- ``resolution``  resolve, confirmation and rating, close, reopen
- ``supervision`` 督办
- ``sweeps``      the scheduled escalation and auto-close
- ``queries``     ticket views, lists, timelines for chat, dashboard and digests
- ``stats``       counts for the dashboard, digests and rankings
- ``corrections`` NLP corrections as training lines

Commands on a ticket (all take ``deps: Deps, actor: Actor, ticket: Ticket``) raise
``ServiceError`` (Chinese, shown as is). Agenda items (议事) live in ``bot.services.agenda``;
hotline links and imports in ``bot.services.hotline``; how chat messages find their ticket
(quotes, recalls, follow-ups) in ``bot.services.ticket_talk``.

Settings (per compound, in ``Compound.settings``; district-wide in a ``tickets`` settings
section if the configuration has one; else the defaults in ``policy``): ``ack_mode`` ("group" |
"private"), ``duplicate_window_hours``, ``confirm_days``, ``quiet_hours`` ([22, 7]: non-urgent
notices to staff at night wait for the morning), ``ticket_deadlines`` (e.g.
``{"urgent": {"first_response_minutes": 30, "resolve_hours": 24},
"elevator": {"first_response_hours": 8, "resolve_days": 3}}``).
"""
