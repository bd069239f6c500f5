"""Writes to the resident registry."""

from copy import copy
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record, change_record_updated
from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, mask_phone, parse_id_number
from epidispatch.core.live import figures_track
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import Resident, ResidentStatus
from .permissions import unmasks


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
    with figures_track() as tracked:
        resident.save()
        tracked.add_new([resident.pk])
    return resident


@dataclass(frozen=True)
class Unmasked:
    id_number: str
    phone: str


def resident_unmask(*, user, resident: Resident, ip_address: str | None = None) -> Unmasked:
    """The resident's ID number and phone in clear, written to the audit log first.

    Raises PermissionDenied unless `unmasks` holds (a grid worker of another grid gets
    nothing, and nothing is logged).
    """
    if not unmasks(user, resident):
        raise PermissionDenied(_("You may not see this resident's personal data."))
    audit_record(
        user=user,
        action=AuditAction.UNMASK_RESIDENT,
        subject=str(resident),
        unit_path=resident.grid.path,
        ip_address=ip_address,
    )
    return Unmasked(
        id_number=protection.decrypt(resident.id_number_encrypted),
        phone=protection.decrypt(resident.phone_encrypted) if resident.phone_encrypted else "",
    )


def resident_phone_reveal(*, user, resident: Resident, ip_address: str | None = None) -> str:
    """The resident's phone in clear, for the grid worker who must call them from the
    visit form: the same permission and the same audit entry as every unmasking, for the
    phone alone ("" when none is registered)."""
    if not unmasks(user, resident):
        raise PermissionDenied(_("You may not see this resident's personal data."))
    audit_record(
        user=user,
        action=AuditAction.UNMASK_RESIDENT,
        subject=_("%(resident)s (phone only)") % {"resident": resident},
        unit_path=resident.grid.path,
        ip_address=ip_address,
    )
    return protection.decrypt(resident.phone_encrypted) if resident.phone_encrypted else ""


def resident_status_change(
    *, resident: Resident, status: str, unvaccinated_reason: str | None = None, by
) -> Resident:
    """Set a resident's status (and, when given, 未接种原因), locking the row first.

    Every change of who is present, excused or refused goes through here, so the live
    figures move with it in the same transaction, and the change trail records it. It is
    on the path of every visit that changes a status (200 grid workers at a county's
    evening peak): the row is locked once (by `figures_track`), read once, updated with one
    statement, and no savepoint is taken (a failure fails the caller's transaction).
    """
    if status not in ResidentStatus.values:
        raise ValidationError(_("Unknown status: %(value)s.") % {"value": status})
    with transaction.atomic(savepoint=False), figures_track([resident.pk]):
        before = Resident.objects.select_related("grid").get(pk=resident.pk)
        after = copy(before)
        changes = {"status": status, "updated_at": timezone.now()}
        if unvaccinated_reason is not None:
            changes["unvaccinated_reason"] = unvaccinated_reason
        for field, value in changes.items():
            setattr(after, field, value)
        Resident.objects.filter(pk=resident.pk).update(**changes)
        change_record_updated(before, after)
    return after
