from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.sites.models import SiteKind
from epidispatch.sites.services import session_create

from ._arguments import acting_user, clock, day, unit


class Command(BaseCommand):
    help = "Open a vaccination site for part of a day, cut into hourly slots."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the dispatcher or site staff acting")
        parser.add_argument("--site", required=True, help="site code, e.g. 621121970001")
        parser.add_argument("--day", required=True, help="YYYY-MM-DD")
        parser.add_argument("--from", dest="opens_at", required=True, help="HH:MM")
        parser.add_argument("--to", dest="closes_at", required=True, help="HH:MM")
        parser.add_argument("--capacity", type=int, required=True, help="people per hour")
        parser.add_argument("--kind", choices=SiteKind.values, default=SiteKind.FIXED)
        parser.add_argument("--place", default="", help="where a mobile team stops")

    def handle(self, *args, **options):
        try:
            session = session_create(
                site=unit(options["site"]),
                kind=options["kind"],
                place=options["place"],
                day=day(options["day"]),
                opens_at=clock(options["opens_at"]),
                closes_at=clock(options["closes_at"]),
                capacity_per_hour=options["capacity"],
                by=acting_user(options["user"]),
            )
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(
            _("Opened %(session)s with %(slots)d slots.")
            % {"session": session, "slots": session.slots.count()}
        )
