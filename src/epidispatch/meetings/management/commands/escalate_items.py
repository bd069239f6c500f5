import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from epidispatch.meetings.services import items_escalate


class Command(BaseCommand):
    help = (
        "Make every action item still open past its deadline an accountability cause of its "
        "owner, once (the huey consumer does it every 5 minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, as_json: bool = False, **options):
        escalated = items_escalate()
        if as_json:
            self.stdout.write(
                json.dumps({"escalated": len(escalated), "items": [item.pk for item in escalated]})
            )
        else:
            self.stdout.write(
                _("%(count)d overdue action items escalated.") % {"count": len(escalated)}
            )
