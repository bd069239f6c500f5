import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.operations.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database, the data key and the data folder's files into one .tar.gz "
        "(it holds the data key: keep it as safe as the database)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", type=Path, help="the new backup file, e.g. epi-2021-08-06.tar.gz"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, archive: Path, json: bool = False, **options):
        try:
            summary = backup_create(archive=archive)
        except BackupError as error:
            raise CommandError(str(error)) from None
        report = {"archive": str(summary.archive), "engine": summary.engine, "files": summary.files}
        if json:
            self.stdout.write(_json_dumps(report))
        else:
            self.stdout.write(
                _(
                    "Backed up the %(engine)s database, the data key and %(files)d files "
                    "to %(archive)s."
                )
                % report
            )


def _json_dumps(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False)
