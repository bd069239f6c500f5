import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_by_code, units_below


class Command(BaseCommand):
    help = "List org units (DESIGN.md §7): code, name, kind and parent code, in tree order."

    def add_arguments(self, parser):
        parser.add_argument("--under", metavar="CODE", help="only the units below this one")
        parser.add_argument("--kind", choices=UnitKind.values, help="only units of this kind")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print a JSON list")

    def handle(self, *args, under: str | None, kind: str | None, as_json: bool, **options):
        units = OrgUnit.objects.select_related("parent").order_by("path")
        if under:
            try:
                root = unit_by_code(under)
            except ValidationError as error:
                raise CommandError(error.messages[0]) from None
            units = units_below(units, root)
        if kind:
            units = units.filter(kind=kind)
        rows = [
            {
                "code": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "parent": unit.parent.code if unit.parent else None,
            }
            for unit in units
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        for row in rows:
            self.stdout.write(f"{row['code']:<16} {row['kind']:<14} {row['name']}")
