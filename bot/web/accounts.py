"""Web accounts: create, authenticate (throttled), sessions, API tokens (each change on the audit trail).

Shared by the dashboard, the JSON API and ``zhibu user …``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.config import Settings
from bot.models import Person
from bot.models.web import ApiToken, LoginFailure, WebRole, WebSession, WebSetting, WebUser, WebUserScope
from bot.orgdir import OrgDirectory
from bot.texts import web as T
from bot.web import security
from bot.web.ids import valid_id

THROTTLE_WINDOW = timedelta(minutes=15)
# Per user name AND address: someone guessing elsewhere never locks the real user out.
FREE_FAILURES = 5                   # then each further try waits FIRST_DELAY, doubling, up to the window
FIRST_DELAY = timedelta(minutes=1)
MAX_FAILURES_PER_IP = 20   # a community office shares one address: a little more room
SESSION_TTL = timedelta(days=7)
SESSION_IDLE = timedelta(hours=12)
SESSION_TOUCH = timedelta(minutes=5)  # last_seen is written at most this often

_USERNAME = re.compile(r"^[\w.\-]{2,64}$")


class AccountError(Exception):
    """A rule said no; the message is Chinese, ``field`` names the input that is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Throttled(AccountError):
    def __init__(self, minutes: int) -> None:
        super().__init__(T.LOGIN_THROTTLED.format(minutes=minutes), None)
        self.minutes = minutes


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: str
    display_name: str | None = None
    compounds: tuple[str | int, ...] = ()    # names or ids
    communities: tuple[str | int, ...] = ()  # names or ids
    person: str | int | None = None          # roster name or id
    is_admin: bool = False


# ---------------------------------------------------------------- secret
async def load_secret(session: AsyncSession, settings: Settings) -> str:
    """The configured secret, else one generated once and kept in the database."""
    if settings.web.secret_key:
        return settings.web.secret_key
    row = await session.get(WebSetting, "secret_key")
    if row is None:
        row = WebSetting(key="secret_key", value=security.new_token(48))
        session.add(row)
        await session.commit()
    return row.value


# ---------------------------------------------------------------- users
def _resolve_compound(org: OrgDirectory, ref: str | int) -> int:
    if isinstance(ref, int) or str(ref).isdigit():
        if int(ref) in org.compounds:
            return int(ref)
    else:
        info = org.by_name.get(str(ref).strip())
        if info is not None:
            return info.id
    raise AccountError(T.UNKNOWN_COMPOUND.format(name=ref), "compounds")


def _resolve_community(org: OrgDirectory, ref: str | int) -> int:
    if isinstance(ref, int) or str(ref).isdigit():
        if int(ref) in org.communities:
            return int(ref)
    else:
        for cid, name in org.communities.items():
            if name == str(ref).strip():
                return cid
    raise AccountError(T.UNKNOWN_COMMUNITY.format(name=ref), "communities")


async def _resolve_person(session: AsyncSession, ref: str | int) -> int:
    if valid_id(ref):
        person = await session.get(Person, int(ref))
        if person is not None:
            return person.id
    else:
        ids = list((await session.execute(select(Person.id).where(
            Person.name == str(ref).strip(), Person.on_roster.is_(True)))).scalars())
        if len(ids) == 1:
            return ids[0]
    raise AccountError(T.UNKNOWN_PERSON.format(name=ref), "person")


