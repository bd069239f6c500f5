"""Writes to the resident registry."""

from copy import copy
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record, change_record_updated
from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, mask_phone, parse_id_number
from epidispatch.core.live import figures_track
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import Household, HouseholdMember, Resident, ResidentStatus
from .permissions import records_households, unmasks


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
    *,
    resident: Resident,
    status: str,
    unvaccinated_reason: str | None = None,
    by,
    fresh: bool = False,
) -> Resident:
    """Set a resident's status (and, when given, 未接种原因), locking the row first.

    Every change of who is present, excused or refused goes through here, so the live
    figures move with it in the same transaction, and the change trail records it. It is
    on the path of every visit that changes a status (200 grid workers at a county's
    evening peak): the row is locked once (by `figures_track`), read once, updated with one
    statement, and no savepoint is taken (a failure fails the caller's transaction).

    `fresh`: the caller locked the row in its own `figures_track` block of this
    transaction and `resident` was read after that (a visit does): it is not read again.
    """
    if status not in ResidentStatus.values:
        raise ValidationError(_("Unknown status: %(value)s.") % {"value": status})
    with transaction.atomic(savepoint=False), figures_track([resident.pk]):
        before = resident if fresh else Resident.objects.select_related("grid").get(pk=resident.pk)
        after = copy(before)
        changes = {"status": status, "updated_at": timezone.now()}
        if unvaccinated_reason is not None:
            changes["unvaccinated_reason"] = unvaccinated_reason
        for field, value in changes.items():
            setattr(after, field, value)
        _resident_update(resident.pk, changes)
        change_record_updated(before, after, fields=changes.keys())
    return after


def _resident_update(resident_id: int, changes: dict) -> None:
    """`Resident.objects.filter(pk=…).update(**changes)` with the statement built once per
    set of columns (a status change is on every visit that changes one)."""
    names = tuple(changes)
    sql = _UPDATE_SQL.get(names)
    if sql is None:
        columns = ", ".join(
            f"{connection.ops.quote_name(Resident._meta.get_field(name).column)} = %s"
            for name in names
        )
        sql = _UPDATE_SQL[names] = (
            f"UPDATE {connection.ops.quote_name(Resident._meta.db_table)} SET {columns} "
            "WHERE id = %s"
        )
    params = [
        Resident._meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in changes.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, resident_id])


_UPDATE_SQL: dict[tuple[str, ...], str] = {}


# Households (户): who lives with whom, apart from the §7 resident file.

ADDRESS_MAX_LENGTH = 200


def household_address_clean(text: str) -> str:
    """An address as one line: NUL bytes dropped, full-width and repeated spaces folded, so
    that the file and the page name one household the same way."""
    text = text.replace("\x00", "").replace("\u3000", " ")
    return " ".join(text.split())


def _household_require(user, grid: OrgUnit) -> None:
    if user is not None and not records_households(user, grid):
        raise PermissionDenied(_("Only the workers of this grid keep its households."))


def _drop_if_empty(household_ids) -> None:
    Household.objects.filter(pk__in=list(household_ids), members__isnull=True).delete()


@transaction.atomic
def household_member_place(
    *, resident: Resident, address: str, relation: str = "", by
) -> tuple[HouseholdMember, bool]:
    """Put a resident into the household at `address` of their grid (made when new),
    moving them out of the one they were in: a resident lives in one household. Returns
    the membership and whether anything changed; a household left empty is removed.

    An empty `relation` keeps the one stored (a file without the column never wipes what
    a grid worker wrote)."""
    _household_require(by, resident.grid)
    address = household_address_clean(address)
    relation = household_address_clean(relation)
    if not address:
        raise ValidationError(_("Give the household's address."))
    if len(address) > ADDRESS_MAX_LENGTH:
        raise ValidationError(_("An address has at most 200 characters."))
    if len(relation) > 20:
        raise ValidationError(_("A relation has at most 20 characters."))
    household, _created = Household.objects.get_or_create(
        grid=resident.grid, address=address, defaults={"county_code": resident.grid.county_code}
    )
    member = HouseholdMember.objects.select_for_update().filter(resident=resident).first()
    if member is None:
        member = HouseholdMember.objects.create(
            household=household, resident=resident, relation=relation
        )
        return member, True
    relation = relation or member.relation
    if member.household_id == household.pk and member.relation == relation:
        return member, False
    previous = member.household_id
    member.household, member.relation = household, relation
    member.save()
    _drop_if_empty([previous])
    return member, True


@transaction.atomic
def household_member_remove(*, member: HouseholdMember, by) -> None:
    """Take a resident out of their household (moved away, recorded by mistake)."""
    _household_require(by, member.household.grid)
    household_id = member.household_id
    member.delete()
    _drop_if_empty([household_id])
