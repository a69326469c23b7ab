"""A rated quarter for the demo history: property forms, one commendation, the draft, the
community's review and the district's approval — what a district would see after a quarter."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import RoleName
from bot.models.rating import RatingRun
from bot.roles import Grant, Roles
from bot.services import Actor, Deps
from bot.services.rating import entries, periods, runs, standard
from bot.services.rating.complaints import project_of_compound

_DISTRICT = Actor(name="区级工作人员（演示）", roles=Roles([Grant(RoleName.DISTRICT_STAFF, None, None)], {}),
                  web_user="demo")


async def rate_quarter(deps: Deps, period: str | None = None, *, publish: bool = False) -> RatingRun:
    """Rate ``period`` (default: the last finished one) end to end, as the demo district.
    Forms get deterministic scores (85–95 % of each item); nothing is sent unless ``publish``."""
    std = standard.for_settings(deps.settings)
    period = period or periods.last_finished(deps.clock.local(), std.period)
    existing = (await deps.session.execute(select(RatingRun).where(RatingRun.period == period))).scalar_one_or_none()
    if existing is not None and existing.status != "draft":
        return existing
    start, end = periods.bounds(period, deps.clock.tz)
    for index, compound_id in enumerate(sorted(await project_of_compound(deps.session))):
        share = 0.85 + 0.05 * (index % 3)
        await entries.submit_review(deps, _DISTRICT, std, compound_id, period,
                                    {i.key: round(i.points * share * 2) / 2 for i in std.property.form})
    first = min(deps.org.compounds) if deps.org.compounds else None
    if first is not None:
        await entries.add_entry(deps, _DISTRICT, std, first, "positive", "获评区级“红色物业”示范小区（演示）",
                                occurred_at=start + (end - start) / 2, evidence="区委组织部通报（演示数据）")
    run = await runs.compute_run(deps, std, period, _DISTRICT)
    await runs.review(deps, _DISTRICT, run)
    await runs.approve(deps, _DISTRICT, run)
    if publish:
        await runs.publish(deps, std, run, _DISTRICT)
    return run
