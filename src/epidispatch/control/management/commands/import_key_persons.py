import json
import uuid
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.control.imports import key_persons_import
from epidispatch.core.importing import write_error_report
from epidispatch.core.tables import UnreadableFile


class Command(BaseCommand):
    help = (
        "Import a list of key persons pushed by a higher level (协查推送): 姓名, 身份证件号码, "
        "联系电话, 人员类别, 末次暴露或抵达日期, optional 现住网格编码, 现住址 and 来源."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--registered", help="registration day, YYYY-MM-DD (default today): its policy"
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, file: str, registered: str | None, as_json: bool, **options):
        try:
            day = date.fromisoformat(registered) if registered else timezone.localdate()
        except ValueError:
            raise CommandError(_("--registered takes a date written YYYY-MM-DD.")) from None
        try:
            summary = key_persons_import(Path(file), registered_on=day)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        report = None
        if summary.errors:
            folder = Path(settings.DATA_DIR) / "import-reports"
            folder.mkdir(parents=True, exist_ok=True)
            report = folder / f"key-persons-{uuid.uuid4().hex[:12]}-errors.xlsx"
            write_error_report(report, summary.errors)
        result = {**summary.counts(), "error_report": str(report) if report else None}
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for error in sorted(summary.errors, key=lambda e: e.row)[:20]:
            self.stderr.write(
                _("Row %(row)d, column %(column)s: %(reason)s")
                % {"row": error.row, "column": error.column, "reason": error.reason}
            )
        self.stdout.write(
            _(
                "%(rows)d rows: %(stored)d stored, %(unchanged)d unchanged, "
                "%(duplicates)d duplicates, %(rejected)d rejected."
            )
            % result
        )
