"""The command every declared file kind gets (DESIGN.md §7 and §8): `epidispatch
import_<kind> FILE [--user NAME] [--json]`.

A module adds its command with a short file in its `management/commands/`:

    class Command(ImportCommand):
        kind = "residents"
        help = "…"

With `--json` one object on stdout: {"rows", "stored", "unchanged", "duplicates",
"rejected", "error_report"}; without it a progress bar on a terminal and the first
rejected rows. Exit 0 when the file was read (even with rejected rows), 1 when it could
not be read at all. `--user` runs the import as that user, within their scope and
recorded under their name; without it the import is the server administrator's, over
the whole database.
"""

import json
import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from epidispatch.accounts.models import User

from .services import import_batch_create, import_batch_run
from .tables import UnreadableFile


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )
        parser.add_argument(
            "--user", dest="username", help="import as this user, within their units"
        )

    def handle(self, *args, file: str, as_json: bool, username: str | None, **options):
        path = Path(file)
        user = self._user(username)
        given = self.import_options(options)
        try:
            batch = import_batch_create(
                kind=self.kind, path=path, file_name=path.name, user=user, options=given
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        bar = None
        if not as_json and sys.stderr.isatty():
            bar = tqdm(desc=path.name, unit=_("rows"), file=sys.stderr)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total or None
                bar.update(done - bar.n)

        try:
            summary = import_batch_run(batch, path, progress=progress, options=given)
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

    def import_options(self, options: dict) -> dict:
        """What the kind needs beyond the file, from the arguments a subclass adds in
        `add_arguments`: the raw values of its declared options (`kinds.Option`: a
        screening round …), which the batch keeps and the import resolves, and any other
        value the kind reads in `run.options` as given (the key-person list's
        registration day)."""
        return {}

    def _user(self, username: str | None):
        if username is None:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": username})
        return user
