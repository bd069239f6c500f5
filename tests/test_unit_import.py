"""Importing a county's own org tree from a spreadsheet: any row order, every bad row
reported with its row, column and reason, nothing stored twice, nothing half-stored."""

import json
import signal
import time

import openpyxl
import pytest
from django.db import connection
from django.utils import translation

from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.imports.tables import UnreadableFile
from epidispatch.orgunits.models import OrgUnit

from .cli import run, start

pytestmark = pytest.mark.django_db

HEADER = ["编码", "名称", "类型", "上级编码"]
# Children before their parents on purpose, Chinese kind names as offices write them.
GOOD_ROWS = [
    ["621121100001001", "北关社区第1网格", "网格", "621121100001"],
    ["621121100001", "北关社区", "社区", "621121100000"],
    ["621121100000", "平襄镇", "镇", "621121"],
    ["621121", "通渭县", "县", "621100"],
    ["621100", "定西市", "市", ""],
    ["621121980001", "县邮政公司", "部门", "621121"],
    ["621121970001", "平襄镇卫生院接种点", "接种点", "621121100000"],
]


def write_csv(path, rows, encoding="utf-8"):
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding=encoding)
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def units_import(path):
    batch = import_batch_create(kind="units", path=path, file_name=path.name)
    return import_batch_run(batch, path)


def snapshot():
    return sorted(OrgUnit.objects.values_list("code", "name", "kind", "parent__code", "path"))


def test_rows_in_any_order_are_placed_under_their_parents(tmp_path):
    result = units_import(write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS]))
    assert (result.rows, result.stored, result.rejected) == (7, 7, 0)
    grid = OrgUnit.objects.get(code="621121100001001")
    assert grid.path == "621100/621121/621121100000/621121100001/621121100001001/"


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS])
    units_import(path)
    before = snapshot()
    result = units_import(path)
    assert (result.stored, result.unchanged, result.rejected) == (0, 7, 0)
    assert snapshot() == before


@pytest.mark.parametrize("form", ["utf-8-sig", "gb18030", "xlsx"])
def test_every_file_form_imports_to_the_same_tree(tmp_path, form):
    units_import(write_csv(tmp_path / "reference.csv", [HEADER, *GOOD_ROWS]))
    reference = snapshot()
    for unit in OrgUnit.objects.order_by("-depth"):
        unit.delete()
    if form == "xlsx":
        path = write_xlsx(tmp_path / "units.xlsx", [HEADER, *GOOD_ROWS])
    else:
        path = write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS], encoding=form)
    assert units_import(path).stored == 7
    assert snapshot() == reference


def test_codes_typed_as_numbers_in_excel_are_read_as_codes(tmp_path):
    rows = [[int(cell) if cell.isdigit() else cell for cell in row] for row in GOOD_ROWS]
    result = units_import(write_xlsx(tmp_path / "units.xlsx", [HEADER, *rows]))
    assert result.stored == 7


def test_a_cycle_in_the_file_is_rejected_with_its_rows(tmp_path):
    rows = [
        HEADER,
        ["621100", "定西市", "市", ""],
        ["621121", "通渭县", "县", "621100"],
        ["621121970001", "接种点甲", "接种点", "621121970002"],
        ["621121970002", "接种点乙", "接种点", "621121970001"],
    ]
    result = units_import(write_csv(tmp_path / "units.csv", rows))
    assert result.stored == 2
    assert [(e.row, e.column) for e in result.errors] == [(4, "上级编码"), (5, "上级编码")]
    assert (
        result.errors[0].reason == "上级编码形成循环：621121970001 → 621121970002 → 621121970001。"
    )
    assert not OrgUnit.objects.filter(kind="site").exists()


def test_a_unit_that_is_its_own_parent_is_rejected(tmp_path):
    result = units_import(
        write_csv(tmp_path / "u.csv", [HEADER, ["621100", "定西市", "市", "621100"]])
    )
    assert result.errors[0].reason == "上级编码形成循环：621100 → 621100。"


