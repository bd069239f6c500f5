"""The import framework's promises to every file kind: the ledger moved with its rows,
limits, encodings, duplicated headers, over-long cells, stale batches, who sees a batch,
templates (issue 17)."""

import io
import os
import socket
from datetime import date, timedelta

import openpyxl
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from epidispatch.accounts.models import Role
from epidispatch.audit.models import AuditAction, AuditEntry
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import (
    batches_fail_stale,
    import_batch_create,
    import_batch_run,
)
from epidispatch.imports.tables import UnreadableFile
from epidispatch.registry.models import Resident
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose

from .cli import run
from .dose_files import DOSE_HEADERS, RESIDENT_HEADERS, dose_row, id_number, write_table

SINOVAC = "北京科兴中维生物技术有限公司"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def run_import(kind, path, user=None):
    batch = import_batch_create(kind=kind, path=path, file_name=path.name, user=user)
    summary = import_batch_run(batch, path)
    batch.refresh_from_db()
    return summary, batch


def resident_row(name, number, grid, phone="13800000000"):
    return [name, number, phone, grid.code, "", ""]


@pytest.mark.django_db(transaction=True)
def test_the_ledger_keeps_its_rows_when_it_moves_to_the_imports_app(tree):
    executor = MigrationExecutor(connection)
    before = [("imports", None)]
    executor.migrate(before)
    old_apps = executor.loader.project_state(
        [("registry", "0002_resident_unvaccinated_reason_importbatch")]
    ).apps
    old_batch = old_apps.get_model("registry", "ImportBatch").objects.create(
        kind="doses", file_name="旧文件.csv", file_sha256="ab" * 32, state="done", stored=7
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    batch = ImportBatch.objects.get(pk=old_batch.pk)
    assert (batch.file_name, batch.kind, batch.stored) == ("旧文件.csv", "doses", 7)
    assert ImportBatch._meta.db_table == "imports_importbatch"
    assert Dose._meta.get_field("batch").related_model is ImportBatch


@pytest.mark.django_db
def test_a_register_mixing_old_and_new_county_codes_across_birth_years_imports_whole(
    tree, tmp_path
):
    rows = []
    for year in (1935, 1960, 1999, 2002, 2004, 2015):
        for region in ("622424", "621121"):
            body = f"{region}{year}0601{len(rows):03d}"
            rows.append(resident_row(f"人{len(rows)}", body + _check(body), tree.grid))
    path = write_table(tmp_path / "register", RESIDENT_HEADERS, rows, "utf-8")

    summary, _batch = run_import("residents", path)

    assert (summary.rows, summary.stored, summary.rejected) == (12, 12, 0), summary.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("999999" + "19800101001", "从未存在"),  # a code that never existed
        ("621121" + "18800101001", "出生日期"),  # more than 120 years back
        ("621121" + (date.today() + timedelta(days=2)).strftime("%Y%m%d") + "001", "出生日期"),
    ],
)
def test_a_code_that_never_existed_or_an_impossible_birth_is_refused(
    tree, tmp_path, number, reason
):
    path = write_table(
        tmp_path / "r", RESIDENT_HEADERS, [resident_row("甲", number + _check(number), tree.grid)],
        "utf-8",
    )  # fmt: skip
    summary, _batch = run_import("residents", path)
    [error] = summary.errors
    assert (error.row, error.column) == (2, "身份证件号码") and reason in error.reason


@pytest.mark.django_db
def test_a_town_cannot_take_over_another_towns_resident(tree, make_user, tmp_path):
    number = id_number(date(1970, 1, 1))
    resident_create(name="平襄人", id_number=number, phone="13900000000", grid=tree.grid)
    jichuan = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    path = write_table(
        tmp_path / "r", RESIDENT_HEADERS, [resident_row("冒名", number, tree.other_grid)], "utf-8"
    )

    summary, _batch = run_import("residents", path, jichuan)

    resident = Resident.objects.get()
    assert (resident.name, resident.grid) == ("平襄人", tree.grid)
    assert (summary.stored, summary.rejected) == (0, 1)
    [error] = summary.errors
    assert error.column == "身份证件号码"
    assert "平襄" not in error.reason and tree.grid.code not in error.reason


