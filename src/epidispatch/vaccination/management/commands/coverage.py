import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.orgunits.selectors import UnknownUnitCode, unit_by_code
from epidispatch.vaccination.selectors import unit_coverage


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("--as-of takes a date written YYYY-MM-DD.")) from None


class Command(BaseCommand):
    help = (
        "A unit's vaccination figures on a date, counting only doses given on or before it: "
        "residents, adults, first_dose, series_complete, booster, to_clear, overdue_second."
    )

    def add_arguments(self, parser):
        parser.add_argument("unit_code")
        parser.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, unit_code: str, as_of: str, as_json: bool, **options):
        day = _day(as_of)
        try:
            unit = unit_by_code(unit_code)
        except UnknownUnitCode as error:
            raise CommandError(" ".join(error.messages)) from None
        figures = unit_coverage(unit, day)
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"{unit.name} ({unit.code}) {day}")
        for key, value in figures.items():
            self.stdout.write(f"  {key:<16} {value}")
