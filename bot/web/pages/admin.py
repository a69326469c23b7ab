"""Accounts: district admins create and disable accounts; everyone changes their password and
manages their API tokens; admins read the audit trail."""
from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from bot.models import Event, Person
from bot.models.web import ApiToken, WebRole, WebUser
from bot.texts import web as T
from bot.web import accounts
from bot.web.errors import ApiError, from_validation, not_found
from bot.web.pages.common import community_options, compound_options, export, export_format, form_dict, page_query
from bot.web.principal import Principal
from bot.web.render import redirect, render
from bot.web.schemas import OneOrMany
from bot.web.state import bot, db, principal, state
from bot.web.tables import Column, PageQuery, Table

routes = web.RouteTableDef()

USER_COLUMNS = [
    Column("username", "用户名"), Column("display_name", "姓名"), Column("role_label", "类型"),
    Column("scope", "范围"), Column("is_admin", "管理员", "bool"), Column("active", "启用", "bool"),
    Column("last_login_at", "最近登录", "datetime"), Column("created_at", "创建时间", "datetime"),
    Column("created_by", "创建人"),
]
AUDIT_COLUMNS = [
    Column("at", "时间", "datetime"), Column("actor", "操作人"), Column("subject", "对象"),
    Column("action", "动作"), Column("change", "变化"), Column("note", "说明"),
]


class UserForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=2, max_length=64)
    display_name: str | None = Field(None, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Literal["secretary", "community_staff", "district_staff"]
    compounds: OneOrMany[int] = []
    communities: OneOrMany[int] = []
    person: str | None = Field(None, max_length=64)
    is_admin: bool = False


def require_admin(user: Principal) -> None:
    if not user.is_admin:
        raise ApiError(403, "forbidden", T.ADMIN_REQUIRED)


def user_row(u: WebUser, org) -> dict:  # noqa: ANN001
    if u.role == WebRole.DISTRICT_STAFF:
        scope = T.DISTRICT_WIDE
    elif u.role == WebRole.COMMUNITY_STAFF:
        scope = "、".join(org.communities.get(s.community_id, "?") for s in u.scopes)
    else:
        scope = "、".join(org.name_of(s.compound_id) for s in u.scopes)
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "role_label": T.WEB_ROLE_LABELS.get(u.role, u.role), "scope": scope, "is_admin": u.is_admin,
            "active": u.active, "person_id": u.person_id, "last_login_at": u.last_login_at,
            "created_at": u.created_at, "created_by": u.created_by,
            "compound_ids": [s.compound_id for s in u.scopes if s.compound_id],
            "community_ids": [s.community_id for s in u.scopes if s.community_id]}


async def users_table(session, org, query: PageQuery, *, export: bool = False) -> Table:  # noqa: ANN001
    total = (await session.execute(select(func.count()).select_from(WebUser))).scalar_one()
    stmt = select(WebUser).order_by(WebUser.role.desc(), WebUser.username)
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    users = list((await session.execute(stmt)).scalars())
    return Table("users", USER_COLUMNS, [user_row(u, org) for u in users], total, query.page, query.per_page)


async def _users_page(request: web.Request, errors: dict | None = None, values: dict | None = None,
                      status: int = 200) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, PageQuery)
    async with db(request) as session:
        table = await users_table(session, app.org, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "账号")
    return render(request, "users.html", {
        "active": "users", "t": table, "errors": errors or {}, "v": values or {},
        "compounds": compound_options(user, app.org), "communities": community_options(user, app.org),
    }, status=status)


@routes.get("/users")
async def users(request: web.Request) -> web.Response:
    require_admin(principal(request))
    return await _users_page(request)


