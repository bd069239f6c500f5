"""Running an import of any declared file kind and keeping its ledger entry (ImportBatch).

What every kind gets from here: the ledger entry (who, when, the file's SHA-256, the
counts), reading within limits in a child process (`reading`), the encodings, headers
matched exactly then by alias with two columns for one field refused, required and
over-long cells rejected with row, column and limit, progress with the total rows, the
`.xlsx` error report, the one transaction (the kind's writer and the batch's final counts
commit together, so a batch marked done has stored exactly what it says), one audit entry
per batch, and stale batches (whose process died) marked failed. The command line, the web
page, the task queue and the API all come through `import_batch_create` and
`import_batch_run`.
"""

import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record, command_line_actor
from epidispatch.core.ids import mask_id_number, normalize_id_number
from epidispatch.core.scoping import scope_paths

from .kinds import ROW, FileKind, RowProblem, file_kind, problem_columns
from .models import ImportBatch, ImportState
from .permissions import may_import
from .reading import read_file
from .reports import ImportSummary, RowError, write_error_report
from .tables import Frame, UnreadableFile

#: Rows checked between two progress reports of a row-by-row kind.
PROGRESS_STEP = 10_000


@dataclass
class ImportRun:
    """One import in progress, handed to a kind's checks and writer.

    `scope_paths` None means the whole database (the command line run by the server's
    administrator); otherwise the kind must write only under these paths (`may_write`).
    """

    batch: ImportBatch
    kind: FileKind
    user: object | None
    scope_paths: tuple[str, ...] | None
    headers: dict[str, str]
    summary: ImportSummary
    report_progress: Callable[[int, int], None]
    #: What the kind's own command (or page) adds beyond the file: a screening round …
    options: dict = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    #: What a kind's checks look up once per import (the grids by code …).
    cache: dict = field(default_factory=dict)

    def header(self, field_name: str) -> str:
        """The column's header as the file writes it (the official one if absent)."""
        return self.headers.get(field_name) or self.kind.fields[field_name].header

    def reject(self, row: int, field_name: str, reason: str, *, name="", id_number="") -> None:
        self.summary.reject(
            RowError(
                row=row,
                column=self.header(field_name),
                reason=str(reason),
                name=name,
                id_number=mask_id_number(normalize_id_number(id_number)) if id_number else "",
            )
        )

    def may_write(self, path: str) -> bool:
        return self.scope_paths is None or any(path.startswith(r) for r in self.scope_paths)

    def touch(self, paths: Iterable[str]) -> None:
        """Org-unit paths the import wrote under: the batch is listed for the users whose
        scope covers all of them."""
        self.touched.update(paths)

    def progress(self, done: int) -> None:
        self.report_progress(done, self.summary.rows)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_save(upload) -> Path:
    """Store an uploaded file under the data folder with a random name (the original
    name goes to the ledger only), for the background import to read."""
    folder = Path(settings.DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()[:8]}"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


def import_batch_create(
    *, kind: str, path: Path, file_name: str, user=None, options: dict | None = None
) -> ImportBatch:
    """The ledger entry, written (and committed) before any row is read. `user` None is
    the command line run by whoever administers the server, with the whole database.

    `options` are the raw values of the kind's declared options (`kinds.Option`): each
    must be given and resolve within the user's scope (ValidationError otherwise, before
    anything is written); values of undeclared names are ignored.

    The batch is listed for the users whose scope covers its `scope_path`: the uploader's
    scope root when they have one; otherwise (the command line, an uploader with several
    roots) the county its rows turn out to lie in, set when it finishes."""
    declared = file_kind(kind)
    if user is not None and not may_import(user, declared):
        raise PermissionDenied(
            _("You may not import %(kind)s files.") % {"kind": str(declared.label)}
        )
    values = option_values(declared, options or {}, user)
    return ImportBatch.objects.create(
        kind=kind,
        file_name=file_name[:255],
        file_sha256=file_sha256(path) if Path(path).is_file() else "",
        uploaded_by=user,
        scope_path=_single_root(user) if user is not None else "",
        options=values,
    )


def option_values(kind: FileKind, given: dict, user) -> dict[str, str]:
    """The raw values of `kind`'s options from `given`, each checked by resolving it."""
    values = {}
    for option in kind.options:
        value = "".join(ch for ch in str(given.get(option.name) or "") if ch.isprintable())
        value = value.strip()[:100]
        if not value:
            raise ValidationError(
                _("Choose %(option)s for this file.") % {"option": option.label}, code=option.name
            )
        try:
            option.resolve(value, user)
        except UnreadableFile as error:
            raise ValidationError(str(error), code=option.name) from None
        values[option.name] = value
    return values


