"""Background work of the registry: imports started from the web (huey)."""

import contextlib
from pathlib import Path

from huey.contrib.djhuey import db_task

from epidispatch.core.tables import UnreadableFile

from .ledger import import_batch_run
from .models import ImportBatch


@db_task()
def import_file_task(batch_id: int, path: str) -> None:
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    # An unreadable file is recorded on the batch, which the page shows.
    with contextlib.suppress(UnreadableFile):
        import_batch_run(batch, Path(path))
