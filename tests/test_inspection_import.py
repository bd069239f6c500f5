"""The key-places file (名称, 类别, 地址, 网格编码, 责任单位编码, 负责人, 联系电话) in the
shared import framework: re-importing it adds nothing, bad rows are named by row and
column, and a town cannot write another town's places."""

import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from epidispatch.accounts.models import Role
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.inspection.models import KeyPlace
from epidispatch.inspection.reference import reference_data_load

from .dose_files import write_table

pytestmark = pytest.mark.django_db

HEADERS = ["名称", "类别", "地址", "网格编码", "责任单位编码", "负责人", "联系电话"]


@pytest.fixture(autouse=True)
def _categories(db):
    reference_data_load(apps)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def rows(tree):
    return [
        ["平襄商厦", "商场", "北关路1号", tree.grid.code, tree.town.code, "王经理", "13912345678"],
        ["平襄镇农贸市场", "农贸市场", "南街", "", tree.town.code, "马国平", "0932-5123456"],
        ["鸡川超市", "商场", "", tree.other_grid.code, tree.other_town.code, "", ""],
    ]


def run_import(path, user=None):
    batch = import_batch_create(kind="key_places", path=path, file_name=path.name, user=user)
    summary = import_batch_run(batch, path)
    batch.refresh_from_db()
    return summary, batch


@pytest.mark.parametrize("file_format", ["xlsx", "utf-8-sig", "gb18030"])
def test_reimporting_the_places_file_adds_nothing(tree, tmp_path, file_format):
    path = write_table(tmp_path / "重点场所", HEADERS, rows(tree), file_format)
    first, _batch = run_import(path)
    assert (first.stored, first.unchanged, first.rejected) == (3, 0, 0)
    again, _batch = run_import(path)
    assert (again.stored, again.unchanged, again.rejected) == (0, 3, 0)
    assert KeyPlace.objects.count() == 3
    place = KeyPlace.objects.get(name="平襄商厦")
    assert (place.category.name, place.grid, place.responsible_unit, place.contact_phone) == (
        "商场",
        tree.grid,
        tree.town,
        "13912345678",
    )


def test_a_changed_row_updates_its_place_and_a_repeated_row_is_a_duplicate(tree, tmp_path):
    run_import(write_table(tmp_path / "a", HEADERS, rows(tree), "xlsx"))
    changed = rows(tree)
    changed[0][2] = "北关路2号"
    changed.append(list(changed[1]))
    summary, _batch = run_import(write_table(tmp_path / "b", HEADERS, changed, "xlsx"))
    assert (summary.stored, summary.unchanged, summary.duplicates) == (1, 2, 1)
    assert KeyPlace.objects.get(name="平襄商厦").address == "北关路2号"


def test_bad_rows_are_reported_by_row_and_column_and_the_good_ones_land(tree, tmp_path):
    bad = [
        *rows(tree),
        ["无类别", "游乐场", "", "", tree.town.code, "", ""],
        ["无单位", "商场", "", "", "621121999000", "", ""],
        ["错网格", "商场", "", tree.town.code, tree.town.code, "", ""],
        ["错电话", "商场", "", "", tree.town.code, "", "电话号码"],
        ["长" * 101, "商场", "", "", tree.town.code, "", ""],
    ]
    summary, batch = run_import(write_table(tmp_path / "bad", HEADERS, bad, "xlsx"))
    assert (summary.stored, summary.rejected) == (3, 5)
    report = load_workbook(batch.error_report)
    cells = [[c.value for c in row] for row in report.active.iter_rows(min_row=2)]
    assert [(row[0], row[1]) for row in cells] == [
        (5, "类别"),
        (6, "责任单位编码"),
        (7, "网格编码"),
        (8, "联系电话"),
        (9, "名称"),
    ]


def test_a_town_cannot_write_another_towns_places(tree, tmp_path, make_user):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    summary, _batch = run_import(
        write_table(tmp_path / "places", HEADERS, rows(tree), "xlsx"), user=official
    )
    assert (summary.stored, summary.rejected) == (2, 1)
    assert not KeyPlace.objects.filter(responsible_unit=tree.other_town).exists()


def test_the_command_prints_the_import_summary(tree, tmp_path):
    path = write_table(tmp_path / "places", HEADERS, rows(tree), "xlsx")
    out = io.StringIO()
    call_command("import_key_places", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "rows": 3,
        "stored": 3,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 0,
        "error_report": None,
    }
