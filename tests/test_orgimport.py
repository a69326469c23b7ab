"""Org and roster import: YAML, CSV, XLSX; all or nothing; errors name file, row and column."""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.config import SAMPLE_ORG
from bot.models import ChatGroup, Compound, Event, Person, Role
from bot.orgimport import OrgImportError, apply_plan, parse_file

HEADER = "街道,社区,小区,姓名,电话,楼,单元,室,角色\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_org_parses():
    plan = parse_file(SAMPLE_ORG)
    assert {"阳光花园", "兰亭水岸", "沂龙湾润园"} <= set(plan.compounds)


def test_csv_roster_parses_chinese_headers_and_roles(tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "兰山街道,兰新社区,新华园,张书记,13900000001,1,1,101,书记、党员\n")
    plan = parse_file(path)
    assert plan.people[0].roles == [("secretary", None), ("party_member", None)]


@pytest.mark.parametrize("building, unit", [
    ("3", "2"), ("3号楼", "2单元"), ("3#楼", "2单元"), ("三号楼", "二单元"), ("3栋", "2"),
])
def test_roster_buildings_and_units_are_read_by_the_one_grammar(tmp_path, building, unit):
    path = write(tmp_path, "r.csv", HEADER + f"兰山街道,兰新社区,新华园,张三,13900000001,{building},{unit},101,居民\n")
    person = parse_file(path).people[0]
    assert (person.building, person.unit) == ("3", "2")


def test_csv_error_names_file_row_and_column(tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "兰山街道,兰新社区,新华园,张三,12345,1,1,101,居民\n")
    with pytest.raises(OrgImportError) as err:
        parse_file(path)
    assert "r.csv，第2行，列 phone/电话" in err.value.problems[0]


def test_unknown_role_is_reported_with_row(tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "兰山街道,兰新社区,新华园,张三,,1,1,101,队长\n")
    with pytest.raises(OrgImportError, match="第2行.*未知角色“队长”"):
        parse_file(path)


def test_missing_column_is_reported(tmp_path):
    path = write(tmp_path, "r.csv", "街道,小区,姓名\n兰山街道,新华园,张三\n")
    with pytest.raises(OrgImportError, match="缺少列“社区”"):
        parse_file(path)


def test_unknown_column_is_reported(tmp_path):
    path = write(tmp_path, "r.csv", "街道,社区,小区,爱好\n兰山街道,兰新社区,新华园,钓鱼\n")
    with pytest.raises(OrgImportError, match="无法识别的列“爱好”"):
        parse_file(path)


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "o.yaml", "district: x\nstreets: [\n  - name: a\n")
    with pytest.raises(OrgImportError, match="o.yaml第.*行"):
        parse_file(path)


def test_yaml_person_in_undefined_compound_is_reported(tmp_path):
    path = write(tmp_path, "o.yaml", "district: x\nstreets: []\npeople:\n  - {name: 张三, compound: 无此小区}\n")
    with pytest.raises(OrgImportError, match=r"people\[0\].*无此小区"):
        parse_file(path)