@pytest.mark.django_db(transaction=True)
def test_the_takeover_is_refused_on_the_command_line_run_as_a_town_user(tree, make_user, tmp_path):
    number = id_number(date(1971, 1, 1))
    resident_create(name="平襄人", id_number=number, grid=tree.grid)
    make_user(Role.TOWN_OFFICIAL, tree.other_town, username="town_jichuan")
    path = write_table(
        tmp_path / "r", RESIDENT_HEADERS, [resident_row("冒名", number, tree.other_grid)], "utf-8"
    )

    result = run("import_residents", str(path), "--user", "town_jichuan", "--json")

    assert result.returncode == 0, result.stderr
    assert '"stored": 0' in result.stdout and '"rejected": 1' in result.stdout
    assert Resident.objects.get().grid == tree.grid


@pytest.mark.django_db
def test_the_takeover_is_refused_through_the_web_upload(tree, make_user, tmp_path, client):
    from huey.contrib.djhuey import HUEY

    number = id_number(date(1972, 1, 1))
    resident_create(name="平襄人", id_number=number, grid=tree.grid)
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.other_town))
    path = write_table(
        tmp_path / "r", RESIDENT_HEADERS, [resident_row("冒名", number, tree.other_grid)], "utf-8"
    )
    HUEY.immediate = True
    try:
        with path.open("rb") as handle:
            client.post("/imports/", {"kind": "residents", "file": handle})
    finally:
        HUEY.immediate = False
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.stored, batch.rejected) == ("done", 0, 1)
    assert Resident.objects.get().name == "平襄人"


@pytest.mark.django_db
def test_an_over_long_cell_is_a_rejected_row_naming_row_column_and_limit(tree, tmp_path):
    rows = [
        resident_row("甲" * 10_000, id_number(date(1980, 1, 1)), tree.grid),
        resident_row("乙", id_number(date(1981, 1, 1)), tree.grid),
    ]
    path = write_table(tmp_path / "r", RESIDENT_HEADERS, rows, "utf-8")

    summary, batch = run_import("residents", path)

    assert (summary.stored, summary.rejected, batch.state) == (1, 1, "done")
    [error] = summary.errors
    assert (error.row, error.column) == (2, "姓名")
    assert "10000" in error.reason and "60" in error.reason


@pytest.mark.django_db
def test_an_over_long_lot_number_is_rejected_not_cut(tree, tmp_path):
    resident = resident_create(name="甲", id_number=id_number(date(1970, 2, 1)), grid=tree.grid)
    from epidispatch.core.protection import decrypt

    row = dose_row(
        id_number=decrypt(resident.id_number_encrypted), given="2021-05-01", dose=1,
        maker=SINOVAC, lot="L" * 10_000,
    )  # fmt: skip
    summary, _batch = run_import("doses", write_table(tmp_path / "d", DOSE_HEADERS, [row], "utf-8"))

    assert (summary.stored, summary.rejected) == (0, 1)
    assert summary.errors[0].column == "疫苗批号" and "40" in summary.errors[0].reason
    assert not Dose.objects.exists()


@pytest.mark.django_db
def test_a_utf16_file_with_its_bom_is_read(tree, tmp_path):
    rows = [resident_row("张三", id_number(date(1990, 3, 1)), tree.grid)]
    path = write_table(tmp_path / "r", RESIDENT_HEADERS, rows, "utf-16")
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")

    summary, _batch = run_import("residents", path)

    assert (summary.stored, summary.rejected) == (1, 0)
    assert Resident.objects.get().name == "张三"


@pytest.mark.django_db
def test_a_big5_file_is_refused_saying_the_encoding_cannot_be_told(tree, tmp_path):
    rows = [resident_row("陳大文", id_number(date(1990, 4, 1)), tree.grid)]
    path = tmp_path / "big5.csv"
    text = "\n".join(",".join(r) for r in [["姓名", "身份證件號碼", "聯繫電話", "網格編碼"], *rows])
    path.write_bytes(text.encode("big5"))

    with pytest.raises(UnreadableFile, match="编码"):
        run_import("residents", path)
    assert ImportBatch.objects.get().state == ImportState.FAILED
    assert "编码" in ImportBatch.objects.get().message


