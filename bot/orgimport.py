"""Load an organisation and roster from YAML, CSV or XLSX — all or nothing.

Every problem names the file, the row (or YAML path) and the column, and nothing is written
unless the whole file is good. Re-importing the same file changes nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Awaitable, Callable

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Branch, Building, ChatGroup, Community, Compound, District, Identity, Person, PropertyProject,
    Role, RoleName, Street,
)
from bot.audit import Doer
from bot.progress import progress
from bot.roles import AREA_ROLES
from bot.services import groups as groups_service
from bot.texts.core import ROLE_LABELS
from nlp.buildings import building_of, unit_of

ROLE_BY_LABEL = {label: code for code, label in ROLE_LABELS.items()} | {
    "书记": "secretary", "支书": "secretary", "楼长": "building_leader", "单元长": "unit_leader",
    "社区": "community_staff", "物业": "property_manager", "业委会": "owners_committee",
    "社区工作人员": "community_staff", "物业经理": "property_manager",
}
VALID_ROLES = {r.value for r in RoleName}
_PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")

# Column headings accepted in CSV/XLSX (Chinese or English).
COLUMNS = {
    "street": ("街道", "street"), "community": ("社区", "community"), "compound": ("小区", "compound"),
    "name": ("姓名", "name"), "phone": ("电话", "手机", "phone"), "building": ("楼", "楼号", "building"),
    "unit": ("单元", "unit"), "room": ("室", "房号", "room"), "roles": ("角色", "身份", "roles"),
    "wechat_id": ("微信号", "wechat_id"), "group": ("群", "群名", "group"),
}


class OrgImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class PersonSpec:
    where: str
    name: str
    phone: str | None
    compound: str | None
    building: str | None
    unit: str | None
    room: str | None
    roles: list[tuple[str, str | None]]  # (role, community name for area roles)
    wechat_id: str | None = None
    consent_named: bool = True


@dataclass
class CompoundSpec:
    name: str
    street: str
    community: str
    is_key: bool = False
    branch: str | None = None
    buildings: list[str] = field(default_factory=list)
    groups: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # topic, chat_id, account
    property: dict[str, str] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class OrgPlan:
    district: str
    account: str | None = None  # the bot account the file's groups belong to (YAML ``account:``)
    compounds: dict[str, CompoundSpec] = field(default_factory=dict)
    people: list[PersonSpec] = field(default_factory=list)


@dataclass
class ImportResult:
    compounds: int
    people: int
    groups: int
    roles: int
    moved: dict[str, int] = field(default_factory=dict)  # demo account → groups taken over from it
    served_elsewhere: list[tuple[str, str]] = field(default_factory=list)  # (topic, account serving it)


# ---------------------------------------------------------------- parsing
def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # spreadsheets turn 3 into 3.0
        text = text[:-2]
    return text or None


def _building(value: Any) -> str | None:
    """A roster's building as the bot names it everywhere: "3号楼", "3#楼", "三号楼" → "3", "B座" → "B"
    (the one grammar, nlp/buildings.py); anything it does not read stays as written."""
    text = _s(value)
    if text is None:
        return None
    return building_of(text) or (text.upper() if len(text) == 1 and text.isascii() and text.isalpha() else text)


def _unit(value: Any) -> str | None:
    """"2单元" / "二单元" → "2"; anything else stays as written."""
    text = _s(value)
    return (unit_of(text) or text) if text else None


def _parse_roles(raw: Any, where: str, problems: list[str]) -> list[tuple[str, str | None]]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else re.split(r"[,，、;；\s]+", str(raw))
    roles = []
    for item in items:
        community = None
        if isinstance(item, dict):  # {community_staff: 兰新社区}
            (item, community), = item.items()
        item = str(item).strip()
        if not item:
            continue
        code = item if item in VALID_ROLES else ROLE_BY_LABEL.get(item)
        if code is None:
            problems.append(f"{where}：未知角色“{item}”（可用：{'、'.join(sorted(ROLE_BY_LABEL))}）")
            continue
        roles.append((code, community))
    return roles


def _person(where: str, raw: dict[str, Any], problems: list[str]) -> PersonSpec | None:
    name = _s(raw.get("name"))
    if not name:
        problems.append(f"{where}，列 name/姓名：缺少姓名")
        return None
    phone = _s(raw.get("phone"))
    if phone and not _PHONE.match(phone.replace(" ", "")):
        problems.append(f"{where}，列 phone/电话：“{phone}”不是有效的电话号码")
    return PersonSpec(
        where=where, name=name[:64], phone=phone, compound=_s(raw.get("compound")),
        building=_building(raw.get("building")), unit=_unit(raw.get("unit")), room=_s(raw.get("room")),
        roles=_parse_roles(raw.get("roles"), f"{where}，列 roles/角色", problems),
        wechat_id=_s(raw.get("wechat_id")), consent_named=bool(raw.get("consent_named", True)),
    )


# libyaml's safe loader where PyYAML was built with it (its wheels are): the same documents,
# read ~9x faster (the demo district: 88 -> 10 ms); the pure-Python one elsewhere.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(path: Path, text: str) -> tuple[OrgPlan, list[str]]:
    problems: list[str] = []
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise OrgImportError([f"{path}{at}：YAML 格式错误：{getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(data, dict) or "district" not in data:
        raise OrgImportError([f"{path}：顶层需要 district、streets、people 三项"])
    plan = OrgPlan(district=str(data["district"]), account=_s(data.get("account")))
    for si, street in enumerate(data.get("streets") or []):
        s_where = f"{path} streets[{si}]"
        if not isinstance(street, dict) or not _s(street.get("name")):
            problems.append(f"{s_where}：街道缺少 name")
            continue
        for ci, community in enumerate(street.get("communities") or []):
            c_where = f"{s_where}.communities[{ci}]"
            if not isinstance(community, dict) or not _s(community.get("name")):
                problems.append(f"{c_where}：社区缺少 name")
                continue
            for ki, compound in enumerate(community.get("compounds") or []):
                k_where = f"{c_where}.compounds[{ki}]"
                name = _s(compound.get("name")) if isinstance(compound, dict) else None
                if not name:
                    problems.append(f"{k_where}：小区缺少 name")
                    continue
                if name in plan.compounds:
                    problems.append(f"{k_where}：小区“{name}”重复")
                    continue
                spec = CompoundSpec(name=name, street=street["name"], community=community["name"],
                                    is_key=bool(compound.get("key", False)), branch=_s(compound.get("branch")),
                                    buildings=[_building(b) or str(b) for b in compound.get("buildings") or []],
                                    property=compound.get("property"), settings=compound.get("settings") or {})
                for gi, group in enumerate(compound.get("groups") or []):
                    if isinstance(group, str):
                        group = {"name": group}
                    if not _s(group.get("name")):
                        problems.append(f"{k_where}.groups[{gi}]：群缺少 name")
                        continue
                    spec.groups.append((group["name"], _s(group.get("chat_id")), _s(group.get("account"))))
                plan.compounds[name] = spec
    for pi, raw in enumerate(data.get("people") or []):
        if not isinstance(raw, dict):
            problems.append(f"{path} people[{pi}]：应为键值对")
            continue
        person = _person(f"{path} people[{pi}]", raw, problems)
        if person:
            plan.people.append(person)
    return plan, problems


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _rows_from_xlsx(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    header = [_s(h) or "" for h in rows[0]]
    return [dict(zip(header, row)) for row in rows[1:] if any(v not in (None, "") for v in row)]


def parse_table(path: Path, rows: list[dict[str, Any]], district: str) -> tuple[OrgPlan, list[str]]:
    """One row per person (or per compound when 姓名 is empty)."""
    problems: list[str] = []
    if not rows:
        raise OrgImportError([f"{path}：表格是空的"])
    header = set(rows[0])
    column_of: dict[str, str] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in header:
                column_of[key] = name
    for required in ("street", "community", "compound"):
        if required not in column_of:
            problems.append(f"{path}，第1行：缺少列“{COLUMNS[required][0]}”")
    unknown = header - {n for names in COLUMNS.values() for n in names} - {""}
    for name in sorted(unknown):
        problems.append(f"{path}，第1行：无法识别的列“{name}”")
    if problems:
        raise OrgImportError(problems)
    plan = OrgPlan(district=district)
    for index, row in enumerate(rows, start=2):
        values = {key: row.get(col) for key, col in column_of.items()}
        where = f"{path}，第{index}行"
        compound = _s(values.get("compound"))
        if not compound:
            problems.append(f"{where}，列 小区：不能为空")
            continue
        spec = plan.compounds.setdefault(compound, CompoundSpec(
            name=compound, street=_s(values.get("street")) or "", community=_s(values.get("community")) or ""))
        if _s(values.get("group")):
            spec.groups.append((_s(values["group"]), None, None))
        if _s(values.get("name")):
            values["roles"] = _s(values.get("roles"))
            person = _person(where, values, problems)
            if person:
                plan.people.append(person)
    return plan, problems


def parse_file(path: Path, district: str = "默认区") -> OrgPlan:
    if not path.exists():
        raise OrgImportError([f"{path}：文件不存在"])
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            plan, problems = parse_yaml(path, path.read_text(encoding="utf-8"))
        elif suffix == ".csv":
            plan, problems = parse_table(path, _rows_from_csv(path.read_text(encoding="utf-8-sig")), district)
        elif suffix == ".xlsx":
            plan, problems = parse_table(path, _rows_from_xlsx(path.read_bytes()), district)
        else:
            raise OrgImportError([f"{path}：不支持的文件类型（请用 .yaml、.csv 或 .xlsx）"])
    except UnicodeDecodeError as exc:
        raise OrgImportError([f"{path}：文件不是 UTF-8 编码（{exc.reason}）"]) from exc
    except OSError as exc:
        raise OrgImportError([f"{path}：无法读取：{exc}"]) from exc
    except Exception as exc:  # openpyxl raises assorted errors for a corrupt workbook
        if isinstance(exc, OrgImportError):
            raise
        raise OrgImportError([f"{path}：无法解析：{exc}"]) from exc
    problems += _cross_check(plan)
    if problems:
        raise OrgImportError(problems)
    return plan


def _cross_check(plan: OrgPlan) -> list[str]:
    problems = []
    communities = {c.community for c in plan.compounds.values()}
    for c in plan.compounds.values():
        if not c.street or not c.community:
            problems.append(f"小区“{c.name}”缺少所属街道或社区")
    for p in plan.people:
        if p.compound and p.compound not in plan.compounds:
            problems.append(f"{p.where}，列 compound/小区：小区“{p.compound}”未在文件中定义")
        for role, community in p.roles:
            if role == "community_staff" and not (community or p.compound):
                problems.append(f"{p.where}，列 roles/角色：社区工作人员需注明社区")
            if community and community not in communities:
                problems.append(f"{p.where}，列 roles/角色：社区“{community}”未在文件中定义")
            if role not in AREA_ROLES and not p.compound:
                problems.append(f"{p.where}，列 compound/小区：角色“{ROLE_LABELS.get(role, role)}”需要所属小区")
    return problems


# ---------------------------------------------------------------- which account
DEMO_ACCOUNT = "sim"


def choose_account(configured: list[str], requested: str | None, plan: OrgPlan) -> str:
    """The bot account an import attaches groups and WeChat ids to.

    A group on the wrong account is never answered (each account serves only its own rows), so
    the choice is explicit when it could be wrong: ``--account``, else the file's ``account:``,
    else the only configured account; with none configured, the demo's web chat.
    """
    named = requested or plan.account
    if named:
        if configured and named not in configured:
            raise OrgImportError([f"账号“{named}”未在配置中（已配置：{'、'.join(configured)}）"
                                  f" / account {named!r} is not configured"])
        if not configured and named != DEMO_ACCOUNT:
            raise OrgImportError([f"账号“{named}”未在配置中：尚未配置任何微信账号（wechaty.endpoint/token"
                                  f" 或 [[wechaty.accounts]]）/ no WeChat account is configured"])
        return named
    if len(configured) == 1:
        return configured[0]
    if configured:
        raise OrgImportError([f"配置了多个微信账号（{'、'.join(configured)}）：请用 --account 指定，"
                              f"或在文件顶层写 account: 账号名 / several accounts: name one with --account"])
    return DEMO_ACCOUNT


async def groups_elsewhere(session: AsyncSession, account: str) -> dict[str, int]:
    """Bound groups that live on other accounts: the operator should know the import lands apart."""
    rows = (await session.execute(
        select(ChatGroup.account, func.count()).where(ChatGroup.account != account, ChatGroup.active.is_(True),
                                                      ChatGroup.compound_id.is_not(None))
        .group_by(ChatGroup.account))).all()
    return {acc: count for acc, count in rows}


# ---------------------------------------------------------------- applying
async def _get_or_add(session: AsyncSession, model, **keys):  # noqa: ANN001, ANN202
    row = (await session.execute(select(model).filter_by(**keys))).scalar_one_or_none()
    if row is None:
        row = model(**keys)
        session.add(row)
        await session.flush()
    return row


async def apply_plan(session: AsyncSession, plan: OrgPlan, now: datetime, account: str = "sim", *,
                     actor: Doer | None = None) -> ImportResult:
    """Write the plan in the caller's transaction (the caller commits or rolls back). Groups are
    bound through the groups service, so each binding leaves its Event like any other."""
    names = _NamesInPlan()
    district = await _get_or_add(session, District, name=plan.district)
    compound_ids: dict[str, int] = {}
    community_ids: dict[str, int] = {}
    groups = 0
    moved: dict[str, int] = {}
    served_elsewhere: list[tuple[str, str]] = []
    for spec in plan.compounds.values():
        street = await _get_or_add(session, Street, district_id=district.id, name=spec.street)
        community = await _get_or_add(session, Community, street_id=street.id, name=spec.community)
        community_ids[spec.community] = community.id
        compound = (await session.execute(select(Compound).where(Compound.name == spec.name))).scalar_one_or_none()
        if compound is None:
            compound = Compound(name=spec.name, community_id=community.id)
            session.add(compound)
        compound.community_id = community.id
        compound.is_key = spec.is_key
        if spec.settings:
            compound.settings = {**(compound.settings or {}), **spec.settings}
        branch = await _get_or_add(session, Branch, name=spec.branch or f"{spec.name}党支部")
        compound.branch_id = branch.id
        await session.flush()
        compound_ids[spec.name] = compound.id
        names.known[compound.id] = compound.name
        # One read of the compound's buildings, then the missing ones added (not a select and a
        # flush per building: an import of hundreds of buildings spent most of its time there).
        have = set((await session.execute(select(Building.number).where(
            Building.compound_id == compound.id))).scalars())
        for number in spec.buildings:
            if number not in have:
                have.add(number)
                session.add(Building(compound_id=compound.id, number=number))
        if spec.property:
            project = await _get_or_add(session, PropertyProject, compound_id=compound.id,
                                        company=str(spec.property.get("company", "物业公司")),
                                        name=str(spec.property.get("project", f"{spec.name}物业项目")))
            project.manager_name = spec.property.get("manager")
        for topic, chat_id, group_account in spec.groups:
            acc = group_account or account
            platform_id = chat_id or f"room:{topic}"
            group = (await session.execute(select(ChatGroup).where(
                ChatGroup.account == acc, ChatGroup.platform_id == platform_id))).scalar_one_or_none()
            if group is None:
                group = ChatGroup(account=acc, platform_id=platform_id, topic=topic, first_seen_at=now)
                serving = await _serving_elsewhere(session, acc, platform_id)
                if serving is not None and serving.account == DEMO_ACCOUNT:
                    # The demo's rows never reach WeChat: the real account takes the group over.
                    serving.active = False
                    await session.flush()
                    moved[serving.account] = moved.get(serving.account, 0) + 1
                elif serving is not None:
                    # One room, one serving account: the one already there keeps it; this row
                    # serves once that account leaves the room.
                    group.active = False
                    served_elsewhere.append((topic, serving.account))
                session.add(group)
            if group.id is None:
                await session.flush()  # the binding's Event row needs the group's id
            groups_service.bind(session, names, group, compound.id, now, actor=actor)
            groups += 1
    roles = 0
    for spec in plan.people:
        compound_id = compound_ids.get(spec.compound) if spec.compound else None
        query = select(Person).where(Person.name == spec.name)
        query = query.where(Person.phone == spec.phone) if spec.phone else query.where(Person.compound_id == compound_id)
        person = (await session.execute(query)).scalars().first()
        if person is None:
            person = Person(name=spec.name, created_at=now)
            session.add(person)
        person.phone, person.compound_id = spec.phone, compound_id
        person.building, person.unit, person.room_no = spec.building, spec.unit, spec.room
        person.on_roster, person.consent_named = True, spec.consent_named
        await session.flush()
        await session.refresh(person, ["roles"])
        for role, community in spec.roles:
            if role in AREA_ROLES:
                scope = {"compound_id": None,
                         "community_id": community_ids.get(community) if community else
                         (None if role == "district_staff" else
                          community_ids[plan.compounds[spec.compound].community])}
            else:
                scope = {"compound_id": compound_id, "community_id": None}
            if not any(r.name == role and r.compound_id == scope["compound_id"]
                       and r.community_id == scope["community_id"] for r in person.roles):
                session.add(Role(person_id=person.id, name=role, granted_at=now, **scope))
                roles += 1
        if spec.wechat_id:
            ident = (await session.execute(select(Identity).where(
                Identity.account == account, Identity.platform_id == spec.wechat_id))).scalar_one_or_none()
            if ident is None:
                session.add(Identity(account=account, platform_id=spec.wechat_id, person_id=person.id,
                                     display_name=spec.name, first_seen_at=now, last_seen_at=now))
            else:
                ident.person_id = person.id
    await session.flush()
    return ImportResult(compounds=len(plan.compounds), people=len(plan.people), groups=groups, roles=roles,
                        moved=moved, served_elsewhere=served_elsewhere)


@dataclass
class _NamesInPlan:
    """Compound names as the import writes them, for the binding's trail (the process's org
    directory is refreshed only after the import commits)."""

    known: dict[int, str] = field(default_factory=dict)

    def name_of(self, compound_id: int | None) -> str:
        return self.known.get(compound_id, "") if compound_id is not None else ""


async def _serving_elsewhere(session: AsyncSession, account: str, platform_id: str) -> ChatGroup | None:
    return (await session.execute(select(ChatGroup).where(
        ChatGroup.platform_id == platform_id, ChatGroup.account != account,
        ChatGroup.active.is_(True)))).scalars().first()


def chunk_plan(plan: OrgPlan, size: int = 50) -> list[OrgPlan]:
    """The compounds first, then people ``size`` at a time with the compounds their rows refer to
    (applied in order in one transaction, so a long import can show progress between chunks)."""
    chunks = [OrgPlan(plan.district, account=plan.account, compounds=dict(plan.compounds), people=[])]
    first_of_community: dict[str, str] = {}
    for spec in plan.compounds.values():
        first_of_community.setdefault(spec.community, spec.name)
    for start in range(0, len(plan.people), size):
        people = plan.people[start:start + size]
        names = {p.compound for p in people if p.compound}
        names |= {first_of_community[c] for p in people for _, c in p.roles if c in first_of_community}
        chunks.append(OrgPlan(plan.district, account=plan.account,
                              compounds={n: plan.compounds[n] for n in names}, people=people))
    return chunks


async def apply_in_chunks(session: AsyncSession, plan: OrgPlan, now: datetime, *, account: str, size: int = 50,
                          advance: Callable[[int], Awaitable[None]] | None = None,
                          actor: Doer | None = None) -> ImportResult:
    """``apply_plan`` chunk by chunk (``chunk_plan``) in the caller's one transaction; after each
    chunk ``advance`` is told how many people (1 for the compounds) it covered."""
    total = ImportResult(compounds=len(plan.compounds), people=len(plan.people), groups=0, roles=0)
    for chunk in chunk_plan(plan, size):
        result = await apply_plan(session, chunk, now, account=account, actor=actor)
        total.groups = total.groups or result.groups
        total.roles += result.roles
        for other, count in result.moved.items():
            total.moved[other] = total.moved.get(other, 0) + count
        total.served_elsewhere += [s for s in result.served_elsewhere if s not in total.served_elsewhere]
        if advance is not None:
            await advance(len(chunk.people) or 1)
    return total


async def apply_plan_with_progress(session: AsyncSession, plan: OrgPlan, now: datetime, *, account: str,
                                   desc: str = "正在导入名册", file: IO[str] | None = None) -> ImportResult:
    """``apply_in_chunks`` moving a command-line bar per person."""
    with progress(len(plan.people) + 1, desc, unit="人", file=file) as bar:
        async def advance(n: int) -> None:
            bar.update(n)

        return await apply_in_chunks(session, plan, now, account=account, advance=advance)
