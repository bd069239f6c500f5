import json
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.orgunits.models import OrgUnit
from epidispatch.screening.services import round_create


class Command(BaseCommand):
    help = (
        "Open a screening round over a unit on a day; its target list (everyone registered "
        "under the unit and living there) is frozen now."
    )

    def add_arguments(self, parser):
        parser.add_argument("unit_code")
        parser.add_argument("--name", required=True)
        parser.add_argument("--day", required=True, help="YYYY-MM-DD")
        parser.add_argument("--pool", type=int, default=10, help="tube capacity: 10, 5, 20 or 1")
        parser.add_argument("--json", dest="as_json", action="store_true")

    def handle(self, *args, unit_code, name, day, pool, as_json, **options):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            raise CommandError(
                _("Not a date: %(day)s (write YYYY-MM-DD).") % {"day": day}
            ) from None
        unit = OrgUnit.objects.filter(code=unit_code).first()
        if unit is None:
            raise CommandError(_("Unknown org unit code: %(code)s.") % {"code": unit_code})
        try:
            screening_round = round_create(unit=unit, name=name, day=day, pool_size=pool)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        result = {
            "round": screening_round.pk,
            "unit": unit.code,
            "target": screening_round.target_size,
        }
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(
                _("Round %(round)d over %(unit)s: %(target)d people to sample.") % result
            )
