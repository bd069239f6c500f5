"""Running an import and keeping its ledger entry (ImportBatch): who, when, which file
(SHA-256), the counts and the error report. The command line and the web share it."""

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.core.importing import ImportSummary, write_error_report
from epidispatch.core.scoping import scope_paths
from epidispatch.core.tables import UnreadableFile

from .models import ImportBatch, ImportKind, ImportState


def _importer(kind: str):
    if kind == ImportKind.RESIDENTS:
        from .imports import residents_import

        return residents_import
    from epidispatch.vaccination.imports import doses_import

    return doses_import


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Who may import files from the web: the dispatcher and town/department officials keep
#: the register, the supply officer brings the provincial extract.
IMPORT_ROLES = (Role.DISPATCHER, Role.TOWN_OFFICIAL, Role.SUPPLY_OFFICER)


def imports_files(user) -> bool:
    return RoleAssignment.objects.filter(user=user, role__in=IMPORT_ROLES).exists()


def import_batch_create(*, kind: str, path: Path, file_name: str, user=None) -> ImportBatch:
    """The ledger entry, written (and committed) before any row is read. `user` None is
    the command line, run by whoever administers the server."""
    if user is not None and not imports_files(user):
        raise PermissionDenied(_("Only dispatchers, officials and supply officers import files."))
    roots = scope_paths(user) if user is not None else ()
    return ImportBatch.objects.create(
        kind=kind,
        file_name=file_name[:255],
        file_sha256=file_sha256(path) if Path(path).is_file() else "",
        uploaded_by=user,
        scope_path=roots[0] if len(roots) == 1 else "",
    )


def import_batch_run(
    batch: ImportBatch, path: Path, *, progress: Callable[[int, int], None] | None = None
) -> ImportSummary:
    """Run the import of `batch`. Progress is committed as rows are read; the rows and the
    batch's final counts are committed together (`finish` runs inside the importer's
    transaction), so a batch marked done has stored exactly what it says."""
    user = batch.uploaded_by
    ImportBatch.objects.filter(pk=batch.pk).update(state=ImportState.RUNNING)

    def report(done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(rows_read=done)
        if progress:
            progress(done, total)

    def finish(summary: ImportSummary) -> None:
        batch.state = ImportState.DONE
        batch.finished_at = timezone.now()
        batch.rows_read = summary.rows
        for name, value in summary.counts().items():
            setattr(batch, name, value)
        batch.extra_columns = summary.extra_columns
        if summary.errors:
            report_path = error_report_path(batch)
            write_error_report(report_path, summary.errors)
            batch.error_report = str(report_path)
        batch.save()

    try:
        summary = _importer(batch.kind)(
            path,
            batch=batch,
            scope_paths=scope_paths(user) if user is not None else None,
            progress=report,
            finish=finish,
        )
    except UnreadableFile as error:
        _fail(batch, str(error))
        raise
    except BaseException:
        _fail(batch, "")
        raise
    return summary


def error_report_path(batch: ImportBatch) -> Path:
    folder = Path(settings.DATA_DIR) / "import-reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{batch.pk}-errors.xlsx"


def _fail(batch: ImportBatch, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportState.FAILED, finished_at=timezone.now(), message=message
    )
