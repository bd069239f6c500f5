import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.orgunits.selectors import UnknownUnitCode, unit_by_code
from epidispatch.supply.selectors import quality_report


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("%(option)s takes a date written YYYY-MM-DD.") % {"option": option}
        ) from None


class Command(BaseCommand):
    help = (
        "The 国家督察 data-quality rules over the doses given in a period to the residents "
        "under a unit: missing, malformed and overused trace codes, lots not in the ledger."
    )

    def add_arguments(self, parser):
        parser.add_argument("unit_code")
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, unit_code: str, start: str, end: str, as_json: bool, **options):
        first, last = _day("--from", start), _day("--to", end)
        if last < first:
            raise CommandError(_("--to comes before --from."))
        try:
            unit = unit_by_code(unit_code)
        except UnknownUnitCode as error:
            raise CommandError(" ".join(error.messages)) from None
        figures = quality_report(unit, first, last)
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"{unit.name} ({unit.code}) {first} – {last}")
        for key, value in figures.items():
            self.stdout.write(f"  {key:<22} {value}")
