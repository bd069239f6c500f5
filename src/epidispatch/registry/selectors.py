"""Reads of the resident registry, scoped to the acting user. Masked fields only."""

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404

from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.core.scoping import path_in_scope, scope_q
from epidispatch.orgunits.models import OrgUnit

from .models import Resident


def residents_visible_to(user):
    """Residents living in grids inside the user's scope."""
    return Resident.objects.filter(scope_q(user, "grid__path"))


def resident_counts_by_grid(user, unit: OrgUnit) -> list[tuple[str, int]]:
    """(grid path, residents) for every grid under `unit` that the user may see."""
    return list(
        residents_visible_to(user)
        .filter(grid__path__startswith=unit.path)
        .values_list("grid__path")
        .annotate(residents=Count("id"))
        .order_by()
    )


def resident_for_user(user, resident_id: int) -> Resident:
    """One resident in the user's scope, or Http404 (never saying whether it exists)."""
    return get_object_or_404(residents_visible_to(user).select_related("grid"), pk=resident_id)


def resident_find(user, id_number: str) -> Resident | None:
    """The resident in the user's scope with this exact ID number (by its lookup digest)."""
    digest = _lookup_digest(id_number)
    if digest is None:
        return None
    return residents_visible_to(user).select_related("grid").filter(id_number_digest=digest).first()


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