def test_xlsx_roster_parses(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["街道", "社区", "小区", "姓名", "电话", "楼", "单元", "室", "角色"])
    ws.append(["兰山街道", "兰新社区", "新华园", "王楼长", "13900000002", 3, 2, 501, "楼长"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    plan = parse_file(path)
    assert plan.people[0].building == "3" and plan.people[0].roles == [("building_leader", None)]


def test_corrupt_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(OrgImportError, match="无法解析"):
        parse_file(path)


def test_unsupported_extension_is_rejected(tmp_path):
    with pytest.raises(OrgImportError, match="不支持的文件类型"):
        parse_file(write(tmp_path, "r.txt", "x"))


async def test_import_is_all_or_nothing(h, tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "兰山街道,兰新社区,新华园,甲,,1,1,101,居民\n"
                                              "兰山街道,兰新社区,新华园,乙,bad,1,1,102,居民\n")
    with pytest.raises(OrgImportError):
        parse_file(path)
    async with h.session() as s:
        assert (await s.execute(select(func.count()).select_from(Compound).where(Compound.name == "新华园"))).scalar_one() == 0


async def test_reimport_changes_nothing(h):
    async with h.session() as s:
        before = (await s.execute(select(func.count()).select_from(Role))).scalar_one()
        await apply_plan(s, parse_file(SAMPLE_ORG), h.now)
        await s.commit()
        after = (await s.execute(select(func.count()).select_from(Role))).scalar_one()
        people = (await s.execute(select(func.count()).select_from(Person))).scalar_one()
    assert before == after and people == 14


def test_cli_import_reports_problems_and_exit_code(tmp_path, capsys):
    from bot.cli import main

    bad = write(tmp_path, "r.csv", HEADER + "兰山街道,兰新社区,新华园,乙,bad,1,1,102,居民\n")
    db = tmp_path / "z.db"
    toml = write(tmp_path, "z.toml", f'database_url = "sqlite+aiosqlite:///{db}"\n')
    assert main(["--config", str(toml), "import", "org", str(bad)]) == 2
    assert "第2行" in capsys.readouterr().err
    good = write(tmp_path, "g.csv", HEADER + "兰山街道,兰新社区,新华园,乙,13900000003,1,1,102,居民\n")
    assert main(["--config", str(toml), "import", "org", str(good)]) == 0
    assert "导入完成：1个小区" in capsys.readouterr().out


def _org_with_group(tmp_path: Path, compound: str) -> Path:
    return write(tmp_path, f"{compound}.yaml", f"""district: 示例区
streets:
  - name: 兰山街道
    communities:
      - name: 兰新社区
        compounds:
          - name: {compound}
            groups:
              - {{name: 新华园邻里群, chat_id: "room-xh-1"}}
""")


async def _group_events(h) -> list[Event]:
    async with h.session() as s:
        group = (await s.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-xh-1"))).scalar_one()
        return list((await s.execute(select(Event).where(
            Event.subject_kind == "group", Event.subject_id == group.id).order_by(Event.id))).scalars())


async def test_import_binds_a_group_with_its_event(h, tmp_path):
    async with h.session() as s:
        await apply_plan(s, parse_file(_org_with_group(tmp_path, "新华园")), h.now)
        await s.commit()
    events = await _group_events(h)
    assert [(e.action, e.note) for e in events] == [("bound", "新华园")]


async def test_reimport_writes_no_second_binding_event(h, tmp_path):
    path = _org_with_group(tmp_path, "新华园")
    for _ in range(2):
        async with h.session() as s:
            await apply_plan(s, parse_file(path), h.now)
            await s.commit()
    assert len(await _group_events(h)) == 1


async def test_import_moving_a_group_records_where_it_came_from(h, tmp_path):
    for compound in ("新华园", "新华园二期"):
        async with h.session() as s:
            await apply_plan(s, parse_file(_org_with_group(tmp_path, compound)), h.now)
            await s.commit()
    moved = (await _group_events(h))[-1]
    async with h.session() as s:
        first = (await s.execute(select(Compound).where(Compound.name == "新华园"))).scalar_one()
    assert (moved.action, moved.from_state, moved.note) == ("bound", str(first.id), "新华园二期")


async def test_import_reads_a_compounds_buildings_once_and_adds_the_missing(h, tmp_path):
    """Hundreds of buildings: one read of those there per compound, not a select (and a flush)
    per building; a re-import adds only the new ones, and a number listed twice is one building."""
    from sqlalchemy import event

    from bot.models.org import Building

    numbers = [str(n) for n in range(1, 41)]
    path = write(tmp_path, "org.yaml", (
        "district: 测试区\nstreets:\n  - name: 测试街道\n    communities:\n      - name: 测试社区\n"
        "        compounds:\n          - name: 楼多园\n"
        f"            buildings: [{', '.join(repr(n) for n in numbers + ['7'])}]\n"))
    seen: list[str] = []
    engine = h.bot.engine.sync_engine
    listener = lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        async with h.session() as s:
            await apply_plan(s, parse_file(path), h.now)
            await s.commit()
        first = [q for q in seen if "buildings" in q]
        seen.clear()
        more = write(tmp_path, "more.yaml", path.read_text(encoding="utf-8").replace("'40'", "'40', '41'"))
        async with h.session() as s:
            await apply_plan(s, parse_file(more), h.now)
            await s.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sum(q.startswith("SELECT") for q in first) == 1
    assert sum(q.startswith("SELECT") for q in seen if "buildings" in q) == 1
    async with h.session() as s:
        compound_id = (await s.execute(select(Compound.id).where(Compound.name == "楼多园"))).scalar_one()
        have = sorted((await s.execute(select(Building.number).where(Building.compound_id == compound_id))).scalars(),
                      key=int)
    assert have == numbers + ["41"]
