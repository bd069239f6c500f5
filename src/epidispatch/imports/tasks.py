"""Background work of imports (huey): files uploaded on the web, and stale batches."""

import contextlib
from pathlib import Path

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from .models import ImportBatch
from .services import batches_fail_stale, import_batch_run
from .tables import UnreadableFile


@db_task()
def import_file_task(batch_id: int, path: str) -> None:
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    # An unreadable file is recorded on the batch, which the page shows.
    with contextlib.suppress(UnreadableFile):
        import_batch_run(batch, Path(path))


@db_periodic_task(crontab(minute="*/5"))
def fail_stale_batches_task() -> None:
    batches_fail_stale()


@HUEY.on_startup()
def fail_batches_of_a_dead_worker() -> None:
    """The imports a previous worker was running died with it: say so on their pages."""
    batches_fail_stale()