@pytest.mark.django_db
def test_two_columns_mapping_to_one_field_refuse_the_file_naming_both(tree, tmp_path):
    headers = ["姓名", "身份证件号码", "网格编码", "身份证号"]
    rows = [["甲", id_number(date(1990, 5, 1)), tree.grid.code, id_number(date(1990, 5, 2))]]
    path = write_table(tmp_path / "r", headers, rows, "utf-8")

    with pytest.raises(UnreadableFile) as refused:
        run_import("residents", path)
    assert "身份证件号码" in str(refused.value) and "身份证号" in str(refused.value)
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_a_batch_whose_process_died_is_marked_failed_with_the_reason(tree):
    dead = ImportBatch.objects.create(
        kind="doses", file_name="a.csv", state=ImportState.RUNNING, pid=_dead_pid(),
        host=socket.gethostname(), heartbeat_at=timezone.now(),
    )  # fmt: skip
    alive = ImportBatch.objects.create(
        kind="doses", file_name="b.csv", state=ImportState.RUNNING, pid=os.getpid(),
        host=socket.gethostname(), heartbeat_at=timezone.now(),
    )  # fmt: skip
    silent = ImportBatch.objects.create(kind="doses", file_name="c.csv", state=ImportState.QUEUED)
    ImportBatch.objects.filter(pk=silent.pk).update(started_at=timezone.now() - timedelta(hours=3))

    assert batches_fail_stale() == 2

    states = dict(ImportBatch.objects.values_list("pk", "state"))
    assert states == {dead.pk: "failed", alive.pk: "running", silent.pk: "failed"}
    assert "中断" in ImportBatch.objects.get(pk=dead.pk).message


@pytest.mark.django_db(transaction=True)
def test_a_command_line_import_is_listed_for_the_dispatcher_not_for_another_county(
    tree, make_user, tmp_path, client
):
    rows = [resident_row("甲", id_number(date(1980, 6, 1)), tree.grid)]
    path = write_table(tmp_path / "cli", RESIDENT_HEADERS, rows, "utf-8")
    assert run("import_residents", str(path), "--json").returncode == 0
    batch = ImportBatch.objects.get()
    assert batch.scope_path == tree.county.path

    client.force_login(make_user(Role.DISPATCHER, tree.county))
    assert "cli.csv" in client.get("/imports/").content.decode()
    assert client.get(f"/imports/{batch.pk}/").status_code == 200
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    assert "cli.csv" not in client.get("/imports/").content.decode()
    assert client.get(f"/imports/{batch.pk}/").status_code == 404


@pytest.mark.django_db
def test_each_import_writes_one_audit_entry(tree, make_user, tmp_path):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    rows = [resident_row("甲", id_number(date(1980, 7, 1)), tree.grid)]
    _summary, batch = run_import(
        "residents", write_table(tmp_path / "r", RESIDENT_HEADERS, rows, "utf-8"), official
    )
    [entry] = AuditEntry.objects.all()
    assert (entry.user, entry.action) == (official, AuditAction.IMPORT_FILE)
    assert f"#{batch.pk}" in entry.subject and entry.unit_path == tree.town.path


@pytest.mark.django_db
def test_each_import_page_offers_a_template_marking_required_columns(tree, make_user, client):
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    page = client.get("/imports/").content.decode()
    assert "/imports/templates/residents.xlsx" in page and "/imports/templates/doses.xlsx" in page

    response = client.get("/imports/templates/residents.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    headers, example = list(sheet.iter_rows(values_only=True))
    assert headers[:4] == ("姓名*", "身份证件号码*", "联系电话", "网格编码*")
    assert example[0] == "张三"
    assert client.get("/imports/templates/nothing.xlsx").status_code == 404


@pytest.mark.django_db
def test_the_template_imports_as_it_is(tree, tmp_path):
    from epidispatch.imports.kinds import file_kind

    headers, example = file_kind("residents").template()
    example[headers.index("网格编码*")] = tree.grid.code
    path = write_table(tmp_path / "t", headers, [example], "xlsx")
    summary, _batch = run_import("residents", path)
    assert (summary.stored, summary.rejected) == (1, 0), summary.errors


def _check(body: str) -> str:
    from stdnum.cn import ric

    return ric.calc_check_digit(body + "0")


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1