@routes.post("/users")
async def create_user(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    require_admin(user)
    raw = await form_dict(request)
    raw["is_admin"] = raw.get("is_admin") == "on"
    values = {k: v for k, v in raw.items() if k != "password"}
    try:
        form = UserForm.model_validate(raw)
    except Exception as exc:  # noqa: BLE001
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        error = from_validation(exc)
        return await _users_page(request, {error.field or "form": error.message}, values, 422)
    spec = accounts.NewUser(username=form.username, password=form.password, role=form.role,
                            display_name=form.display_name, compounds=tuple(form.compounds),
                            communities=tuple(form.communities), person=form.person, is_admin=form.is_admin)
    refused: accounts.AccountError | None = None
    async with db(request) as session:
        try:
            await accounts.create_user(session, app.org, app.clock.now(), spec, created_by=user.username)
            await session.commit()
        except accounts.AccountError as exc:
            refused = exc
    if refused is not None:  # the page reads in a session of its own: never two at once
        return await _users_page(request, {refused.field or "form": refused.message}, values, 422)
    return redirect(request, "/dashboard/users", T.USER_CREATED.format(name=form.username))


@routes.post(r"/users/{user_id:\d+}/active")
async def toggle_user(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    require_admin(user)
    form = await request.post()
    active = form.get("active") == "1"
    async with db(request) as session:
        target = await session.get(WebUser, int(request.match_info["user_id"]))
        if target is None:
            raise not_found()
        if target.id == user.user_id and not active:
            return redirect(request, "/dashboard/users", T.CANNOT_DISABLE_SELF, "err")
        await accounts.set_active(session, target, active, app.clock.now(), user.username)
        name = target.username
        await session.commit()
    return redirect(request, "/dashboard/users", (T.USER_ENABLED if active else T.USER_DISABLED).format(name=name))


# ---------------------------------------------------------------- my account
async def _account_page(request: web.Request, error: str | None = None, new_token: str | None = None,
                        status: int = 200) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        me = await session.get(WebUser, user.user_id)
        tokens = list((await session.execute(select(ApiToken).where(ApiToken.web_user_id == user.user_id)
                                             .order_by(ApiToken.created_at.desc()))).scalars())
        person = await session.get(Person, me.person_id) if me and me.person_id else None
    return render(request, "account.html", {
        "active": "", "me": me, "person": person, "tokens": tokens, "error": error, "new_token": new_token,
        "scope": user.as_dict(app.org),
    }, status=status)


@routes.get("/account")
async def account(request: web.Request) -> web.Response:
    return await _account_page(request)


@routes.post("/account/password")
async def change_password(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    form = await request.post()
    current, new, again = (str(form.get(k, ""))[:256] for k in ("current", "new", "again"))
    refused = await _change_password(request, current, new, again)
    if refused is not None:  # the page reads in a session of its own: never two at once
        return await _account_page(request, refused, status=422)
    return redirect(request, "/dashboard/login", T.PASSWORD_CHANGED)


async def _change_password(request: web.Request, current: str, new: str, again: str) -> str | None:
    """Sets the signed-in user's new password; the reason it was refused, or None."""
    user, app = principal(request), bot(request)
    async with db(request) as session:
        me = await session.get(WebUser, user.user_id)
        from bot.web import security

        worker = state(request).passwords
        if me is None or not (await worker.verify(me.password_hash, current) if worker
                              else security.verify_password(me.password_hash, current)):
            return T.PASSWORD_WRONG
        if new != again:
            return T.PASSWORD_MISMATCH
        try:
            await accounts.set_password(session, me, new, app.clock.now(), user.username)
        except accounts.AccountError as exc:
            return exc.message
        await session.commit()
    return None


@routes.post("/account/tokens")
async def new_token(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()[:64] or "接口令牌"
    async with db(request) as session:
        me = await session.get(WebUser, user.user_id)
        _, raw = await accounts.create_api_token(session, me, name, app.clock.now(), user.username)
        await session.commit()
    return await _account_page(request, new_token=raw)


@routes.post(r"/account/tokens/{token_id:\d+}/revoke")
async def revoke_token(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        row = await session.get(ApiToken, int(request.match_info["token_id"]))
        if row is None or (row.web_user_id != user.user_id and not user.is_admin):
            raise not_found()
        await accounts.revoke_api_token(session, row, app.clock.now(), user.username)
        name = row.name
        await session.commit()
    return redirect(request, "/dashboard/account", T.TOKEN_REVOKED.format(name=name))


# ---------------------------------------------------------------- audit trail
class AuditQuery(PageQuery):
    actor: str | None = Field(None, max_length=64)
    kind: str | None = Field(None, max_length=32)
    web_only: bool = False


async def audit_table(session, query: AuditQuery, *, export: bool = False) -> Table:  # noqa: ANN001
    stmt = select(Event, Person.name).outerjoin(Person, Person.id == Event.actor_person_id)
    if query.actor:
        stmt = stmt.where(or_(Event.actor_web_user == query.actor, Person.name == query.actor))
    if query.kind:
        stmt = stmt.where(Event.subject_kind == query.kind)
    if query.web_only:
        stmt = stmt.where(Event.actor_web_user.is_not(None))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(Event.at.desc(), Event.id.desc())
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    rows = []
    for event, person_name in (await session.execute(stmt)).all():
        actor = (f"后台 {event.actor_web_user}" if event.actor_web_user else person_name) or "系统"
        change = f"{event.from_state or ''} → {event.to_state or ''}" if (event.from_state or event.to_state) else ""
        rows.append({"id": event.id, "at": event.at, "actor": actor, "actor_web_user": event.actor_web_user,
                     "actor_person_id": event.actor_person_id, "subject_kind": event.subject_kind,
                     "subject_id": event.subject_id, "subject": f"{event.subject_kind} #{event.subject_id}",
                     "action": event.action, "from_state": event.from_state, "to_state": event.to_state,
                     "change": change, "note": event.note})
    return Table("audit", AUDIT_COLUMNS, rows, total, query.page, query.per_page)


@routes.get("/audit")
async def audit(request: web.Request) -> web.Response:
    require_admin(principal(request))
    query = page_query(request, AuditQuery)
    async with db(request) as session:
        table = await audit_table(session, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "操作记录")
    return render(request, "audit.html", {"active": "audit", "t": table, "f": query})
