"""The stock-receipt file (入库单: 入库单号, 入库单位编码, 物资名称, 批号, 有效期至, 数量, 入库日期,
追溯码, 备注) through the shared import framework: lines land in the ledger with their packs,
re-importing changes nothing, bad rows are named by row and column in Chinese, an uploader
writes only the stock they manage, and a killed import posts nothing."""

import io
import json
import signal
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from openpyxl import load_workbook

from epidispatch.accounts.models import Role
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.supply.models import Lot, MoveKind, Package, StockBalance, StockMove

from .cli import start
from .dose_files import write_table

HEADERS = [
    "入库单号",
    "入库单位编码",
    "物资名称",
    "批号",
    "有效期至",
    "数量",
    "入库日期",
    "追溯码",
    "备注",
]
CORONAVAC = "北京科兴中维生物技术有限公司"
CODES = [f"8123456{n:013d}" for n in range(1, 6)]


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def later(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def earlier(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def lines(tree) -> list[list[str]]:
    return [
        ["RK001", tree.county.code, CORONAVAC, "202111A", later(200), "100", earlier(1),
         " ".join(CODES), "省疾控配送"],
        ["RK001", tree.county.code, "科兴", "202111B", later(300), "50", earlier(1), "", ""],
        ["RK002", tree.site.code, "医用防护口罩", "M2021", later(700), "1,000", "", "", ""],
    ]  # fmt: skip


def run_import(path, user=None):
    batch = import_batch_create(kind="stock_receipts", path=path, file_name=path.name, user=user)
    summary = import_batch_run(batch, path)
    batch.refresh_from_db()
    return summary, batch


def on_hand(holder, number: str) -> int:
    balance = StockBalance.objects.filter(holder=holder, lot__number=number).first()
    return balance.on_hand if balance else 0


def ledger() -> list[tuple]:
    return list(
        StockMove.objects.order_by("pk").values_list("holder_id", "lot_id", "kind", "quantity")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["xlsx", "utf-8-sig", "gb18030"])
def test_a_delivery_note_lands_in_the_ledger_and_reimporting_it_changes_nothing(
    tree, tmp_path, file_format
):
    path = write_table(tmp_path / "入库单", HEADERS, lines(tree), file_format)
    first, _batch = run_import(path)
    assert (first.stored, first.unchanged, first.rejected) == (3, 0, 0), first.errors
    assert on_hand(tree.county, "202111A") == 100
    assert on_hand(tree.county, "202111B") == 50
    assert on_hand(tree.site, "M2021") == 1000
    assert set(Package.objects.values_list("code", flat=True)) == set(CODES)
    receipt = StockMove.objects.get(lot__number="202111A")
    assert (receipt.kind, receipt.receipt, receipt.note) == (
        MoveKind.RECEIVE,
        "RK001",
        "省疾控配送",
    )
    assert timezone.localtime(receipt.at).date() == timezone.localdate() - timedelta(days=1)
    moves = ledger()

    again, _batch = run_import(path)
    assert (again.stored, again.unchanged, again.rejected) == (0, 3, 0), again.errors
    assert ledger() == moves
    assert on_hand(tree.county, "202111A") == 100
    assert Package.objects.count() == len(CODES)


@pytest.mark.django_db
def test_a_line_repeated_in_the_file_is_a_duplicate_and_with_another_quantity_a_rejected_row(
    tree, tmp_path
):
    row = ["RK003", tree.county.code, CORONAVAC, "202111C", later(200), "20", "", "", ""]
    other = [*row[:5], "30", "", "", ""]
    summary, _batch = run_import(write_table(tmp_path / "r", HEADERS, [row, row, other], "xlsx"))
    assert (summary.stored, summary.duplicates, summary.rejected) == (1, 1, 1)
    [error] = summary.errors
    assert (error.row, error.column) == (4, "数量")
    assert on_hand(tree.county, "202111C") == 20


@pytest.mark.django_db
def test_the_same_line_imported_again_with_another_quantity_is_refused_and_the_stock_stays(
    tree, tmp_path
):
    row = ["RK004", tree.county.code, CORONAVAC, "202111D", later(200), "20", "", "", ""]
    run_import(write_table(tmp_path / "a", HEADERS, [row], "xlsx"))
    summary, _batch = run_import(
        write_table(tmp_path / "b", HEADERS, [[*row[:5], "25", "", "", ""]], "xlsx")
    )
    assert (summary.stored, summary.unchanged, summary.rejected) == (0, 0, 1)
    [error] = summary.errors
    assert error.column == "数量"
    assert "RK004" in error.reason and "盘点" in error.reason
    assert on_hand(tree.county, "202111D") == 20


@pytest.mark.django_db
def test_bad_rows_are_reported_in_chinese_by_row_and_column_and_the_good_ones_land(tree, tmp_path):
    good = ["RK010", tree.county.code, CORONAVAC, "202112A", later(200), "10", "", "", ""]
    rows = [
        good,
        ["RK011", "999999", CORONAVAC, "L1", later(200), "10", "", "", ""],
        ["RK012", tree.grid.code, CORONAVAC, "L2", later(200), "10", "", "", ""],
        ["RK013", tree.county.code, "不存在的疫苗", "L3", later(200), "10", "", "", ""],
        ["RK014", tree.county.code, CORONAVAC, "L4", "明年", "10", "", "", ""],
        ["RK015", tree.county.code, CORONAVAC, "L5", later(200), "0", "", "", ""],
        ["RK016", tree.county.code, CORONAVAC, "L6", later(200), "十", "", "", ""],
        ["RK017", tree.county.code, CORONAVAC, "L7", earlier(3), "10", "", "", ""],
        ["RK018", tree.county.code, CORONAVAC, "L8", later(200), "10", later(2), "", ""],
        ["RK019", tree.county.code, CORONAVAC, "L9", later(200), "10", "", CODES[0][:19], ""],
        ["RK020", tree.county.code, CORONAVAC, "L10", later(200), "1", "", " ".join(CODES[:2]), ""],
        ["RK021", tree.county.code, CORONAVAC, "202112A", later(201), "10", "", "", ""],
        ["", tree.county.code, CORONAVAC, "L12", later(200), "10", "", "", ""],
    ]  # fmt: skip
    summary, batch = run_import(write_table(tmp_path / "bad", HEADERS, rows, "xlsx"))
    assert (summary.stored, summary.rejected) == (1, 12)
    errors = {error.row: (error.column, error.reason) for error in summary.errors}
    assert errors[3][0] == "入库单位编码" and "999999" in errors[3][1]
    assert errors[4] == (
        "入库单位编码",
        f"{tree.grid.name} 不存放库存：库存只在接种点或县级仓库。",
    )
    assert errors[5][0] == "物资名称" and "不存在的疫苗" in errors[5][1]
    assert errors[6][0] == "有效期至" and "明年" in errors[6][1]
    assert errors[7][0] == "数量" and errors[8][0] == "数量"
    assert errors[9][0] == "有效期至" and "过期" in errors[9][1]
    assert errors[10][0] == "入库日期"
    assert errors[11] == ("追溯码", "药品追溯码应为20位数字，此码为19位。")
    assert errors[12][0] == "追溯码" and "1" in errors[12][1]
    assert errors[13][0] == "有效期至" and "202112A" in errors[13][1]
    assert errors[14][0] == "入库单号"
    assert not Lot.objects.exclude(number="202112A").exists()
    report = load_workbook(batch.error_report).active
    assert [cell.value for cell in report[1]][:3] == ["行号", "列", "原因"]
    assert report.max_row == 13


@pytest.mark.django_db
def test_site_staff_receive_into_their_own_site_only(tree, tmp_path, make_user):
    staff = make_user(Role.SITE_STAFF, tree.site)
    rows = [
        ["RK030", tree.site.code, CORONAVAC, "202112B", later(200), "10", "", "", ""],
        ["RK031", tree.other_site.code, CORONAVAC, "202112B", later(200), "10", "", "", ""],
        ["RK032", tree.county.code, CORONAVAC, "202112B", later(200), "10", "", "", ""],
    ]
    summary, _batch = run_import(write_table(tmp_path / "s", HEADERS, rows, "xlsx"), user=staff)
    assert (summary.stored, summary.rejected) == (1, 2)
    assert {error.column for error in summary.errors} == {"入库单位编码"}
    assert on_hand(tree.site, "202112B") == 10
    assert on_hand(tree.other_site, "202112B") == on_hand(tree.county, "202112B") == 0
    assert StockMove.objects.get().by == staff


@pytest.mark.django_db
def test_a_dispatcher_may_not_import_delivery_notes(tree, tmp_path, make_user):
    from django.core.exceptions import PermissionDenied

    path = write_table(tmp_path / "d", HEADERS, lines(tree), "xlsx")
    with pytest.raises(PermissionDenied):
        run_import(path, user=make_user(Role.DISPATCHER, tree.county))
    assert not StockMove.objects.exists()


@pytest.mark.django_db
def test_the_command_prints_the_import_summary(tree, tmp_path):
    path = write_table(tmp_path / "receipts", HEADERS, lines(tree), "utf-8")
    out = io.StringIO()
    call_command("import_stock_receipts", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "rows": 3,
        "stored": 3,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 0,
        "error_report": None,
    }
    out = io.StringIO()
    call_command("import_stock_receipts", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue())["unchanged"] == 3


@pytest.mark.django_db
def test_the_template_imports_as_it_is(tree, tmp_path):
    from epidispatch.imports.kinds import file_kind

    headers, example = file_kind("stock_receipts").template()
    assert headers[:6] == ["入库单号*", "入库单位编码*", "物资名称*", "批号*", "有效期至*", "数量*"]
    summary, _batch = run_import(write_table(tmp_path / "t", headers, [example], "xlsx"))
    assert (summary.stored, summary.rejected) == (1, 0), summary.errors


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_posts_nothing(tree, tmp_path):
    """SIGKILL while the lines are posted: not one move, balance, lot or pack is stored."""
    rows = [
        ["RK100", tree.county.code, CORONAVAC, f"K{n:05d}", later(200), "10", "",
         f"8123457{n:013d}", ""]
        for n in range(4000)
    ]  # fmt: skip
    path = write_table(tmp_path / "big", HEADERS, rows, "utf-8")
    process = start("import_stock_receipts", str(path))
    deadline = time.monotonic() + 60
    while not ImportBatch.objects.filter(state=ImportState.RUNNING, rows__gt=0).exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    time.sleep(1)  # well into the lines
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    connection.close()

    assert not StockMove.objects.exists()
    assert not StockBalance.objects.exists()
    assert not Lot.objects.exists()
    assert not Package.objects.exists()
    assert ImportBatch.objects.get().state != ImportState.DONE
