import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from epidispatch.fieldwork.services import reminders_queue, reminders_send

BATCH = 500


class Command(BaseCommand):
    help = (
        "Queue reminders of next doses coming due and send every queued reminder through "
        "EPIDISPATCH_REMINDER_BACKEND. Each reminder is sent once, however often this runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue-only", action="store_true", help="queue, do not send")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the counts as JSON"
        )

    def handle(self, *args, queue_only: bool, as_json: bool, **options):
        queued = reminders_queue()
        sent = failed = 0
        if not queue_only:
            while True:
                result = reminders_send(limit=BATCH)
                sent, failed = sent + result.sent, failed + result.failed
                if result.sent + result.failed < BATCH:
                    break
        counts = {"queued": queued, "sent": sent, "failed": failed}
        if as_json:
            self.stdout.write(json.dumps(counts))
        else:
            self.stdout.write(
                _("Reminders: %(queued)d queued, %(sent)d sent, %(failed)d failed.") % counts
            )
