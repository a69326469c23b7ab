"""People (roster with roles), chat groups and their binding, within a principal's scope."""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup, Identity, Person, Role, RoleName
from bot.orgdir import OrgDirectory
from bot.roles import role_label
from bot.services import groups
from bot.texts import web as T
from bot.web.errors import forbidden, invalid, not_found
from bot.web.principal import Principal
from bot.web.tables import Column, PageQuery, Table

PEOPLE_COLUMNS = [
    Column("id", "编号", "number"), Column("name", "姓名"), Column("compound", "小区"),
    Column("address", "楼/单元/室"), Column("phone", "电话"), Column("role_labels", "角色"),
    Column("on_roster", "在名册", "bool"), Column("linked", "已关联微信", "bool"),
    Column("created_at", "登记时间", "datetime"),
]
GROUP_COLUMNS = [
    Column("id", "编号", "number"), Column("topic", "群名"), Column("compound", "绑定小区"),
    Column("building", "楼栋"), Column("active", "在群中", "bool"), Column("member_count", "人数", "number"),
    Column("bound_at", "绑定时间", "datetime"), Column("account", "机器人账号"),
    Column("relink_pending", "待确认", "bool"),
]


class PeopleQuery(PageQuery):
    compound_id: int | None = None
    role: Literal[tuple(r.value for r in RoleName)] | None = None  # type: ignore[valid-type]
    q: str | None = Field(None, max_length=64)
    roster: Literal["roster", "all"] = "roster"


class GroupQuery(PageQuery):
    compound_id: int | None = None
    bound: Literal["yes", "no", "all"] = "all"
    q: str | None = Field(None, max_length=64)


def compound_filter(user: Principal, column, compound_id: int | None):  # noqa: ANN001, ANN201
    """A WHERE clause limiting ``column`` to what the user sees (and to one compound if asked)."""
    if compound_id is not None:
        if not user.sees(compound_id):
            raise forbidden()
        return column == compound_id
    if user.compound_ids is None:
        return None
    return column.in_(sorted(user.compound_ids))


def role_text(role: Role, org: OrgDirectory) -> str:
    if role.compound_id:
        where = org.name_of(role.compound_id)
    elif role.community_id:
        where = org.communities.get(role.community_id, "")
    else:
        where = T.DISTRICT_WIDE
    return f"{role_label(role.name)}（{where}）" if where else role_label(role.name)


def _address(p: Person) -> str:
    parts = [f"{p.building}号楼" if p.building else "", f"{p.unit}单元" if p.unit else "",
             f"{p.room_no}" if p.room_no else ""]
    return "".join(parts)


def person_row(p: Person, org: OrgDirectory, linked: bool) -> dict:
    return {
        "id": p.id, "name": p.name, "compound_id": p.compound_id, "compound": org.name_of(p.compound_id),
        "building": p.building, "unit": p.unit, "room_no": p.room_no, "address": _address(p),
        "phone": p.phone, "roles": [{"name": r.name, "compound_id": r.compound_id,
                                     "community_id": r.community_id} for r in p.roles],
        "role_labels": [role_text(r, org) for r in p.roles], "on_roster": p.on_roster, "linked": linked,
        "created_at": p.created_at,
    }


async def people_table(session: AsyncSession, org: OrgDirectory, user: Principal, query: PeopleQuery,
                       *, export: bool = False) -> Table:
    stmt = select(Person)
    where = compound_filter(user, Person.compound_id, query.compound_id)
    if where is not None:
        stmt = stmt.where(where)
    if query.q:
        like = f"%{query.q.strip()}%"
        stmt = stmt.where(or_(Person.name.like(like), Person.phone.like(like)))
    if query.role:
        stmt = stmt.where(exists().where(Role.person_id == Person.id, Role.name == query.role))
    if query.roster == "roster":
        stmt = stmt.where(or_(Person.on_roster.is_(True), exists().where(Role.person_id == Person.id)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(Person.compound_id, Person.name, Person.id)
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    people = list((await session.execute(stmt)).scalars())
    linked = set((await session.execute(select(Identity.person_id).where(
        Identity.person_id.in_([p.id for p in people]), Identity.active.is_(True)))).scalars())
    return Table("people", PEOPLE_COLUMNS, [person_row(p, org, p.id in linked) for p in people], total,
                 query.page, query.per_page)


def group_row(g: ChatGroup, org: OrgDirectory) -> dict:
    return {
        "id": g.id, "topic": g.topic, "compound_id": g.compound_id, "compound": org.name_of(g.compound_id),
        "building": g.building, "active": g.active, "member_count": g.member_count, "bound_at": g.bound_at,
        "account": g.account, "relink_pending": g.relink_pending,
    }


async def groups_table(session: AsyncSession, org: OrgDirectory, user: Principal, query: GroupQuery,
                       *, export: bool = False) -> Table:
    stmt = select(ChatGroup)
    where = compound_filter(user, ChatGroup.compound_id, query.compound_id)
    if where is not None:
        stmt = stmt.where(where)
    if query.bound == "yes":
        stmt = stmt.where(ChatGroup.compound_id.is_not(None))
    elif query.bound == "no":
        stmt = stmt.where(ChatGroup.compound_id.is_(None))
    if query.q:
        stmt = stmt.where(ChatGroup.topic.like(f"%{query.q.strip()}%"))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(ChatGroup.compound_id.is_(None).desc(), ChatGroup.compound_id, ChatGroup.topic)
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    groups = list((await session.execute(stmt)).scalars().unique())
    return Table("groups", GROUP_COLUMNS, [group_row(g, org) for g in groups], total, query.page, query.per_page)


async def get_person(session: AsyncSession, user: Principal, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise not_found()
    if not user.sees(person.compound_id):
        raise forbidden()
    return person


async def bind_group(session: AsyncSession, org: OrgDirectory, user: Principal, group_id: int,
                     compound_id: int | None, now) -> ChatGroup:  # noqa: ANN001
    """Bind a group to a compound in the user's scope (or unbind it); audited."""
    group = await session.get(ChatGroup, group_id)
    if group is None:
        raise not_found()
    if group.compound_id is not None and not user.sees(group.compound_id):
        raise forbidden()
    if group.compound_id is None and not user.is_district:
        raise forbidden()  # unbound groups belong to no scope yet: district staff sort them out
    if compound_id is not None:
        if compound_id not in org.compounds:
            raise invalid("compound_id", T.UNKNOWN_COMPOUND.format(name=compound_id))
        if not user.sees(compound_id):
            raise forbidden()
    groups.bind(session, org, group, compound_id, now, actor=user.actor())
    return group
