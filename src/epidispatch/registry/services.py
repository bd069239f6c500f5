"""Writes to the resident registry."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, mask_phone, parse_id_number
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import Resident, ResidentStatus


def resident_build(
    *, name: str, id_number: str, phone: str, grid: OrgUnit, status: str = ResidentStatus.PRESENT
) -> Resident:
    """A validated, unsaved Resident with its protected fields filled in."""
    if grid.kind != UnitKind.GRID:
        raise ValidationError(
            _("Residents live in a grid; %(unit)s is a %(kind)s.")
            % {"unit": grid.name, "kind": grid.get_kind_display()}
        )
    card = parse_id_number(id_number)
    phone = phone.strip()
    return Resident(
        name=name.strip(),
        id_number_digest=protection.lookup_digest(card.number),
        id_number_encrypted=protection.encrypt(card.number),
        id_number_masked=mask_id_number(card.number),
        phone_digest=protection.lookup_digest(phone) if phone else "",
        phone_encrypted=protection.encrypt(phone) if phone else "",
        phone_masked=mask_phone(phone) if phone else "",
        birth_date=card.birth_date,
        sex=card.sex,
        grid=grid,
        county_code=grid.county_code,
        status=status,
    )


@transaction.atomic
def resident_create(*, name: str, id_number: str, phone: str = "", grid: OrgUnit) -> Resident:
    resident = resident_build(name=name, id_number=id_number, phone=phone, grid=grid)
    if Resident.objects.filter(id_number_digest=resident.id_number_digest).exists():
        raise ValidationError(
            _("A resident with ID number %(number)s is already registered.")
            % {"number": resident.id_number_masked}
        )
    resident.save()
    return resident
