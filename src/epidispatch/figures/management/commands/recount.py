from django.core.management.base import BaseCommand

from epidispatch.figures.rollups import rollups_recount


class Command(BaseCommand):
    help = (
        "Rebuild the live figures (grid × age band) from the residents and doses. They are "
        "kept current by every write; run this after restoring a backup or a manual SQL fix."
    )

    def handle(self, *args, **options):
        leaves = rollups_recount()
        self.stdout.write(f"{leaves} leaves recounted")
