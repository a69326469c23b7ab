"""People and groups: the roster with roles, groups and their binding, roster import."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from bot.models import Event, Identity
from bot.roles import role_label
from bot.texts import web as T
from bot.web import imports
from bot.web.errors import ApiError, json_response, parse
from bot.web.pages.common import compound_options, export, export_format, form_dict, page_query
from bot.web.render import redirect, render
from bot.web.state import bot, db, deps, principal, state
from bot.web.views import org as views

routes = web.RouteTableDef()


def _role_options() -> list[tuple[str, str]]:
    from bot.models import RoleName

    return [(r.value, role_label(r.value)) for r in RoleName]


@routes.get("/people")
async def people(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, views.PeopleQuery)
    async with db(request) as session:
        table = await views.people_table(session, app.org, user, query, export=bool(export_format(request)))
        if export_format(request):
            return export(request, table, "名册")
        pending = await _pending_requests(request, session)
    return render(request, "people.html", {
        "active": "people", "t": table, "f": query, "compounds": compound_options(user, app.org),
        "roles": _role_options(), "pending": pending,
    })


async def _pending_requests(request: web.Request, session) -> list:  # noqa: ANN001
    """Identity requests (亮身份) waiting for a decision in the user's compounds."""
    from bot.services import members

    user = principal(request)
    rows = await members.pending_requests(deps(request, session), user.actor())
    return [r for r in rows if user.sees(r.compound_id)]


class DecisionForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    decision: Literal["approve", "reject"]
    reason: str | None = Field(None, max_length=200)


@routes.post(r"/people/requests/{request_id:\d+}")
async def decide_request(request: web.Request) -> web.Response:
    """同意 / 拒绝 an identity request: the members service decides, tells the applicant."""
    from bot.models.members import IdentityRequest
    from bot.services import ServiceError, members

    user = principal(request)
    form = parse(DecisionForm, await form_dict(request))
    request_id = int(request.match_info["request_id"])
    async with db(request) as session:
        req = await session.get(IdentityRequest, request_id)
        if req is None:
            raise ApiError(404, "not_found", T.NOT_FOUND)
        if not user.sees(req.compound_id):
            raise ApiError(403, "forbidden", T.FORBIDDEN)
        d = deps(request, session)
        try:
            if form.decision == "approve":
                await members.approve_request(d, user.actor(), request_id)
            else:
                await members.reject_request(d, user.actor(), request_id, form.reason or "")
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, "/dashboard/people", str(exc), "err")
        await session.commit()
    bot(request).outbox.notify()
    done = T.REQUEST_APPROVED if form.decision == "approve" else T.REQUEST_REJECTED
    return redirect(request, "/dashboard/people", done.format(number=f"R{request_id}"))


@routes.get(r"/people/{person_id:\d+}")
async def person(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        found = await views.get_person(session, user, int(request.match_info["person_id"]))
        identities = list((await session.execute(select(Identity).where(Identity.person_id == found.id))).scalars())
        events = list((await session.execute(select(Event).where(
            Event.subject_kind == "person", Event.subject_id == found.id).order_by(Event.at.desc()).limit(50))).scalars())
        row = views.person_row(found, app.org, any(i.active for i in identities))
    return render(request, "person.html", {"active": "people", "p": row, "identities": identities, "events": events})


@routes.get("/groups")
async def groups(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, views.GroupQuery)
    async with db(request) as session:
        table = await views.groups_table(session, app.org, user, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "群")
    return render(request, "groups.html", {"active": "people", "t": table, "f": query,
                                           "compounds": compound_options(user, app.org)})


class BindForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    compound_id: int | None = None


@routes.post(r"/groups/{group_id:\d+}/bind")
async def bind(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    form = parse(BindForm, await form_dict(request))
    async with db(request) as session:
        group = await views.bind_group(session, app.org, user, int(request.match_info["group_id"]),
                                       form.compound_id, app.clock.now())
        topic = group.topic
        await session.commit()
    message = (T.GROUP_BOUND.format(group=topic, compound=app.org.name_of(form.compound_id))
               if form.compound_id else T.GROUP_UNBOUND.format(group=topic))
    return redirect(request, "/dashboard/groups", message)


# ---------------------------------------------------------------- roster import
@routes.get("/people/import")
async def import_form(request: web.Request) -> web.Response:
    return render(request, "import.html", {"active": "people", "job": None, "error": None})


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@routes.post("/people/import")
async def import_upload(request: web.Request) -> web.Response:
    user, app, st = principal(request), bot(request), state(request)
    form = await request.post()
    upload = form.get("file")
    error = None
    if not isinstance(upload, web.FileField) or not upload.filename:
        error = T.IMPORT_NO_FILE
    elif Path(upload.filename).suffix.lower() not in (".csv", ".xlsx", ".yaml", ".yml"):
        error = T.IMPORT_BAD_TYPE
    if error is None:
        data = upload.file.read(imports.MAX_BYTES + 1)
        if len(data) > imports.MAX_BYTES:
            error = T.TOO_LARGE.format(mb=imports.MAX_BYTES // (1024 * 1024))
    if error is not None:
        if _wants_json(request):
            raise ApiError(422, "invalid", error, "file")
        return render(request, "import.html", {"active": "people", "job": None, "error": error}, status=422)
    imports.forget_old(st.jobs, app.clock.now())
    job = imports.new_job(user.username, Path(upload.filename).name[:128], app.clock.now())
    st.jobs[job.id] = job
    task = app_task(st, imports.run_import(app, job, user, data))
    if not _wants_json(request):
        await task  # without JavaScript: wait, then show the result page
        return redirect(request, f"/dashboard/people/import/{job.id}")
    return json_response({"id": job.id, "status": job.status}, status=202)


def app_task(st, coro):  # noqa: ANN001, ANN201
    import asyncio

    task = asyncio.create_task(coro)
    st.tasks.add(task)
    task.add_done_callback(st.tasks.discard)
    return task


def _job(request: web.Request) -> imports.ImportJob:
    job = state(request).jobs.get(request.match_info["job"])
    if job is None or job.owner != principal(request).username:
        raise ApiError(404, "not_found", T.IMPORT_UNKNOWN_JOB)
    return job


@routes.get("/people/import/{job}.json")
async def import_status(request: web.Request) -> web.Response:
    return json_response(_job(request).as_dict())


@routes.get("/people/import/{job}")
async def import_result(request: web.Request) -> web.Response:
    return render(request, "import.html", {"active": "people", "job": _job(request), "error": None})
