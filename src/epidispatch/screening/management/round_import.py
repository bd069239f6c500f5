"""The shape `import_samples` and `import_results` share: the framework's import command
with the round in front of the file (DESIGN.md §8: `import_samples ROUND FILE --json`)."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from epidispatch.imports.command import ImportCommand
from epidispatch.screening.models import ScreeningRound


class RoundImportCommand(ImportCommand):
    def add_arguments(self, parser):
        parser.add_argument("round", type=int)
        super().add_arguments(parser)

    def handle(self, *args, **options):
        self.screening_round = ScreeningRound.objects.filter(pk=options["round"]).first()
        if self.screening_round is None:
            raise CommandError(_("No screening round %(round)s.") % {"round": options["round"]})
        return super().handle(*args, **options)

    def import_options(self, options: dict) -> dict:
        return {"round": str(self.screening_round.pk)}
