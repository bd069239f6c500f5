from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from epidispatch.imports.command import ImportCommand
from epidispatch.screening.models import TestingGroup


class Command(ImportCommand):
    kind = "screening_group_members"
    help = (
        "Import the members of a key group tested on a schedule (.xlsx or .csv): "
        "身份证件号码, 姓名, optional 工作单位 and 纳入日期."
    )

    def add_arguments(self, parser):
        parser.add_argument("group", type=int)
        super().add_arguments(parser)

    def handle(self, *args, **options):
        if not TestingGroup.objects.filter(pk=options["group"]).exists():
            raise CommandError(_("No key group %(group)s.") % {"group": options["group"]})
        return super().handle(*args, **options)

    def import_options(self, options: dict) -> dict:
        return {"group": str(options["group"])}
