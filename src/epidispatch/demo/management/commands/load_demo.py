from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.control.demo import load_control
from epidispatch.demo import generator
from epidispatch.fieldwork.demo import load_fieldwork
from epidispatch.inspection.demo import load_inspection
from epidispatch.meetings.demo import load_meetings
from epidispatch.sites.demo import load_sites
from epidispatch.supply.demo import load_supply


class Command(BaseCommand):
    help = (
        "Load the demo county (org tree, sites, vaccine products, users for every role and N "
        "synthetic residents with their doses). Safe to run again: nothing is added twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents", type=int, default=2000, help="synthetic residents (default 2000)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even outside the demo (EPIDISPATCH_DEMO unset) or beside non-demo data",
        )

    def handle(self, *args, residents: int, force: bool, **options):
        if residents < 0:
            raise CommandError(_("--residents cannot be negative."))
        if not force:
            self._refuse_outside_the_demo()
        units = generator.load_units()
        users = generator.load_users()
        added = generator.load_residents(residents)
        doses = generator.load_doses()
        generator.load_dispatch()
        load_fieldwork()
        load_inspection()
        load_supply()
        load_control()
        load_meetings()
        load_sites()
        self.stdout.write(
            _(
                "Demo county loaded: %(units)d units, %(residents)d residents "
                "and %(doses)d doses added."
            )
            % {"units": units, "residents": added, "doses": doses}
        )
        self.stdout.write(
            _("Demo logins (password %(password)s for all):")
            % {"password": generator.DEMO_PASSWORD}
        )
        for demo in users:
            self.stdout.write(f"  {demo.username:<16} {demo.full_name}")

    @staticmethod
    def _refuse_outside_the_demo():
        """The demo creates accounts sharing one public password, a superuser among them:
        never in production, never beside a county's real data, unless told --force."""
        if not settings.EPIDISPATCH_DEMO:
            raise CommandError(
                _(
                    "These are production settings (EPIDISPATCH_DEMO is not 1): the demo "
                    "would add accounts with a public password. Use --force to load it anyway."
                )
            )
        found = generator.non_demo_data()
        if found:
            raise CommandError(
                _(
                    "This database holds data that is not the demo's (%(found)s): the demo "
                    "would add accounts with a public password. Use --force to load it anyway."
                )
                % {"found": found}
            )
