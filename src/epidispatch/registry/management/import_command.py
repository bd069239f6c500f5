"""The shape `import_residents` and `import_doses` share (DESIGN.md §7)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from epidispatch.core.tables import UnreadableFile
from epidispatch.registry.ledger import import_batch_create, import_batch_run


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, file: str, as_json: bool, **options):
        path = Path(file)
        batch = import_batch_create(kind=self.kind, path=path, file_name=path.name)
        bar = None
        if not as_json and sys.stderr.isatty():
            bar = tqdm(desc=path.name, unit=_("rows"), file=sys.stderr)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total or None
                bar.update(done - bar.n)

        try:
            summary = import_batch_run(batch, path, progress=progress)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        finally:
            if bar is not None:
                bar.close()
        batch.refresh_from_db()
        result = {**summary.counts(), "error_report": batch.error_report or None}
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for error in sorted(summary.errors, key=lambda e: e.row)[:20]:
            self.stderr.write(
                _("Row %(row)d, column %(column)s: %(reason)s")
                % {"row": error.row, "column": error.column, "reason": error.reason}
            )
        self.stdout.write(
            _(
                "%(rows)d rows: %(stored)d stored, %(unchanged)d unchanged, "
                "%(duplicates)d duplicates, %(rejected)d rejected."
            )
            % result
        )
        if batch.error_report:
            self.stdout.write(_("Rejected rows: %(path)s") % {"path": batch.error_report})
