"""`epidispatch export_fhir UNIT_CODE --as-of YYYY-MM-DD [--user NAME [--unmask]]` (§8)."""

import json
from datetime import date

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.utils.translation import gettext as _

from epidispatch.accounts.models import User
from epidispatch.interop.services import unit_bundle
from epidispatch.orgunits.models import OrgUnit
from epidispatch.orgunits.selectors import unit_for_user


class Command(BaseCommand):
    help = "Print a unit's residents and their doses as a FHIR R4 Bundle (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("unit_code")
        parser.add_argument("--as-of", dest="as_of", required=True, type=_day)
        parser.add_argument(
            "--user", dest="username", help="export as this user, within their units"
        )
        parser.add_argument(
            "--unmask", action="store_true", help="ID numbers in clear (audited; needs --user)"
        )

    def handle(self, *args, unit_code, as_of, username, unmask, **options):
        if unmask and username is None:
            raise CommandError(_("--unmask needs --user: the audit log names who unmasked."))
        user = None
        if username is not None:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("No active user %(name)s.") % {"name": username})
        try:
            unit = (
                OrgUnit.objects.get(code=unit_code)
                if user is None
                else unit_for_user(user, unit_code)
            )
            bundle = unit_bundle(user, unit, as_of, unmask=unmask)
        except (OrgUnit.DoesNotExist, Http404):
            raise CommandError(_("No org unit %(code)s.") % {"code": unit_code}) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(bundle, ensure_ascii=False, cls=DjangoJSONEncoder))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Not a date: %(text)s (write YYYY-MM-DD).") % {"text": text}) from None
