"""Pages of the reward–penalty record: every case whatever its cause, the office's
decision and the unit's pledge (表态发言), and a case the office opens itself (a 通报表扬).

Adapters only; a case outside the user's scope is a 404, a decision by anyone but the
office a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import paths_q, role_paths
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .forms import CaseForm, DecisionForm, PledgeForm
from .models import CaseState, Cause
from .permissions import decides_on
from .selectors import case_for_user, cases_visible_to
from .services import accountability_decide, accountability_open, accountability_record_pledge

PAGE_SIZE = 50
#: The kinds of unit a case is about (those that are summoned, criticised or commended).
CASE_UNIT_KINDS = (UnitKind.TOWN, UnitKind.DEPARTMENT, UnitKind.VILLAGE, UnitKind.SITE)


def _office_units(user):
    return OrgUnit.objects.filter(
        paths_q(role_paths(user, (Role.DISPATCHER,))), kind__in=CASE_UNIT_KINDS
    ).order_by("code")


@login_required
def cases(request):
    cause = request.GET.get("cause", "")
    found = cases_visible_to(request.user)
    if cause in Cause.values:
        found = found.filter(cause=cause)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accountability/cases.html",
        {
            "page": page,
            "causes": Cause.choices,
            "cause": cause,
            "can_open": _office_units(request.user).exists(),
        },
    )


@login_required
def case(request, pk: int):
    found = case_for_user(request.user, pk)
    office = decides_on(request.user, found.unit)
    return render(
        request,
        "accountability/case.html",
        {
            "case": found,
            "events": list(found.events.select_related("by")),
            "decision_form": DecisionForm(initial={"kind": found.kind, "persons": found.persons})
            if office and found.state == CaseState.PROPOSED
            else None,
            "pledge_form": PledgeForm() if office and found.state == CaseState.DECIDED else None,
        },
    )


def _errors(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@login_required
@require_POST
def decide(request, pk: int):
    found = case_for_user(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to confirm or dismiss."))
        return redirect("accountability:case", pk=found.pk)
    try:
        accountability_decide(
            case=found,
            confirm=form.cleaned_data["decision"] == "confirm",
            kind=form.cleaned_data["kind"],
            persons=form.cleaned_data["persons"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ValidationError as error:
        _errors(request, error)
    return redirect("accountability:case", pk=found.pk)


@login_required
@require_POST
def pledge(request, pk: int):
    found = case_for_user(request.user, pk)
    form = PledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write down what the unit pledged."))
        return redirect("accountability:case", pk=found.pk)
    try:
        accountability_record_pledge(
            case=found,
            pledge=form.cleaned_data["pledge"],
            deadline=form.cleaned_data["deadline"],
            by=request.user,
        )
    except ValidationError as error:
        _errors(request, error)
    return redirect("accountability:case", pk=found.pk)


@login_required
def case_new(request):
    """The office records a case of its own: a 通报表扬, or a 问责 with no record behind it."""
    units = _office_units(request.user)
    if not units.exists():
        raise PermissionDenied(_("Only the office decides on accountability."))
    form = CaseForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            created = accountability_open(
                unit=form.cleaned_data["unit"],
                kind=form.cleaned_data["kind"],
                summary=form.cleaned_data["summary"],
                decision=form.cleaned_data["decision"],
                persons=form.cleaned_data["persons"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("accountability:case", pk=created.pk)
    return render(request, "accountability/case_new.html", {"form": form})
