from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.operations.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup (epidispatch backup) into the configured database, which must be "
        "empty, and the data folder, including the data key."
    )
    # The data key check would stop a restore into a fresh data folder, which is the point.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="the backup file")

    def handle(self, *args, archive: Path, **options):
        try:
            summary = backup_restore(archive=archive)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Restored the %(engine)s database, the data key and %(files)d files "
                "from %(archive)s."
            )
            % {"engine": summary.engine, "files": summary.files, "archive": summary.archive}
        )
