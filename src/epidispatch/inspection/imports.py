"""The key-places file (重点场所) in the shared import framework: 名称, 类别, 地址, 网格编码,
责任单位编码, 负责人, 联系电话.

A place is known by its name within its responsible unit: importing the same file again
changes nothing, and a row with a new address or contact updates the place. Units are
named by their org-unit codes; an uploader may only write places of units in their scope.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.accounts.models import Role
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import PlaceCategory
from .services import PlaceFields, place_save

#: A phone as offices write it: digits, with a leading + and separators (- or space).
PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}[0-9]")
GRID_KINDS = (UnitKind.GRID, UnitKind.INDUSTRY_GRID)


def _lookups(run) -> tuple[dict, dict]:
    if "categories" not in run.cache:
        run.cache["categories"] = {c.name: c for c in PlaceCategory.objects.all()}
        run.cache["units"] = {}
    return run.cache["categories"], run.cache["units"]


def _unit(run, units: dict, code: str) -> OrgUnit | None:
    if code not in units:
        units[code] = OrgUnit.objects.filter(code=code).first()
    return units[code]


def place_of(values: dict[str, str], run) -> PlaceFields:
    categories, units = _lookups(run)
    category = categories.get(values["category"])
    if category is None:
        raise RowProblem(
            "category",
            _("Unknown category %(value)s; the categories are: %(known)s.")
            % {"value": values["category"], "known": "、".join(categories)},
        )
    unit = _unit(run, units, values["responsible_unit"])
    if unit is None or not run.may_write(unit.path):
        raise RowProblem(
            "responsible_unit",
            _("No org unit %(code)s within your units.") % {"code": values["responsible_unit"]},
        )
    grid = None
    if values["grid"]:
        grid = _unit(run, units, values["grid"])
        if grid is None or grid.kind not in GRID_KINDS or not run.may_write(grid.path):
            raise RowProblem(
                "grid", _("No grid %(code)s within your units.") % {"code": values["grid"]}
            )
    phone = values["contact_phone"]
    if phone and not PHONE.fullmatch(phone):
        raise RowProblem("contact_phone", _("Not a phone number: %(value)s.") % {"value": phone})
    return PlaceFields(
        name=values["name"],
        category=category,
        responsible_unit=unit,
        address=values["address"],
        grid=grid,
        contact_name=values["contact_name"],
        contact_phone=phone,
    )


def places_write(run, items) -> None:
    seen = set()
    touched = set()
    for _row, fields in items:
        key = (fields.responsible_unit.pk, fields.name)
        if key in seen:
            run.summary.duplicates += 1
            continue
        seen.add(key)
        _place, outcome = place_save(fields=fields)
        if outcome == "stored":
            run.summary.stored += 1
        else:
            run.summary.unchanged += 1
        touched.add(fields.responsible_unit.path)
    run.touch(touched)


KEY_PLACES = register(
    FileKind(
        name="key_places",
        label=gettext_lazy("Key places"),
        description=gettext_lazy(
            "Key places (重点场所) by category, with their responsible unit and contact."
        ),
        columns=(
            Column("name", ("名称", "场所名称"), required=True, max_length=100, example="平襄商厦"),
            Column("category", ("类别", "场所类别"), required=True, max_length=40, example="商场"),
            Column("address", ("地址", "场所地址"), max_length=200, example="平襄镇北关路1号"),
            Column("grid", ("网格编码", "所属网格编码"), max_length=15, example="621121100001001"),
            Column(
                "responsible_unit",
                ("责任单位编码", "责任单位代码"),
                required=True,
                max_length=15,
                example="621121100000",
            ),
            Column("contact_name", ("负责人", "联系人"), max_length=40, example="王经理"),
            Column("contact_phone", ("联系电话", "电话"), max_length=20, example="13912345678"),
        ),
        check_row=place_of,
        write=places_write,
        roles=(Role.DISPATCHER, Role.TOWN_OFFICIAL),
    )
)
