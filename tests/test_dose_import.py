"""Bad dose files lose nothing and store nothing wrong (issue 3's list of bad inputs)."""

import signal
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from epidispatch.accounts.models import Role
from epidispatch.core.protection import decrypt
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.imports.tables import UnreadableFile
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus

from .cli import start
from .dose_files import DOSE_HEADERS, dose_row, id_number, write_table

SINOVAC = "北京科兴中维生物技术有限公司"


@pytest.fixture
def people(tree):
    return {
        "home": resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid),
        "away": resident_create(
            name="乙", id_number=id_number(date(1971, 1, 1)), grid=tree.other_grid
        ),
    }


def number_of(resident) -> str:
    return decrypt(resident.id_number_encrypted)


def run_import(path: Path, user=None):
    batch = import_batch_create(kind="doses", path=path, file_name=path.name, user=user)
    summary = import_batch_run(batch, path)
    batch.refresh_from_db()
    return summary, batch


@pytest.mark.django_db
def test_wrong_check_digit_is_rejected_with_row_and_column(people, tmp_path):
    good = number_of(people["home"])
    wrong = good[:-1] + ("1" if good[-1] != "1" else "2")
    path = write_table(
        tmp_path / "d", DOSE_HEADERS,
        [dose_row(id_number=good, given="2021-05-01", dose=1, maker=SINOVAC),
         dose_row(id_number=wrong, given="2021-05-01", dose=1, maker=SINOVAC)], "utf-8",
    )  # fmt: skip

    summary, batch = run_import(path)

    assert (summary.stored, summary.rejected) == (1, 1)
    [error] = summary.errors
    assert (error.row, error.column) == (3, "身份证件号码")
    report = openpyxl.load_workbook(batch.error_report).active
    first_error = next(report.iter_rows(min_row=2, values_only=True))
    assert first_error[:2] == (3, "身份证件号码")


@pytest.mark.django_db
def test_duplicate_rows_in_one_file_count_once_and_conflicts_point_at_the_first(people, tmp_path):
    number = number_of(people["home"])
    rows = [
        dose_row(id_number=number, given="2021-05-01", dose=1, maker=SINOVAC),
        dose_row(id_number=number.lower(), given="2021/5/1", dose="第1剂", maker="科兴"),
        dose_row(id_number=number, given="2021-05-09", dose=1, maker=SINOVAC),
    ]
    summary, _batch = run_import(write_table(tmp_path / "d", DOSE_HEADERS, rows, "xlsx"))

    assert (summary.stored, summary.duplicates, summary.rejected) == (1, 1, 1)
    assert summary.errors[0].row == 4 and "2" in summary.errors[0].reason
    assert Dose.objects.get().given_on == date(2021, 5, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [["姓名", "电话"], [h for h in DOSE_HEADERS if h != "疫苗剂次"], ["", "", ""]],
    ids=["wrong", "one-missing", "blank"],
)
def test_wrong_or_missing_headers_store_nothing(people, tmp_path, headers):
    path = write_table(tmp_path / "d", headers, [["x"] * len(headers)], "utf-8")
    with pytest.raises(UnreadableFile):
        run_import(path)
    assert not Dose.objects.exists()
    assert ImportBatch.objects.get().state == ImportState.FAILED


@pytest.mark.django_db
def test_empty_and_header_only_files(people, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFile):
        run_import(empty)
    summary, batch = run_import(write_table(tmp_path / "h", DOSE_HEADERS, [], "utf-8"))
    assert summary.rows == 0 and batch.state == ImportState.DONE


@pytest.mark.django_db
def test_truncated_xlsx_is_unreadable_and_stores_nothing(people, tmp_path):
    rows = [
        dose_row(id_number=number_of(people["home"]), given=date(2021, 5, 1), dose=1,
                 maker=SINOVAC)
    ] * 50  # fmt: skip
    whole = write_table(tmp_path / "whole", DOSE_HEADERS, rows, "xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    with pytest.raises(UnreadableFile):
        run_import(cut)
    assert not Dose.objects.exists()


@pytest.mark.django_db
def test_a_town_officials_import_cannot_touch_another_towns_residents(
    people, tree, make_user, tmp_path
):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    rows = [
        dose_row(id_number=number_of(people[who]), given="2021-05-01", dose=1, maker=SINOVAC)
        for who in ("home", "away")
    ]
    summary, batch = run_import(write_table(tmp_path / "d", DOSE_HEADERS, rows, "utf-8"), official)

    assert (summary.stored, summary.rejected) == (1, 1)
    assert list(Dose.objects.values_list("resident__name", flat=True)) == ["甲"]
    assert batch.uploaded_by == official and batch.scope_path == tree.town.path


@pytest.mark.django_db
def test_ledger_keeps_hash_counts_and_columns_it_did_not_import(people, tmp_path):
    path = write_table(
        tmp_path / "d", [*DOSE_HEADERS, "备注"],
        [[*dose_row(id_number=number_of(people["home"]), given="2021-05-01", dose=1,
                    maker=SINOVAC), "补录"]], "utf-8",
    )  # fmt: skip
    _summary, batch = run_import(path)
    assert len(batch.file_sha256) == 64
    assert (batch.rows, batch.stored, batch.state) == (1, 1, ImportState.DONE)
    assert batch.extra_columns == ["备注"]


@pytest.mark.django_db
def test_error_report_keeps_formulas_as_text(people, tmp_path):
    rows = [dose_row(name='=HYPERLINK("http://x","点我")', id_number="123", given="2021-05-01",
                     dose=1, maker=SINOVAC)]  # fmt: skip
    _summary, batch = run_import(write_table(tmp_path / "d", DOSE_HEADERS, rows, "utf-8"))
    name_cell = openpyxl.load_workbook(batch.error_report).active.cell(row=2, column=4)
    assert name_cell.data_type == "s" and name_cell.value.startswith("'=")


@pytest.mark.django_db(transaction=True)
def test_killed_import_stores_no_partial_batch(tree, tmp_path):
    """SIGKILL while the import runs: not one dose or status of the file is stored."""
    grid_residents = [
        resident_create(name=f"r{i}", id_number=id_number(date(1950 + i % 50, 1 + i % 12, 1)),
                        grid=tree.grid)
        for i in range(400)
    ]  # fmt: skip
    rows = [
        dose_row(id_number=number_of(r), given=date(2021, 5, 1), dose=1, maker=SINOVAC)
        for r in grid_residents
    ] * 150  # 60,000 rows: 400 new doses, the rest duplicates
    path = write_table(tmp_path / "big", DOSE_HEADERS, rows, "utf-8")
    process = start("import_doses", str(path))
    deadline = time.monotonic() + 60
    while not ImportBatch.objects.filter(state=ImportState.RUNNING).exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    connection.close()

    assert not Dose.objects.exists()
    assert not VaccinationStatus.objects.exists()
    assert ImportBatch.objects.get().state != ImportState.DONE
