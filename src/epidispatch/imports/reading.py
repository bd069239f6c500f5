"""Reading an uploaded spreadsheet in a child process with a memory limit and a deadline.

A hostile spreadsheet (one cell at XFD1048576, a zip bomb) makes a reader allocate without
bound, and an allocation failure in the native reader aborts the whole process: run in
the web worker or `run_huey`, that would take the daily cutoff and the reminders down
with it. So the file is read in a fresh process (spawned, not forked: polars' thread pool
does not survive a fork) whose address space is capped; the table comes back as an Arrow
IPC file. If the child dies or overruns, the file is refused and the caller lives on.

A text (CSV) file is read in the process itself: its memory is bounded by its size limit,
and handing a million rows back through IPC would triple the time of the daily import.
"""

import io
import multiprocessing
import os
import resource
import tempfile
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext_noop

from .tables import Frame, Limits, UnreadableFile, is_workbook, read_frame


def limits_from_settings() -> Limits:
    return Limits(
        max_bytes=settings.EPIDISPATCH_IMPORT_MAX_BYTES,
        max_unzipped_bytes=settings.EPIDISPATCH_IMPORT_MAX_UNZIPPED_BYTES,
        max_rows=settings.EPIDISPATCH_IMPORT_MAX_ROWS,
        max_columns=settings.EPIDISPATCH_IMPORT_MAX_COLUMNS,
        max_cells=settings.EPIDISPATCH_IMPORT_MAX_CELLS,
        max_cell_chars=settings.EPIDISPATCH_IMPORT_MAX_CELL_CHARS,
    )


def read_file(path: str | Path) -> Frame:
    """The file's table, read within the limits of the settings; UnreadableFile if not."""
    limits = limits_from_settings()
    if not is_workbook(path, limits):
        return read_frame(path, limits)
    memory = settings.EPIDISPATCH_IMPORT_MEMORY_MB << 20
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="epidispatch-read-") as folder:
        output = Path(folder) / "table.arrow"
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_read_in_child, args=(str(path), limits, memory, str(output), sender)
        )
        child.start()
        sender.close()
        answer = None
        if receiver.poll(settings.EPIDISPATCH_IMPORT_SECONDS):
            try:
                answer = receiver.recv()
            except EOFError:
                answer = None
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
        if answer is None:
            raise UnreadableFile(
                gettext_noop(
                    "The file could not be read within %(memory)d MB of memory and %(seconds)d "
                    "seconds: it is too big or damaged."
                ),
                {"memory": memory >> 20, "seconds": settings.EPIDISPATCH_IMPORT_SECONDS},
            )
        status, payload = answer
        if status == "error":
            raise UnreadableFile(*payload)
        return Frame(headers=payload, data=pl.read_ipc(io.BytesIO(output.read_bytes())))


def _read_in_child(path: str, limits: Limits, memory: int, output: str, sender) -> None:
    os.environ["RUST_BACKTRACE"] = "0"  # a refused allocation aborts; no trace in the log
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        frame = read_frame(path, limits)
        frame.data.write_ipc(output)
    except UnreadableFile as error:
        sender.send(("error", (error.message, error.params)))
    except MemoryError:
        sender.send(("error", (gettext_noop("The file is too big to read."), {})))
    else:
        sender.send(("ok", frame.headers))
    finally:
        sender.close()
