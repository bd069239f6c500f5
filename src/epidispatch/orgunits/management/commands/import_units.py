import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.core.tables import UnreadableFile
from epidispatch.orgunits.imports import units_import


class Command(BaseCommand):
    help = (
        "Import org units from .xlsx or .csv (columns 编码, 名称, 类型, 上级编码). Bad rows are "
        "reported with row, column and reason; importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print a JSON summary"
        )

    def handle(self, *args, file: str, as_json: bool, **options):
        try:
            result = units_import(file)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        for error in result.errors:
            self.stderr.write(
                _("Row %(row)d, column %(column)s: %(reason)s")
                % {"row": error.row, "column": error.column, "reason": error.reason}
            )
        self.stdout.write(
            _(
                "%(rows)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(duplicates)d duplicates, %(rejected)d rejected."
            )
            % result.as_dict()
        )
