"""The shape `import_samples` and `import_results` share (DESIGN.md §8)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.core.tables import UnreadableFile
from epidispatch.screening.importing import error_report
from epidispatch.screening.models import ScreeningRound


class ScreeningImportCommand(BaseCommand):
    kind: str
    #: (round, path) → ImportSummary
    importer: staticmethod

    def add_arguments(self, parser):
        parser.add_argument("round", type=int)
        parser.add_argument("file")
        parser.add_argument("--json", dest="as_json", action="store_true")

    def handle(self, *args, round, file, as_json, **options):
        screening_round = ScreeningRound.objects.filter(pk=round).first()
        if screening_round is None:
            raise CommandError(_("No screening round %(round)s.") % {"round": round})
        try:
            summary = self.importer(screening_round, file)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        result = {**summary.counts(), "error_report": error_report(self.kind, round, summary)}
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
        if result["error_report"]:
            self.stdout.write(_("Rejected rows: %(path)s") % {"path": result["error_report"]})
