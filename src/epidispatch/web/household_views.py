"""The grid worker's household page (户, 同住人员): the households of a grid with their
members, a form to put a registered resident into the household at an address, and a
button to take one out. Above a grid, the page lists the grids to choose from.

Adapters only: reads through `registry.selectors` (scoped), writes through
`registry.services`. A unit or membership outside the user's scope is a 404; a user who
may see the grid but not keep its households gets the list without the forms, and 403 on
a write.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import under_unit_q, unit_for_user, units_visible_to
from epidispatch.registry.permissions import records_households
from epidispatch.registry.selectors import (
    household_member_for_user,
    households_of,
    resident_find,
)
from epidispatch.registry.services import household_member_place, household_member_remove


class HouseholdMemberForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Household address"), max_length=200,
        help_text=gettext_lazy("as the grid writes it, e.g. 3号楼2单元101"),
    )  # fmt: skip
    id_number = forms.CharField(label=gettext_lazy("ID number of the resident"), max_length=30)
    relation = forms.CharField(
        label=gettext_lazy("Relation to the head"), max_length=20, required=False
    )


@login_required
def households(request, code: str):
    unit = unit_for_user(request.user, code)
    if unit.kind != UnitKind.GRID:
        grids = units_visible_to(request.user, kind=UnitKind.GRID).filter(under_unit_q(unit))
        return render(
            request,
            "web/registry/households.html",
            {"unit": unit, "grids": grids.order_by("code")},
        )
    may_edit = records_households(request.user, unit)
    form = HouseholdMemberForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            resident = resident_find(request.user, data["id_number"])
            if resident is None or resident.grid_id != unit.pk:
                form.add_error(
                    "id_number",
                    _("No registered resident of this grid has this ID number."),
                )
            else:
                try:
                    member, changed = household_member_place(
                        resident=resident, address=data["address"],
                        relation=data["relation"], by=request.user,
                    )  # fmt: skip
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    if changed:
                        messages.success(
                            request,
                            _("%(name)s is a member of the household at %(address)s.")
                            % {"name": resident.name, "address": member.household.address},
                        )
                    else:
                        messages.info(request, _("Nothing changed."))
                    return redirect("households", code=unit.code)
    return render(
        request,
        "web/registry/households.html",
        {
            "unit": unit,
            "households": households_of(request.user, unit),
            "form": form,
            "may_edit": may_edit,
        },
    )


@login_required
@require_POST
def household_member_delete(request, pk: int):
    member = household_member_for_user(request.user, pk)
    grid = member.household.grid
    household_member_remove(member=member, by=request.user)
    messages.success(
        request,
        _("%(name)s is no longer a member of the household at %(address)s.")
        % {"name": member.resident.name, "address": member.household.address},
    )
    return redirect("households", code=grid.code)
