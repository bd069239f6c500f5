from datetime import date

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import a list of key persons pushed by a higher level (协查推送): 姓名, 身份证件号码, "
        "联系电话, 人员类别, 末次暴露或抵达日期, optional 现住网格编码, 现住址 and 来源. "
        "Importing the same list again adds nobody."
    )
    kind = "key_persons"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--registered", help="registration day, YYYY-MM-DD (default today): its policy"
        )

    def import_options(self, options: dict) -> dict:
        if not options.get("registered"):
            return {}
        try:
            return {"registered_on": date.fromisoformat(options["registered"])}
        except ValueError:
            raise CommandError(_("--registered takes a date written YYYY-MM-DD.")) from None
