import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.orgunits.models import OrgUnit
from epidispatch.screening.models import ScreeningRound
from epidispatch.screening.selectors import round_coverage


class Command(BaseCommand):
    help = "A round's coverage (应检尽检) under its unit or another unit."

    def add_arguments(self, parser):
        parser.add_argument("round", type=int)
        parser.add_argument("--unit", help="an org-unit code (default: the round's unit)")
        parser.add_argument("--json", dest="as_json", action="store_true")

    def handle(self, *args, round, unit, as_json, **options):
        screening_round = ScreeningRound.objects.select_related("unit").filter(pk=round).first()
        if screening_round is None:
            raise CommandError(_("No screening round %(round)s.") % {"round": round})
        area = screening_round.unit
        if unit:
            area = OrgUnit.objects.filter(code=unit).first()
            if area is None:
                raise CommandError(_("Unknown org unit code: %(code)s.") % {"code": unit})
        figures = round_coverage(screening_round, area)
        if as_json:
            self.stdout.write(json.dumps(figures, ensure_ascii=False))
            return
        for name, value in figures.items():
            self.stdout.write(f"{name}: {value}")