async def create_user(session: AsyncSession, org: OrgDirectory, now: datetime, spec: NewUser,
                      created_by: str | None) -> WebUser:
    username = spec.username.strip()
    if not _USERNAME.match(username):
        raise AccountError(T.USERNAME_INVALID, "username")
    if spec.role not in {r.value for r in WebRole}:
        raise AccountError(T.INVALID_FIELD.format(field="role", reason="、".join(WebRole)), "role")
    problem = security.password_problem(spec.password)
    if problem:
        raise AccountError(problem, "password")
    exists = (await session.execute(select(WebUser.id).where(
        func.lower(WebUser.username) == username.lower()))).first()
    if exists:
        raise AccountError(T.USER_EXISTS.format(name=username), "username")
    compound_ids = [_resolve_compound(org, c) for c in spec.compounds]
    community_ids = [_resolve_community(org, c) for c in spec.communities]
    person_id = await _resolve_person(session, spec.person) if spec.person not in (None, "") else None
    if spec.role == WebRole.SECRETARY and not compound_ids:
        raise AccountError(T.SCOPE_REQUIRED_COMPOUND, "compounds")
    if spec.role == WebRole.COMMUNITY_STAFF and not community_ids:
        raise AccountError(T.SCOPE_REQUIRED_COMMUNITY, "communities")
    if spec.is_admin and spec.role != WebRole.DISTRICT_STAFF:
        raise AccountError(T.ADMIN_ONLY_DISTRICT, "is_admin")
    user = WebUser(
        username=username, display_name=(spec.display_name or username).strip()[:64],
        password_hash=await security.hash_off_loop(spec.password), role=spec.role, is_admin=spec.is_admin,
        person_id=person_id, active=True, created_at=now, created_by=created_by, password_changed_at=now,
    )
    user.scopes = (
        [WebUserScope(compound_id=c) for c in dict.fromkeys(compound_ids)] if spec.role == WebRole.SECRETARY
        else [WebUserScope(community_id=c) for c in dict.fromkeys(community_ids)]
        if spec.role == WebRole.COMMUNITY_STAFF else []
    )
    session.add(user)
    await session.flush()
    record_event(session, "web_user", user.id, "created", now, actor_web_user=created_by,
                 note=f"{username}（{T.WEB_ROLE_LABELS.get(spec.role, spec.role)}）",
                 data={"role": spec.role, "compounds": compound_ids, "communities": community_ids,
                       "is_admin": spec.is_admin, "person_id": person_id})
    return user


async def get_user(session: AsyncSession, username: str) -> WebUser | None:
    return (await session.execute(select(WebUser).where(
        func.lower(WebUser.username) == username.strip().lower()))).scalar_one_or_none()


async def set_password(session: AsyncSession, user: WebUser, password: str, now: datetime,
                       by: str | None) -> None:
    problem = security.password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = await security.hash_off_loop(password)
    user.password_changed_at = now
    await session.execute(delete(WebSession).where(WebSession.web_user_id == user.id))
    record_event(session, "web_user", user.id, "password_changed", now, actor_web_user=by, note=user.username)


