"""Hostile files cannot take the task worker down (issue 17): a sheet with one cell at
XFD1048576 and a zip bomb are refused quickly through the real task queue, and the same
`run_huey` worker then imports a normal file."""

import subprocess
import time
import zipfile
from datetime import date

import openpyxl
import pytest
from huey.contrib.djhuey import HUEY

from epidispatch.accounts.models import Role
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import import_batch_create
from epidispatch.imports.tasks import import_file_task
from epidispatch.registry.models import Resident

from .cli import EPIDISPATCH, _environment
from .dose_files import RESIDENT_HEADERS, id_number, write_table

#: The worker's limit on what an .xlsx may unpack to, small so the bomb stays small.
UNZIPPED_LIMIT = 20 << 20


def xfd_sheet(path):
    book = openpyxl.Workbook()
    book.active["A1"] = "姓名"
    book.active["XFD1048576"] = "x"
    book.save(path)
    return path


def zip_bomb(path):
    """A valid-looking .xlsx whose sheet inflates from ~100 KB to 100 MB."""
    template = xfd_sheet(path.with_name("template.xlsx"))
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data + b" " * (100 << 20)
            bomb.writestr(info.filename, data)
    return path


def wait_for(batch_ids, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = set(ImportBatch.objects.filter(pk__in=batch_ids).values_list("state", flat=True))
        if states <= {ImportState.DONE, ImportState.FAILED}:
            return
        time.sleep(0.5)
    raise AssertionError("the worker did not finish the batches")


@pytest.mark.django_db(transaction=True)
def test_hostile_files_are_refused_through_the_queue_and_the_worker_survives(
    tree, make_user, tmp_path
):
    official = make_user(Role.DISPATCHER, tree.county)
    HUEY.flush()
    hostile = []
    for path in (xfd_sheet(tmp_path / "xfd.xlsx"), zip_bomb(tmp_path / "bomb.xlsx")):
        batch = import_batch_create(kind="residents", path=path, file_name=path.name, user=official)
        import_file_task(batch.pk, str(path))
        hostile.append(batch.pk)
    worker = subprocess.Popen(
        [EPIDISPATCH, "run_huey", "--workers", "1", "--no-periodic"],
        env={**_environment(), "EPIDISPATCH_IMPORT_MAX_UNZIPPED_BYTES": str(UNZIPPED_LIMIT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        wait_for(hostile)
        assert time.monotonic() - started < 60
        assert worker.poll() is None, "the worker died"
        xfd, bomb = (ImportBatch.objects.get(pk=pk) for pk in hostile)
        assert (xfd.state, bomb.state) == (ImportState.FAILED, ImportState.FAILED)
        assert "内存" in xfd.message and "解压后" in bomb.message

        rows = [["张三", id_number(date(1980, 1, 1)), "13800000000", tree.grid.code, "", ""]]
        normal = write_table(tmp_path / "normal", RESIDENT_HEADERS, rows, "utf-8")
        batch = import_batch_create(
            kind="residents", path=normal, file_name=normal.name, user=official
        )
        import_file_task(batch.pk, str(normal))
        wait_for([batch.pk])
        batch.refresh_from_db()
        assert (batch.state, batch.stored) == (ImportState.DONE, 1)
        assert Resident.objects.get().name == "张三"
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
