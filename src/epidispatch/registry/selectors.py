"""Reads of the resident registry, scoped to the acting user. Masked fields only."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.core.scoping import path_in_scope, scope_q
from epidispatch.orgunits.models import OrgUnit
from epidispatch.orgunits.selectors import under_unit_q

from .models import Household, HouseholdMember, Resident


def residents_visible_to(user):
    """Residents living in grids inside the user's scope."""
    return Resident.objects.filter(scope_q(user, "grid__path"))


def resident_counts_by_grid(user, unit: OrgUnit) -> list[tuple[str, int]]:
    """(grid path, residents) for every grid under `unit` that the user may see."""
    return list(
        residents_visible_to(user)
        .filter(under_unit_q(unit, "grid__path"))
        .values_list("grid__path")
        .annotate(residents=Count("id"))
        .order_by()
    )


def resident_for_user(user, resident_id: int) -> Resident:
    """One resident in the user's scope, or Http404 (never saying whether it exists)."""
    return get_object_or_404(residents_visible_to(user).select_related("grid"), pk=resident_id)


def resident_ref_for_user(user, resident_id: int) -> Resident:
    """One resident in the user's scope (Http404 outside it) with only their grid and
    county: for a write that reads the row itself under its lock (a visit), where a
    query of every column would be built for nothing on the busiest write path. The row is
    read by its key with SQL built once, and the scope checked on the grid's path in
    Python (`path_in_scope`, the same prefix test as `scope_q`); the other columns are
    deferred, as `only()` would leave them."""
    with connection.cursor() as cursor:
        cursor.execute(_REF_SQL, [resident_id])
        row = cursor.fetchone()
    if row is None or not path_in_scope(user, row[3]):
        raise Http404(f"No {Resident._meta.object_name} matches the given query.")
    resident_pk, grid_id, county_code, path, grid_county = row
    db = connection.alias
    resident = Resident.from_db(
        db,
        ["id", "grid_id", "county_code"],
        _in_field_order(
            Resident,
            {
                "id": resident_pk,
                "grid_id": grid_id,
                "county_code": county_code,
            },
        ),
    )
    resident.grid = OrgUnit.from_db(
        db,
        ["id", "path", "county_code"],
        _in_field_order(
            OrgUnit,
            {
                "id": grid_id,
                "path": path,
                "county_code": grid_county,
            },
        ),
    )
    return resident


def _in_field_order(model, values: dict) -> list:
    return [values[f.attname] for f in model._meta.concrete_fields if f.attname in values]


_REF_SQL = (
    f"SELECT r.id, r.grid_id, r.county_code, g.path, g.county_code "
    f"FROM {Resident._meta.db_table} r JOIN {OrgUnit._meta.db_table} g ON g.id = r.grid_id "
    "WHERE r.id = %s"
)


def resident_find(user, id_number: str) -> Resident | None:
    """The resident in the user's scope with this exact ID number (by its lookup digest)."""
    digest = _lookup_digest(id_number)
    if digest is None:
        return None
    return residents_visible_to(user).select_related("grid").filter(id_number_digest=digest).first()


#: The longest search text read (a name is at most 60 characters).
SEARCH_MAX_LENGTH = 60


def residents_matching(residents, text: str):
    """Those of `residents` whose name contains `text`, or whose ID number or phone is
    exactly `text` (by their lookup digests: neither is stored in clear, so a part of a
    number never matches)."""
    text = text.replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    if not text:
        return residents
    condition = Q(name__contains=text)
    if digest := _lookup_digest(text):
        condition |= Q(id_number_digest=digest)
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) == len(text.replace(" ", "").replace("-", "")):
        condition |= Q(phone_digest=protection.lookup_digest(digits))
    return residents.filter(condition)


def resident_find_for_site(user, site: OrgUnit, id_number: str) -> Resident | None:
    """Site staff vaccinate whoever comes, so at a site they may find any resident of the
    site's county by the exact ID number (never by browsing), to record a dose."""
    digest = _lookup_digest(id_number)
    if digest is None or not path_in_scope(user, site.path):
        return None
    return (
        Resident.objects.select_related("grid")
        .filter(id_number_digest=digest, county_code=site.county_code)
        .first()
    )


def _lookup_digest(id_number: str) -> str | None:
    """The lookup key of a typed ID number, or None when it is not a valid one."""
    try:
        return protection.lookup_digest(parse_id_number(id_number).number)
    except ValidationError:
        return None


def data_key_decrypts_stored_data() -> bool:
    """Whether the configured data key is the one the stored ID numbers were encrypted
    with (true while nothing is stored). A fresh data folder next to a restored database
    holds a newly generated key: this is how that is caught before anyone unmasks."""
    sample = Resident.objects.values_list("id_number_encrypted", flat=True).order_by("pk").first()
    return sample is None or protection.decrypts(sample)


def households_visible_to(user):
    """Households of grids inside the user's scope."""
    return Household.objects.filter(scope_q(user, "grid__path"))


def households_of(user, grid: OrgUnit):
    """The households of a grid with their members (masked), addresses in order; two
    queries whatever the number of households."""
    return (
        households_visible_to(user)
        .filter(grid=grid)
        .prefetch_related(
            Prefetch(
                "members",
                queryset=HouseholdMember.objects.select_related("resident").order_by(
                    "resident__birth_date", "pk"
                ),
            )
        )
        .order_by("address", "pk")
    )


def household_member_for_user(user, pk: int) -> HouseholdMember:
    return get_object_or_404(
        HouseholdMember.objects.filter(scope_q(user, "household__grid__path")).select_related(
            "household__grid", "resident"
        ),
        pk=pk,
    )


def household_mates(user, resident: Resident):
    """The other residents of `resident`'s household that the user may see (none when the
    resident belongs to no household)."""
    return (
        residents_visible_to(user)
        .filter(household__household__members__resident=resident)
        .exclude(pk=resident.pk)
    )


def household_members_of(user, resident: Resident) -> list[HouseholdMember]:
    """The members of `resident`'s household (the resident among them) that the user may
    see, eldest first: one query, none found when the resident belongs to no household."""
    return list(
        HouseholdMember.objects.filter(
            scope_q(user, "resident__grid__path"), household__members__resident=resident
        )
        .select_related("household", "resident")
        .order_by("resident__birth_date", "pk")
    )


def households_under(user, unit: OrgUnit | None = None):
    """The households of grids inside the user's scope (below `unit` when given), each with
    its members the user may see prefetched, eldest first: two queries for a page."""
    households = households_visible_to(user)
    if unit is not None:
        households = households.filter(under_unit_q(unit, "grid__path"))
    return households.select_related("grid").prefetch_related(
        Prefetch(
            "members",
            queryset=HouseholdMember.objects.filter(scope_q(user, "resident__grid__path"))
            .select_related("resident")
            .order_by("resident__birth_date", "pk"),
        )
    )


def household_for_user(user, pk: int) -> Household:
    """One household of a grid inside the user's scope, or Http404."""
    return get_object_or_404(households_under(user), pk=pk)


def household_id_of(resident: Resident) -> int | None:
    """The id of the household the resident (already read through a scoped selector)
    belongs to, or None."""
    return (
        HouseholdMember.objects.filter(resident=resident)
        .values_list("household_id", flat=True)
        .first()
    )
