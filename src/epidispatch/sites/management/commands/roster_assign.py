from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from epidispatch.sites.models import StaffMember, StaffRole
from epidispatch.sites.services import qualification_record, roster_assign, staff_create

from ._arguments import acting_user, clock, day, unit


class Command(BaseCommand):
    help = (
        "Put a person on a post at a site for part of a day. Registers the person (under "
        "the site) on first use; --qualified-until records their passed training first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the dispatcher or site staff acting")
        parser.add_argument("--site", required=True, help="site code")
        parser.add_argument("--staff", required=True, help="the person's name")
        parser.add_argument("--role", required=True, choices=StaffRole.values)
        parser.add_argument("--day", required=True, help="YYYY-MM-DD")
        parser.add_argument("--from", dest="starts_at", required=True, help="HH:MM")
        parser.add_argument("--to", dest="ends_at", required=True, help="HH:MM")
        parser.add_argument("--qualified-on", dest="passed_on", help="YYYY-MM-DD, training passed")
        parser.add_argument("--qualified-until", dest="expires_on", help="YYYY-MM-DD")

    def handle(self, *args, **options):
        by = acting_user(options["user"])
        site = unit(options["site"])
        on = day(options["day"])
        try:
            with transaction.atomic():
                staff = StaffMember.objects.filter(
                    name=options["staff"][:60], unit__county_code=site.county_code
                ).first()
                if staff is None:
                    staff = staff_create(name=options["staff"], unit=site, by=by)
                if options["expires_on"]:
                    qualification_record(
                        staff=staff,
                        role=options["role"],
                        passed_on=day(options["passed_on"] or options["day"]),
                        expires_on=day(options["expires_on"]),
                        by=by,
                    )
                entry = roster_assign(
                    staff=staff,
                    site=site,
                    role=options["role"],
                    day=on,
                    starts_at=clock(options["starts_at"]),
                    ends_at=clock(options["ends_at"]),
                    by=by,
                )
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(_("Rostered: %(entry)s.") % {"entry": entry})
