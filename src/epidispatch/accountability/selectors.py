"""Reads of the reward–penalty record, scoped to the user's units like every read."""

from django.http import Http404
from django.utils.translation import gettext as _

from epidispatch.core.scoping import scope_q

from .models import Accountability


def cases_visible_to(user):
    """Every case about a unit inside the user's scope, newest first."""
    return (
        Accountability.objects.filter(scope_q(user, "unit__path"))
        .select_related("unit", "decided_by")
        .order_by("-created_at", "unit__code", "pk")
    )


def case_for_user(user, pk: int) -> Accountability:
    try:
        return cases_visible_to(user).get(pk=pk)
    except Accountability.DoesNotExist:
        raise Http404(_("No such case within your units.")) from None
