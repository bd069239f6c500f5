"""Reads of the resident registry, scoped to the acting user. Masked fields only."""

from django.db.models import Count

from epidispatch.core.scoping import scope_q
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