def test_bad_rows_are_reported_with_row_column_and_reason_and_the_rest_land(tmp_path):
    rows = [
        HEADER,
        ["621100", "定西市", "市", ""],
        ["621121", "通渭县", "县", "621100"],
        ["621121100001", "北关社区", "社区", "621121"],  # row 4: village under a county
        ["621121102000", "鸡川镇", "镇", "629999"],  # row 5: unknown parent
        ["621121103000", "榜罗镇", "省", "621121"],  # row 6: unknown kind
        ["621121104000", "", "镇", "621121"],  # row 7: no name
        ["621121105000", "义岗川镇", "镇", "621121"],  # row 8: fine
        ["621121105000", "义岗川镇", "镇", "621121"],  # row 9: the same row again
        ["621121105000", "义岗川乡", "镇", "621121"],  # row 10: same code, other name
        ["621121105001", "新庄村", "村", "621121102000"],  # row 11: its parent, row 5, failed
        ["62112110600", "陇阳镇", "镇", "621121"],  # row 12: malformed code
    ]
    result = units_import(write_csv(tmp_path / "units.csv", rows))
    errors = {e.row: (e.column, e.reason) for e in result.errors}
    assert errors == {
        4: ("上级编码", "村/社区不能放在县/区之下，应放在乡镇/街道之下。"),
        5: ("上级编码", "未知的组织机构编码：629999。"),
        6: ("类型", "未知的组织机构类型：省。"),
        7: ("名称", "此单元格为空。"),
        10: ("编码", "编码 621121105000 已在第8行出现，但内容不同。"),
        11: ("上级编码", "上级单位（第5行）未能导入。"),
        12: ("编码", "乡镇/街道的编码为以000结尾的12位数字，例如 621121100000。"),
    }
    assert (result.rows, result.stored, result.duplicates, result.rejected) == (11, 3, 1, 7)
    assert set(OrgUnit.objects.values_list("code", flat=True)) == {
        "621100",
        "621121",
        "621121105000",
    }


def test_a_renamed_unit_is_updated(tmp_path):
    units_import(write_csv(tmp_path / "a.csv", [HEADER, *GOOD_ROWS]))
    renamed = [
        row if row[0] != "621121980001" else [*row[:1], "县邮政分公司", *row[2:]]
        for row in GOOD_ROWS
    ]
    result = units_import(write_csv(tmp_path / "b.csv", [HEADER, *renamed]))
    assert (result.stored, result.unchanged) == (1, 6)
    assert OrgUnit.objects.get(code="621121980001").name == "县邮政分公司"


def test_an_existing_unit_cannot_change_kind(tmp_path):
    units_import(write_csv(tmp_path / "a.csv", [HEADER, *GOOD_ROWS]))
    changed = [HEADER, ["621121980001", "县邮政公司", "行业网格", "621121"]]
    result = units_import(write_csv(tmp_path / "b.csv", changed))
    assert result.errors[0].column == "类型"
    assert OrgUnit.objects.get(code="621121980001").kind == "department"


def test_aliased_headers_are_matched_and_reported_by_their_own_name(tmp_path):
    rows = [
        ["单位编码", "单位名称", "单位类型", "上级单位编码"],
        ["621100", "定西市", "市", ""],
        ["621121", "通渭县", "县", "629900"],
    ]
    result = units_import(write_csv(tmp_path / "u.csv", rows))
    assert result.stored == 1
    assert result.errors[0].column == "上级单位编码"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件为空。"),
        ("名称,类型\n定西市,市\n".encode(), "缺少必需的列：编码。"),
        (b"PK\x03\x04truncated", "不是有效的Excel文件"),
    ],
)
def test_unreadable_files_are_refused_whole(tmp_path, content, message):
    path = tmp_path / ("u.xlsx" if content.startswith(b"PK") else "u.csv")
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as caught:
        units_import(path)
    assert message in str(caught.value)
    assert not OrgUnit.objects.exists()


def test_a_truncated_xlsx_is_refused(tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", [HEADER, *GOOD_ROWS]).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnreadableFile):
        units_import(path)
    assert not OrgUnit.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_command_prints_a_json_summary_and_exits_0_with_rejected_rows(tmp_path):
    path = write_csv(
        tmp_path / "u.csv", [HEADER, *GOOD_ROWS, ["621121102000", "鸡川镇", "镇", "629999"]]
    )
    result = run("import_units", str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary == {
        "rows": 8,
        "stored": 7,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 1,
        "error_report": summary["error_report"],
    }
    report = openpyxl.load_workbook(summary["error_report"]).active
    assert next(iter(report.iter_rows(min_row=2, values_only=True)))[:3] == (
        9,
        "上级编码",
        "未知的组织机构编码：629999。",
    )


@pytest.mark.django_db(transaction=True)
def test_command_exits_non_zero_on_a_missing_file(tmp_path):
    result = run("import_units", str(tmp_path / "nowhere.csv"))
    assert result.returncode != 0
    assert "文件不存在" in result.stderr


def _writing_units() -> bool:
    """Whether another session holds the lock of an INSERT into the units table: the import's
    transaction has started storing rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE relation = 'orgunits_orgunit'::regclass"
            " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
            # Each xdist worker's database is a copy of one template: its table has the same
            # oid there, so another worker's INSERT would match without this.
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_stores_nothing(tmp_path):
    rows = [HEADER, ["621100", "定西市", "市", ""], ["621121", "通渭县", "县", "621100"]]
    towns = range(801, 900)
    rows += [[f"621121{t}000", f"镇{t}", "镇", "621121"] for t in towns]
    rows += [
        [f"621121{t}{v:03d}", f"村{v}", "村", f"621121{t}000"] for t in towns for v in range(1, 60)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    process = start("import_units", str(path))
    deadline = time.monotonic() + 60
    while not _writing_units():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    assert process.poll() is None, "the import must still be running when it is killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not OrgUnit.objects.exists()
