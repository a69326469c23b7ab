"""Building the WeCom transports from ``[wecom]`` and wiring them into the process: the
callback routes on the web app, the configured groups bound to their compounds, the tracker
of customer-group sends."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, AsyncIterator, Callable, Iterable

from aiohttp import web
from sqlalchemy import select

from bot.models import ChatGroup
from bot.services import groups
from bot.texts import wecom as T
from bot.transports.base import StartupError, Transport
from bot.transports.wecom.aibot import AgentSender, WecomBotTransport
from bot.transports.wecom.api import WecomHttp
from bot.transports.wecom.customer import CustomerGroupTransport, GroupSendTracker
from bot.transports.wecom.hook import WecomHookTransport
from bot.transports.wecom.settings import WecomSettings

if TYPE_CHECKING:
    from bot.app import BotApp
    from bot.config import Settings


def build_wecom_transports(settings: "Settings | WecomSettings",
                           now: Callable[[], datetime] | None = None) -> list[Transport]:
    """One transport per intelligent bot, webhook robot and customer-contact account."""
    config: WecomSettings = getattr(settings, "wecom", settings)
    timeout = config.timeout_seconds
    transports: list[Transport] = []
    extra = {"now": now} if now is not None else {}
    if config.bot is not None:
        agent = None
        if config.agent_id is not None and config.agent_secret is not None and config.corp_id:
            agent = AgentSender(WecomHttp(timeout), config.api_base, config.corp_id, config.agent_id,
                                config.agent_secret.get_secret_value())
        transports.append(WecomBotTransport(config.bot, http=WecomHttp(timeout), agent=agent, **extra))
    for hook in config.hooks:
        transports.append(WecomHookTransport(hook, api_base=config.api_base, http=WecomHttp(timeout), **extra))
    if config.customer_contact is not None:
        assert config.corp_id  # checked by the settings
        transports.append(CustomerGroupTransport(config.customer_contact, api_base=config.api_base,
                                                 corp_id=config.corp_id, http=WecomHttp(timeout)))
    return transports


def callback_routes(transports: Iterable[Transport]) -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for transport in transports:
        if isinstance(transport, WecomBotTransport):
            routes.extend(transport.routes())
    return routes


async def bind_groups(app: "BotApp") -> int:
    """The robots' and customer groups' ChatGroups, bound to their configured compounds
    (nobody can type ``绑定`` into them). Raises StartupError for an unknown compound."""
    wanted: list[tuple[str, str, str, str | None]] = []  # account, platform id, topic, compound
    for transport in app.transports.values():
        if isinstance(transport, WecomHookTransport):
            wanted.extend(_hook_groups(app, transport))
        elif isinstance(transport, CustomerGroupTransport):
            wanted.extend((transport.account, g.chat_id, g.topic, g.compound) for g in transport.config.groups)
    if not wanted:
        return 0
    now = app.clock.now()
    async with app.sessions() as session:
        for account, platform_id, topic, compound in wanted:
            compound_id = None
            if compound is not None:
                info = app.org.by_name.get(compound)
                if info is None:
                    raise StartupError(T.UNKNOWN_COMPOUND.format(compound=compound, what=f"{account} {topic}"))
                compound_id = info.id
            group = (await session.execute(select(ChatGroup).where(
                ChatGroup.account == account, ChatGroup.platform_id == platform_id))).scalar_one_or_none()
            if group is None:
                group = ChatGroup(account=account, platform_id=platform_id, topic=topic, first_seen_at=now)
                session.add(group)
                await session.flush()
            group.topic = topic
            groups.bind(session, app.org, group, compound_id, now)
            # A webhook the outbox disabled (93000) stays disabled until the operator changes
            # its key and restarts: a restart re-activates it here.
            group.active = True
        await session.commit()
    await app.refresh_org()
    return len(wanted)


def _hook_groups(app: "BotApp", hook: WecomHookTransport) -> list[tuple[str, str, str, str | None]]:
    config = hook.config
    if config.community is None:
        return [(hook.account, hook.group_id, config.topic, config.compound)]
    ids = [k for k, name in app.org.communities.items() if name == config.community]
    if not ids:
        raise StartupError(T.UNKNOWN_COMMUNITY.format(community=config.community, what=f"{hook.account} {config.topic}"))
    compounds = sorted(c for c, k in app.org.community_of.items() if k in ids)
    return [(hook.account, f"{hook.group_id}#{c}", config.topic, app.org.name_of(c)) for c in compounds]


def mount_wecom(web_app: web.Application, app: "BotApp") -> None:
    """Serve the callbacks on the web app; at its start bind the groups and follow group sends."""
    web_app.add_routes(callback_routes(app.transports.values()))

    async def lifecycle(_web_app: web.Application) -> AsyncIterator[None]:
        await bind_groups(app)
        tasks = []
        customer = [t for t in app.transports.values() if isinstance(t, CustomerGroupTransport)]
        if customer:
            minutes = min(t.config.poll_minutes for t in customer)
            tasks.append(asyncio.create_task(GroupSendTracker(app).run_forever(minutes * 60),
                                             name="wecom-group-sends"))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    web_app.cleanup_ctx.append(lifecycle)