def resolve_options(kind: FileKind, values: dict, user) -> dict:
    """What the kind reads in `run.options`: its declared options resolved from the raw
    values kept on the batch (UnreadableFile when one is missing or no longer allowed)."""
    resolved = {}
    for option in kind.options:
        value = str(values.get(option.name) or "")
        if not value:
            raise UnreadableFile(_("Choose %(option)s for this file.") % {"option": option.label})
        resolved[option.name] = option.resolve(value, user)
    return resolved


def import_batch_run(
    batch: ImportBatch,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    options: dict | None = None,
) -> ImportSummary:
    """Run the import of `batch`; raises UnreadableFile (recorded on the batch) when the
    file cannot be read at all. Any other failure marks the batch failed and re-raises.

    The kind's declared options come from the batch (`import_batch_create`), resolved;
    `options` adds what a caller passes beyond them (the HL7 endpoint's dose source …) and
    never replaces a declared one."""
    return _run(batch, lambda: read_file(path), progress=progress, options=options)


def import_batch_run_table(batch: ImportBatch, table: Frame, *, options=None) -> ImportSummary:
    """Run the import of `batch` on a table built in memory rather than read from a file:
    a message format (HL7 v2) converted to the kind's columns gets every rule of the file."""
    return _run(batch, lambda: table, progress=None, options=options)


def _run(batch, read: Callable[[], Frame], *, progress, options) -> ImportSummary:
    user = batch.uploaded_by
    kind = file_kind(batch.kind)
    _mark_running(batch)

    def report(done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            rows_read=done, rows=total, heartbeat_at=timezone.now()
        )
        if progress:
            progress(done, total)

    try:
        given = {**(options or {}), **resolve_options(kind, batch.options, user)}
        frame = read()
        columns = match_columns(frame.headers, kind)
        run = ImportRun(
            batch=batch,
            kind=kind,
            user=user,
            scope_paths=scope_paths(user) if user is not None else None,
            headers={name: frame.headers[index] for name, index in columns.items()},
            summary=ImportSummary(
                rows=frame.data.height, extra_columns=unmatched_headers(frame.headers, columns)
            ),
            report_progress=report,
            options=given,
        )
        report(0, run.summary.rows)
        data = _checked_cells(_by_field(frame.data, columns, kind), run)
        data = _run_checks(data, run)
        with transaction.atomic():
            kind.write(run, data)
            _finish(batch, run)
    except UnreadableFile as error:
        _fail(batch, str(error))
        raise
    except BaseException:
        _fail(batch, _("The import stopped with an error; nothing was stored."))
        raise
    return run.summary


