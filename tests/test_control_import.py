"""Importing a pushed list of key persons (DESIGN.md §8 `import_key_persons`)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from epidispatch.control.models import ControlCase, KeyPerson

from .control_fixtures import *  # noqa: F403 - the fixtures
from .dose_files import write_table
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

HEADERS = ["姓名", "身份证件号码", "联系电话", "人员类别", "末次暴露或抵达日期", "现住网格编码",
           "来源"]  # fmt: skip


def run(path, *extra):
    out = StringIO()
    call_command("import_key_persons", str(path), *extra, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def pushed(tmp_path, tree, resident_a, policies):
    rows = [
        ["张三", id_number(1), "13800000001", "密接", "2022-07-01", "", "协查推送"],
        ["李四", id_number(2), "", "高风险地区来返", "2022/7/2", tree.grid.code, ""],
        ["王五", id_number(3), "", "中风险地区来返", "2022年7月3日", tree.sibling_grid.code, ""],
        ["李四", id_number(2), "", "高风险地区来返", "2022-07-02", tree.grid.code, ""],
        ["赵六", id_number(4), "", "密接", "2022-07-01", "", ""],
        ["钱七", id_number(5), "", "确诊", "2022-07-01", tree.grid.code, ""],
        ["孙八", id_number(6), "", "密接", "七月一日", tree.grid.code, ""],
        ["周九", "622424199001010000", "", "密接", "2022-07-01", tree.grid.code, ""],
        ["吴十", id_number(8), "", "密接", "2022-07-01", "621121100001999", ""],
    ]
    return write_table(tmp_path / "协查推送", HEADERS, rows, "utf-8")


def test_a_pushed_list_lands_with_each_bad_row_named_by_row_and_column(pushed):
    result = run(pushed, "--registered", "2022-07-04")
    assert {k: result[k] for k in ("rows", "stored", "unchanged", "duplicates", "rejected")} == {
        "rows": 9, "stored": 3, "unchanged": 0, "duplicates": 1, "rejected": 5}  # fmt: skip
    report = load_workbook(result["error_report"]).active
    errors = [(row[0], row[1]) for row in report.iter_rows(min_row=2, values_only=True)]
    assert errors == [(6, "现住网格编码"), (7, "人员类别"), (8, "末次暴露或抵达日期"),
                      (9, "身份证件号码"), (10, "现住网格编码")]  # fmt: skip
    zhang = KeyPerson.objects.get(name="张三")
    assert zhang.resident is not None and zhang.phone_masked == "138****0001"
    assert ControlCase.objects.get(person=zhang).source == "pushed"


def test_a_pushed_list_imported_twice_adds_nobody(pushed):
    run(pushed, "--registered", "2022-07-04")
    before = (KeyPerson.objects.count(), ControlCase.objects.count())
    again = run(pushed, "--registered", "2022-07-05")
    assert (again["stored"], again["unchanged"], again["duplicates"]) == (0, 3, 1)
    assert (KeyPerson.objects.count(), ControlCase.objects.count()) == before == (3, 3)


def test_a_category_the_version_does_not_manage_is_rejected_on_its_row(tmp_path, tree, policies):
    path = write_table(
        tmp_path / "二十条", HEADERS,
        [["李四", id_number(2), "", "次密接", "2022-11-20", tree.grid.code, ""],
         ["王五", id_number(3), "", "密接", "2022-11-20", tree.grid.code, ""]],
        "utf-8",
    )  # fmt: skip
    result = run(path, "--registered", "2022-11-20")
    assert (result["stored"], result["rejected"]) == (1, 1)
    row = next(load_workbook(result["error_report"]).active.iter_rows(min_row=2, values_only=True))
    assert row[:2] == (2, "人员类别") and "二十条" in row[2]


def test_an_xlsx_in_gb18030_csv_and_excel_dates_read_the_same(tmp_path, tree, policies):
    rows = [["李四", id_number(2), "", "密接", "2022-07-01", tree.grid.code, ""]]
    xlsx = write_table(tmp_path / "a", HEADERS, rows, "xlsx")
    gbk = write_table(tmp_path / "b", HEADERS, rows, "gb18030")
    assert run(xlsx, "--registered", "2022-07-02")["stored"] == 1
    assert run(gbk, "--registered", "2022-07-02")["unchanged"] == 1


def test_a_file_without_a_required_column_is_not_read(tmp_path, policies):
    path = write_table(tmp_path / "x", ["姓名", "身份证件号码"], [["李四", id_number(2)]], "utf-8")
    with pytest.raises(CommandError, match="人员类别"):
        run(path)


def test_huge_cells_and_future_dates_are_rejected_rows_not_errors(tmp_path, tree, policies):
    path = write_table(
        tmp_path / "bad", HEADERS,
        [["李四" + "长" * 500, id_number(2), "1" * 300, "密接", "2022-07-01", tree.grid.code, ""],
         ["王五", id_number(3), "", "密接", "2099-07-01", tree.grid.code, ""]],
        "utf-8",
    )  # fmt: skip
    result = run(path, "--registered", "2022-07-02")
    assert (result["stored"], result["rejected"]) == (0, 2)


def test_a_file_with_nul_bytes_is_refused_with_a_message(tmp_path, policies):
    path = tmp_path / "nul.csv"
    path.write_bytes(
        "姓名,身份证件号码,人员类别,末次暴露或抵达日期\n李\x00四,1,密接,2022-07-01\n".encode()
    )
    with pytest.raises(CommandError):
        run(path)
