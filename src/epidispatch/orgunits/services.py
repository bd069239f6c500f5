"""Writes to the org-unit tree. Every change keeps `path`, `depth` and `county_code` right."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from .models import OrgUnit
from .selectors import unit_by_code


def unit_create(*, code: str, name: str, kind: str, parent_code: str | None = None) -> OrgUnit:
    """Add one unit to the tree after checking its code, kind and place."""
    parent = unit_by_code(parent_code) if parent_code else None
    return unit_add(unit=OrgUnit(code=code.strip(), name=name.strip(), kind=kind, parent=parent))


@transaction.atomic
def unit_add(*, unit: OrgUnit) -> OrgUnit:
    """Validate and save a new, unsaved unit (the admin form builds one itself)."""
    unit.place_under(unit.parent)
    unit.full_clean()
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError:
        # Another writer took the code between full_clean and save.
        raise ValidationError(
            {"code": _("An org unit with this code already exists.")}, code="unique"
        ) from None
    return unit


@transaction.atomic
def unit_update(*, unit: OrgUnit, name: str) -> OrgUnit:
    """Rename a unit; its code and kind never change (a new code is a new unit)."""
    unit.name = name.strip()
    unit.full_clean()
    unit.save(update_fields=["name"])
    return unit


@transaction.atomic
def unit_move(*, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move a unit and its whole subtree under another parent, in one UPDATE.

    Refuses a move under the unit itself or its own sub-units (a cycle), under the wrong
    kind of parent, or under a parent whose code the unit's code does not extend.
    """
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    old_path, old_depth = unit.path, unit.depth
    unit.parent = new_parent
    unit.full_clean()
    unit.place_under(new_parent)
    # The code rules keep a legal move inside its county, so county_code never changes.
    OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(unit.path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (unit.depth - old_depth),
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    return unit
