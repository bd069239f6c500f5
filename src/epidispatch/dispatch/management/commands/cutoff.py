from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from epidispatch.dispatch.services import snapshot_take


class Command(BaseCommand):
    help = (
        "Freeze every unit's figures now (日调度), as the scheduled cutoff does: rankings, "
        "accountability candidates and the numbered bulletin follow. One per day."
    )

    def handle(self, *args, **options):
        try:
            snapshot = snapshot_take()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"{snapshot.day}: {snapshot.figures.count()} figures, bulletin "
            f"{snapshot.bulletin.number}"
        )