def match_columns(headers: list[str], kind: FileKind) -> dict[str, int]:
    """Map each field to its column: an exact header first, then the known aliases.

    Two columns that map to the same field are refused, naming both: taking the first
    would import whichever an office happened to put on the left. A required field with
    no column is refused too.
    """
    found: dict[str, int] = {}
    for column in kind.columns:
        matches = [index for index, header in enumerate(headers) if header in column.names]
        if len(matches) > 1:
            raise UnreadableFile(
                _("Columns %(columns)s both hold %(field)s; delete one of them.")
                % {
                    "columns": "、".join(f"{headers[i]}（第{i + 1}列）" for i in matches),
                    "field": column.header,
                }
            )
        if matches:
            found[column.field] = matches[0]
    missing = [column.header for column in kind.required if column.field not in found]
    if missing:
        raise UnreadableFile(
            _("Required column missing: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return found


def unmatched_headers(headers: list[str], columns: dict[str, int]) -> list[str]:
    """The file's headers no field took: kept in the ledger."""
    used = set(columns.values())
    return [header for index, header in enumerate(headers) if header and index not in used]


def _by_field(data: pl.DataFrame, columns: dict[str, int], kind: FileKind) -> pl.DataFrame:
    """One trimmed String column per declared field ("" when the file lacks it), plus ROW."""
    return data.select(
        pl.col(ROW),
        *(
            (
                pl.col(str(columns[column.field])).fill_null("").str.strip_chars()
                if column.field in columns
                else pl.lit("", dtype=pl.String)
            ).alias(column.field)
            for column in kind.columns
        ),
    )


def _checked_cells(data: pl.DataFrame, run: ImportRun) -> pl.DataFrame:
    """Reject the rows with an empty required cell or a cell over its column's length."""
    cases = []
    for column in run.kind.columns:
        if column.required:
            cases.append((pl.col(column.field) == "", column.field, _("This cell is empty.")))
        length = pl.col(column.field).str.len_chars()
        cases.append(
            (
                length > column.max_length,
                column.field,
                pl.format(
                    _("{} characters; this column holds at most %(limit)d.")
                    % {"limit": column.max_length},
                    length,
                ),
            )
        )
    return _drop_rejected(data.with_columns(**problem_columns(cases)), run)


def _drop_rejected(data: pl.DataFrame, run: ImportRun) -> pl.DataFrame:
    """Record the rows a check marked (`problem_field`, `problem`) and keep the others."""
    bad = pl.col("problem").is_not_null()
    named = [name for name in ("name", "id_number") if name in data.columns]
    for row in (
        data.filter(bad).select(ROW, "problem_field", "problem", *named).iter_rows(named=True)
    ):
        run.reject(
            row[ROW],
            row["problem_field"],
            row["problem"],
            name=row.get("name") or "",
            id_number=row.get("id_number") or "",
        )
    return data.filter(~bad).drop("problem_field", "problem")


def _run_checks(data: pl.DataFrame, run: ImportRun):
    """The kind's own checks: the frame whole (`check_frame`), or row by row
    (`check_row`), giving the writer `[(row, item), …]`."""
    if run.kind.check_frame is not None:
        return _drop_rejected(run.kind.check_frame(data, run), run)
    items = []
    for done, values in enumerate(data.iter_rows(named=True), start=1):
        row = values.pop(ROW)
        try:
            items.append((row, run.kind.check_row(values, run)))
        except RowProblem as problem:
            run.reject(
                row,
                problem.field,
                problem.reason,
                name=values.get("name", ""),
                id_number=values.get("id_number", ""),
            )
        if done % PROGRESS_STEP == 0:
            run.progress(done)
    return items


def _mark_running(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportState.RUNNING,
        pid=os.getpid(),
        host=socket.gethostname()[:255],
        heartbeat_at=timezone.now(),
    )


def _finish(batch: ImportBatch, run: ImportRun) -> None:
    """The batch's counts, error report and audit entry, in the import's transaction."""
    summary = run.summary
    batch.state = ImportState.DONE
    batch.finished_at = timezone.now()
    batch.rows_read = summary.rows
    for name, value in summary.counts().items():
        setattr(batch, name, value)
    batch.extra_columns = summary.extra_columns
    if not batch.scope_path:
        batch.scope_path = _county_of(_common_path(run.touched))
    summary.errors.sort(key=lambda error: error.row)
    if summary.errors:
        report_path = error_report_path(batch)
        write_error_report(report_path, summary.errors)
        batch.error_report = str(report_path)
    batch.save()
    audit_record(
        user=run.user,
        actor="" if run.user is not None else command_line_actor(),
        action=AuditAction.IMPORT_FILE,
        subject=f"{batch.kind_label} #{batch.pk} {batch.file_name}"[:120],
        unit_path=batch.scope_path,
    )


def _common_path(paths: set[str]) -> str:
    """The deepest unit path above every path in `paths` ("" when they share none)."""
    if not paths:
        return ""
    split = [path.rstrip("/").split("/") for path in paths]
    common = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    return "".join(f"{part}/" for part in common)


def _county_of(path: str) -> str:
    """The county (or city) part of a unit path: a batch whose rows lie in one county
    belongs to that county's office, never to one grid (its error report names people of
    every row), and its 6-digit GB/T 2260 codes are the county and the city."""
    kept = []
    for code in path.rstrip("/").split("/"):
        if len(code) != 6:
            break
        kept.append(code)
    return "".join(f"{code}/" for code in kept)


def _single_root(user) -> str:
    roots = scope_paths(user)
    return roots[0] if len(roots) == 1 else ""


def error_report_path(batch: ImportBatch) -> Path:
    folder = Path(settings.DATA_DIR) / "import-reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{batch.pk}-errors.xlsx"


def _fail(batch: ImportBatch, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportState.FAILED, finished_at=timezone.now(), message=message
    )


def batches_fail_stale() -> int:
    """Mark failed the batches whose import can no longer finish, with the reason shown.

    A running batch is stale when its process is gone (same host, no such pid) or when it
    has shown no sign of life for EPIDISPATCH_IMPORT_STALE_MINUTES; a queued batch is stale
    after that age too. Run when the task worker starts (the imports its previous life was
    running died with it) and every few minutes. Returns how many were marked.
    """
    limit = timezone.now() - timedelta(minutes=settings.EPIDISPATCH_IMPORT_STALE_MINUTES)
    host = socket.gethostname()[:255]
    stale = []
    for batch in ImportBatch.objects.filter(
        state__in=(ImportState.RUNNING, ImportState.QUEUED)
    ).only("pk", "state", "pid", "host", "heartbeat_at", "started_at"):
        seen = batch.heartbeat_at or batch.started_at
        dead = batch.state == ImportState.RUNNING and batch.host == host and not _alive(batch.pid)
        if dead or seen < limit:
            stale.append(batch.pk)
    if stale:
        ImportBatch.objects.filter(pk__in=stale).update(
            state=ImportState.FAILED,
            finished_at=timezone.now(),
            message=_(
                "The import was interrupted (its process stopped) and stored nothing; "
                "import the file again."
            ),
        )
    return len(stale)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
