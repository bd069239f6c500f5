import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from epidispatch.inspection.services import problems_escalate


class Command(BaseCommand):
    help = (
        "Escalate every inspection problem still open past its deadline to the office and "
        "propose a summons of its responsible unit (the huey consumer does it every 5 minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, as_json: bool = False, **options):
        escalated = problems_escalate()
        if as_json:
            self.stdout.write(
                json.dumps({"escalated": len(escalated), "problems": [p.pk for p in escalated]})
            )
        else:
            self.stdout.write(
                _("%(count)d overdue problems escalated.") % {"count": len(escalated)}
            )