async def set_active(session: AsyncSession, user: WebUser, active: bool, now: datetime, by: str | None) -> None:
    if user.active == active:
        return
    user.active = active
    if not active:
        await session.execute(delete(WebSession).where(WebSession.web_user_id == user.id))
        await session.execute(update(ApiToken).where(ApiToken.web_user_id == user.id,
                                                     ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    record_event(session, "web_user", user.id, "enabled" if active else "disabled", now, actor_web_user=by,
                 note=user.username)


async def person_roles(session: AsyncSession, user: WebUser) -> list:
    if user.person_id is None:
        return []
    person = await session.get(Person, user.person_id)
    return list(person.roles) if person is not None else []


# ---------------------------------------------------------------- log-in
def _user_key(username: str, ip: str | None) -> str:
    # Hashed: a 64-character name plus an IPv6 address would not fit the key column.
    return "ua:" + security.token_hash(f"{username.lower()}|{ip or '?'}")[:40]


async def _failures(session: AsyncSession, key: str, since: datetime) -> list[datetime]:
    return list((await session.execute(select(LoginFailure.at).where(
        LoginFailure.key == key, LoginFailure.at >= since).order_by(LoginFailure.at))).scalars())


def user_delay(failures: int) -> timedelta:
    """How long after the latest failure the next try is allowed (per user name and address)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(THROTTLE_WINDOW, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def _minutes(until: datetime, now: datetime) -> int:
    return max(1, -int(-(until - now).total_seconds() // 60))


async def check_throttle(session: AsyncSession, now: datetime, user_key: str, ip_key: str) -> None:
    since = now - THROTTLE_WINDOW
    mine = await _failures(session, user_key, since)
    if mine and now < mine[-1] + user_delay(len(mine)):
        raise Throttled(_minutes(mine[-1] + user_delay(len(mine)), now))
    from_ip = await _failures(session, ip_key, since)
    if len(from_ip) >= MAX_FAILURES_PER_IP:
        raise Throttled(_minutes(from_ip[len(from_ip) - MAX_FAILURES_PER_IP] + THROTTLE_WINDOW, now))


async def authenticate(session: AsyncSession, now: datetime, username: str, password: str,
                       ip: str | None, passwords: security.PasswordWorker | None = None) -> WebUser:
    """The active user with this password; raises Throttled, HashingBusy or AccountError.
    Commits failures. argon2 runs in ``passwords``' threads (or a default thread), never on the loop."""
    username = (username or "").strip()[:64]
    user_key, ip_key = _user_key(username, ip), f"ip:{(ip or '?')[:64]}"
    await check_throttle(session, now, user_key, ip_key)
    user = await get_user(session, username) if username else None
    ok = await security.verify_off_loop(user.password_hash if user else None, password or "", passwords)
    if not ok or user is None:
        session.add_all([LoginFailure(key=user_key, at=now), LoginFailure(key=ip_key, at=now)])
        await session.execute(delete(LoginFailure).where(LoginFailure.at < now - THROTTLE_WINDOW))
        if user is not None:
            record_event(session, "web_user", user.id, "login_failed", now, note=f"{username} @ {ip or '?'}")
        await session.commit()
        raise AccountError(T.LOGIN_FAILED, "password")
    if not user.active:
        raise AccountError(T.LOGIN_DISABLED, "username")
    if security.needs_rehash(user.password_hash):
        user.password_hash = await security.hash_off_loop(password, passwords)
    await session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    user.last_login_at = now
    return user


async def open_session(session: AsyncSession, user: WebUser, now: datetime, ip: str | None,
                       user_agent: str | None) -> str:
    """A new session for a logged-in user; returns the raw token (for the signed cookie)."""
    token = security.new_token()
    session.add(WebSession(id=security.token_hash(token), web_user_id=user.id, created_at=now,
                           expires_at=now + SESSION_TTL, last_seen_at=now, ip=(ip or "")[:64],
                           user_agent=(user_agent or "")[:256]))
    record_event(session, "web_user", user.id, "login", now, actor_web_user=user.username, note=ip)
    return token


async def session_user(session: AsyncSession, token: str, now: datetime) -> WebUser | None:
    row = await session.get(WebSession, security.token_hash(token))
    if row is None:
        return None
    if row.expires_at <= now or now - row.last_seen_at > SESSION_IDLE:
        await session.delete(row)
        await session.commit()
        return None
    user = await session.get(WebUser, row.web_user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at > SESSION_TOUCH:
        row.last_seen_at = now
        await session.commit()
    return user


async def close_session(session: AsyncSession, token: str, now: datetime) -> None:
    row = await session.get(WebSession, security.token_hash(token))
    if row is not None:
        user = await session.get(WebUser, row.web_user_id)
        await session.delete(row)
        if user is not None:
            record_event(session, "web_user", user.id, "logout", now, actor_web_user=user.username)


# ---------------------------------------------------------------- API tokens
async def create_api_token(session: AsyncSession, user: WebUser, name: str, now: datetime, by: str | None,
                           expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    raw = security.new_api_token()
    row = ApiToken(web_user_id=user.id, name=(name or "token").strip()[:64], token_hash=security.token_hash(raw),
                   prefix=raw[:10], created_at=now, expires_at=expires_at)
    session.add(row)
    await session.flush()
    record_event(session, "api_token", row.id, "created", now, actor_web_user=by, note=f"{user.username}: {row.name}")
    return row, raw


async def token_user(session: AsyncSession, raw: str, now: datetime) -> WebUser | None:
    row = (await session.execute(select(ApiToken).where(
        ApiToken.token_hash == security.token_hash(raw)))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    user = await session.get(WebUser, row.web_user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > SESSION_TOUCH:
        row.last_used_at = now
        await session.commit()
    return user


async def revoke_api_token(session: AsyncSession, row: ApiToken, now: datetime, by: str | None) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        record_event(session, "api_token", row.id, "revoked", now, actor_web_user=by, note=row.name)


async def ensure_demo_account(session: AsyncSession, org: OrgDirectory, now: datetime,
                              username: str = "demo") -> str | None:
    """``zhibu demo``: when no account exists yet, a district admin with a fresh random password
    (returned, to print once); None when accounts exist already."""
    if (await session.execute(select(WebUser.id).limit(1))).first() is not None:
        return None
    password = security.new_token(9)
    await create_user(session, org, now, NewUser(username=username, password=password,
                                                 role=WebRole.DISTRICT_STAFF, display_name="演示管理员",
                                                 is_admin=True), created_by="demo")
    return password
