"""API: who am I, compounds, people, groups, roster import, accounts, audit trail."""
from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.web import accounts, imports
from bot.web.api import Reply, api, path_int
from bot.web.errors import ApiError, ErrorDetail, invalid
from bot.web.pages.admin import AuditQuery, audit_table, user_row, users_table
from bot.web.schemas import ApiModel
from bot.web.state import bot, db, principal
from bot.web.tables import PageQuery, json_row
from bot.web.views import org as views
from bot.texts import web as T


# ---------------------------------------------------------------- response models
class Ref(ApiModel):
    id: int
    name: str


class Me(ApiModel):
    username: str
    display_name: str
    role: str
    is_admin: bool
    person_id: int | None
    compounds: list[Ref]
    communities: list[Ref]
    district_wide: bool


class CompoundOut(ApiModel):
    id: int
    name: str
    community_id: int
    community: str
    street: str
    is_key: bool


class CompoundList(ApiModel):
    items: list[CompoundOut]


class RoleOut(ApiModel):
    name: str
    compound_id: int | None
    community_id: int | None


class PersonOut(ApiModel):
    id: int
    name: str
    compound_id: int | None
    compound: str
    building: str | None
    unit: str | None
    room_no: str | None
    phone: str | None
    roles: list[RoleOut]
    role_labels: list[str]
    on_roster: bool
    linked: bool
    created_at: str


class Paged(ApiModel):
    page: int
    per_page: int
    total: int


class PersonList(Paged):
    items: list[PersonOut]


class GroupOut(ApiModel):
    id: int
    topic: str
    compound_id: int | None
    compound: str
    building: str | None
    active: bool
    member_count: int
    bound_at: str | None
    account: str
    relink_pending: bool


class GroupList(Paged):
    items: list[GroupOut]


class BindingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compound_id: int | None = Field(description="绑定到的小区编号；null 表示解除绑定")


class ImportProblem(ApiModel):
    row: int | None
    column: str | None
    message: str


class ImportCounts(ApiModel):
    compounds: int
    people: int
    groups: int
    roles: int


class ImportResultOut(ApiModel):
    id: str
    filename: str
    status: Literal["done", "failed"]
    result: ImportCounts | None
    problems: list[ImportProblem]


class ImportFailedOut(ImportResultOut):
    """A refused file (422): the problems of every row, and the error in the API's one shape."""
    error: ErrorDetail


class UserOut(ApiModel):
    id: int
    username: str
    display_name: str
    role: str
    role_label: str
    scope: str
    is_admin: bool
    active: bool
    person_id: int | None = Field(description="关联的名册人员（/people/{person_id}）")
    last_login_at: str | None
    created_at: str
    created_by: str | None
    compound_ids: list[int]
    community_ids: list[int]


class UserList(Paged):
    items: list[UserOut]


class UserBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Literal["secretary", "community_staff", "district_staff"]
    display_name: str | None = Field(None, max_length=64)
    compound_ids: list[int] = []
    community_ids: list[int] = []
    person_id: int | None = None
    is_admin: bool = False


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class AuditOut(ApiModel):
    id: int
    at: str
    actor: str
    actor_web_user: str | None
    actor_person_id: int | None
    subject_kind: str
    subject_id: int
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None


class AuditList(Paged):
    items: list[AuditOut]


# Fields of the pages' rows the API leaves out: texts that repeat fields it sends.
PERSON_HIDDEN = ("address",)          # "楼/单元/室" = building + unit + room_no
AUDIT_HIDDEN = ("subject", "change")  # = subject_kind #subject_id, from_state → to_state


# ---------------------------------------------------------------- endpoints
@api.route("GET", "/me", summary="当前账号与可见范围", tag="账号", response=Me)
async def get_me(request: web.Request) -> dict:
    return principal(request).as_dict(bot(request).org)


@api.route("GET", "/compounds", summary="可见的小区", tag="组织", response=CompoundList)
async def list_compounds(request: web.Request) -> dict:
    user, org = principal(request), bot(request).org
    items = [{"id": c.id, "name": c.name, "community_id": c.community_id, "community": c.community,
              "street": c.street, "is_key": c.is_key}
             for cid, c in sorted(org.compounds.items()) if user.sees(cid)]
    return {"items": items}


@api.route("GET", "/people", summary="名册（含角色）", tag="组织", query=views.PeopleQuery, response=PersonList)
async def list_people(request: web.Request, query: views.PeopleQuery) -> dict:
    async with db(request) as session:
        table = await views.people_table(session, bot(request).org, principal(request), query)
    return table.as_json(*PERSON_HIDDEN)


