"""Background work of imports (huey): files uploaded on the web, and stale batches."""

import contextlib
from pathlib import Path

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from epidispatch.audit.services import run_as

from .models import ImportBatch
from .services import batches_fail_stale, import_batch_run
from .tables import UnreadableFile


@db_task()
def import_file_task(batch_id: int, path: str) -> None:
    """Import an uploaded file; its changes are the uploader's on the trail."""
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    run_as(batch.uploaded_by, _import, batch, Path(path))


def _import(batch: ImportBatch, path: Path) -> None:
    # An unreadable file is recorded on the batch, which the page shows.
    with contextlib.suppress(UnreadableFile):
        import_batch_run(batch, path)


@db_periodic_task(crontab(minute="*/5"))
def fail_stale_batches_task() -> None:
    batches_fail_stale()


@HUEY.on_startup()
def fail_batches_of_a_dead_worker() -> None:
    """The imports a previous worker was running died with it: say so on their pages."""
    batches_fail_stale()
