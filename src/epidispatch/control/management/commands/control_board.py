import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.control.selectors import board_figures
from epidispatch.orgunits.selectors import UnknownUnitCode, unit_by_code


class Command(BaseCommand):
    help = (
        "底清数明: people under the unit in each phase on a day (centralized_isolation, "
        "home_isolation, home_monitoring), whose last phase ends that day (ending_today) "
        "or ended before it (ended)."
    )

    def add_arguments(self, parser):
        parser.add_argument("unit_code")
        parser.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, unit_code: str, as_of: str, as_json: bool, **options):
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise CommandError(_("--as-of takes a date written YYYY-MM-DD.")) from None
        try:
            unit = unit_by_code(unit_code)
        except UnknownUnitCode as error:
            raise CommandError(" ".join(error.messages)) from None
        figures = board_figures(unit, day)
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"{unit.name} ({unit.code}) {day}")
        for key, value in figures.items():
            self.stdout.write(f"  {key:<22} {value}")