@api.route("GET", "/people/{person_id}", summary="一个人的名册信息", tag="组织", response=PersonOut)
async def get_person(request: web.Request) -> dict:
    from sqlalchemy import select

    from bot.models import Identity

    async with db(request) as session:
        person = await views.get_person(session, principal(request), path_int(request, "person_id"))
        linked = (await session.execute(select(Identity.id).where(
            Identity.person_id == person.id, Identity.active.is_(True)))).first() is not None
        row = views.person_row(person, bot(request).org, linked)
    return json_row(row, *PERSON_HIDDEN)


@api.route("GET", "/groups", summary="群及其绑定", tag="组织", query=views.GroupQuery, response=GroupList)
async def list_groups(request: web.Request, query: views.GroupQuery) -> dict:
    async with db(request) as session:
        table = await views.groups_table(session, bot(request).org, principal(request), query)
    return table.as_json()


@api.route("PUT", "/groups/{group_id}/binding", summary="绑定或解除绑定群", tag="组织", body=BindingBody,
           response=GroupOut)
async def bind_group(request: web.Request, body: BindingBody) -> dict:
    app = bot(request)
    async with db(request) as session:
        group = await views.bind_group(session, app.org, principal(request), path_int(request, "group_id"),
                                       body.compound_id, app.clock.now())
        await session.commit()
        row = views.group_row(group, app.org)
    return json_row(row)


@api.route("POST", "/roster/import", summary="导入名册（CSV/XLSX，全部正确才写入）", tag="组织",
           multipart=True, response=ImportResultOut, others={422: ImportFailedOut},
           description="上传字段 file。出错时返回 422，problems 列出每一行的问题，不写入任何数据。")
async def import_roster(request: web.Request) -> dict | Reply:
    from pathlib import Path

    user, app = principal(request), bot(request)
    if not request.content_type.startswith("multipart/"):
        raise invalid("file", T.IMPORT_NO_FILE)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        raise invalid("file", T.IMPORT_NO_FILE)
    if Path(upload.filename).suffix.lower() not in (".csv", ".xlsx"):
        raise invalid("file", T.IMPORT_BAD_TYPE)
    data = upload.file.read(imports.MAX_BYTES + 1)
    if len(data) > imports.MAX_BYTES:
        raise ApiError(413, "too_large", T.TOO_LARGE.format(mb=imports.MAX_BYTES // (1024 * 1024)), "file")
    job = imports.new_job(user.username, Path(upload.filename).name[:128], app.clock.now())
    await imports.run_import(app, job, user, data)
    body = job.as_dict()
    body = {k: body[k] for k in ("id", "filename", "status", "result", "problems")}
    if job.status != "done":
        first = job.problems[0] if job.problems else None
        body["error"] = {"code": "invalid", "message": T.IMPORT_FAILED,
                         "field": "file" if first is None else (f"row {first.row}" if first.row else "file")}
        return Reply(body, 422)
    return body


@api.route("GET", "/users", summary="后台账号（管理员）", tag="账号", query=PageQuery, response=UserList, admin=True)
async def list_users(request: web.Request, query: PageQuery) -> dict:
    async with db(request) as session:
        table = await users_table(session, bot(request).org, query)
    return table.as_json()


@api.route("POST", "/users", summary="新建后台账号（管理员）", tag="账号", body=UserBody, response=UserOut,
           status=201, admin=True)
async def create_user(request: web.Request, body: UserBody) -> dict:
    user, app = principal(request), bot(request)
    spec = accounts.NewUser(username=body.username, password=body.password, role=body.role,
                            display_name=body.display_name, compounds=tuple(body.compound_ids),
                            communities=tuple(body.community_ids), person=body.person_id,
                            is_admin=body.is_admin)
    async with db(request) as session:
        created = await accounts.create_user(session, app.org, app.clock.now(), spec, created_by=user.username)
        await session.commit()
        await session.refresh(created, ["scopes"])
        row = user_row(created, app.org)
    return json_row(row)


@api.route("PATCH", "/users/{user_id}", summary="启用或停用账号（管理员）", tag="账号", body=UserPatch,
           response=UserOut, admin=True)
async def patch_user(request: web.Request, body: UserPatch) -> dict:
    from bot.models.web import WebUser

    user, app = principal(request), bot(request)
    async with db(request) as session:
        target = await session.get(WebUser, path_int(request, "user_id"))
        if target is None:
            raise ApiError(404, "not_found", T.NOT_FOUND)
        if target.id == user.user_id and not body.active:
            raise invalid("active", T.CANNOT_DISABLE_SELF)
        await accounts.set_active(session, target, body.active, app.clock.now(), user.username)
        await session.commit()
        row = user_row(target, app.org)
    return json_row(row)


@api.route("GET", "/audit", summary="操作记录（管理员）", tag="账号", query=AuditQuery, response=AuditList, admin=True)
async def list_audit(request: web.Request, query: AuditQuery) -> dict:
    async with db(request) as session:
        table = await audit_table(session, query)
    return table.as_json(*AUDIT_HIDDEN)
