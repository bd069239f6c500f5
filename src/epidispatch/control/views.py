"""Key-population control pages: the grid worker's phone list of people under measures
(check-in, test, release, transfer), the 底清数明 board and its `.xlsx`, first response.

Adapters only: reads through the scoped selectors, writes through services. A unit, case
or positive outside the user's scope is a 404; a user who may see it but not act gets 403.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import scope_roots, unit_for_user, units_visible_to

from .exports import board_xlsx
from .forms import (
    CONFIRM_CHOICES,
    AreaEditForm,
    AreaForm,
    CheckInForm,
    ExtendForm,
    KeyPersonForm,
    LiftForm,
    PositiveForm,
    TestForm,
    TransferForm,
)
from .models import AreaLevel, ReadinessItem, ResponseStep
from .selectors import (
    area_for_user,
    area_summary,
    candidates_of,
    case_for_user,
    control_board,
    emergency_plan_above,
    grid_named,
    persons_under_measures,
    positive_for_user,
    positives_visible_to,
)
from .services import (
    MANAGE_ROLES,
    area_create,
    area_levels,
    area_lift,
    area_update,
    case_extend,
    case_register,
    case_release,
    case_test_record,
    case_transfer,
    contacts_confirm,
    health_check_record,
    key_person_resolve,
    plan_item_check,
    positive_record,
    response_step_done,
)


def _day(request) -> date:
    """`?as_of=YYYY-MM-DD`, today when absent or not a date."""
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return timezone.localdate()


def _say(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@login_required
def home(request):
    """A grid worker goes straight to their grid's list; others to the board of the top of
    their scope."""
    grids = units_visible_to(request.user).filter(kind=UnitKind.GRID)
    roots = scope_roots(request.user)
    if not roots:
        raise PermissionDenied
    if all(root.kind == UnitKind.GRID for root in roots) and grids.count() == 1:
        return redirect("control:today", code=grids.get().code)
    return redirect("control:board", code=roots[0].code)


@login_required
def board(request, code: str):
    unit = unit_for_user(request.user, code)
    day = _day(request)
    return render(
        request,
        "control/board.html",
        {
            "board": control_board(request.user, unit, day),
            "unit": unit,
            "positives": positives_visible_to(request.user)
            .filter(grid__path__startswith=unit.path)
            .select_related("person")
            .order_by("-found_on", "-id")[:20],
        },
    )


@login_required
def board_export(request, code: str):
    unit = unit_for_user(request.user, code)
    day = _day(request)
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="control-board-{unit.code}-{day}.xlsx"'
    board_xlsx(response, control_board(request.user, unit, day))
    return response


@login_required
def today(request, code: str):
    """The grid worker's phone list: people under measures today and what is due."""
    unit = unit_for_user(request.user, code)
    day = timezone.localdate()
    rows = persons_under_measures(request.user, unit, day)
    return render(
        request,
        "control/today.html",
        {
            "unit": unit,
            "day": day,
            "rows": rows,
            "checked_in": sum(row.checked_in for row in rows),
            "tests_due": sum(row.test_due and not row.tested for row in rows),
            "check_in_form": CheckInForm(),
            "test_form": TestForm(),
            "transfer_form": TransferForm(),
            "decides": holds_role_over(request.user, MANAGE_ROLES, unit.path),
        },
    )


def _back(case) -> str:
    return reverse("control:today", args=[case.grid.code]) + f"#case-{case.pk}"


@login_required
@require_POST
def check_in(request, pk: int):
    case = case_for_user(request.user, pk)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the temperature, e.g. 36.5."))
        return redirect(_back(case))
    try:
        health_check_record(
            case=case, day=timezone.localdate(), temperature=form.cleaned_data["temperature"],
            symptoms=form.cleaned_data["symptoms"], by=request.user,
        )  # fmt: skip
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, _("Check-in of %(name)s saved.") % {"name": case.person.name})
    return redirect(_back(case))


@login_required
@require_POST
def test(request, pk: int):
    case = case_for_user(request.user, pk)
    form = TestForm(request.POST)
    if form.is_valid():
        try:
            case_test_record(
                case=case, day=timezone.localdate(), result=form.cleaned_data["result"],
                by=request.user, source=_("entered by hand"),
            )  # fmt: skip
        except ValidationError as error:
            _say(request, error)
        else:
            messages.success(request, _("Test of %(name)s saved.") % {"name": case.person.name})
    return redirect(_back(case))


@login_required
@require_POST
def release(request, pk: int):
    case = case_for_user(request.user, pk)
    try:
        case_release(case=case, on=timezone.localdate(), by=request.user)
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, _("%(name)s is released.") % {"name": case.person.name})
    return redirect(_back(case))


@login_required
@require_POST
def transfer(request, pk: int):
    case = case_for_user(request.user, pk)
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the isolation place."))
        return redirect(_back(case))
    try:
        case_transfer(
            case=case, on=timezone.localdate(), place=form.cleaned_data["place"], by=request.user
        )
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is transferred to %(place)s.")
            % {"name": case.person.name, "place": case.isolation_place},
        )
    return redirect(_back(case))


@login_required
@require_POST
def extend(request, pk: int):
    """A stricter measure than the version gives, as a recorded local decision."""
    case = case_for_user(request.user, pk)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A stricter measure needs the decision and 1 to 14 days."))
        return redirect(_back(case))
    try:
        case_extend(
            case=case, days=form.cleaned_data["days"], decision=form.cleaned_data["decision"],
            decided_on=timezone.localdate(), by=request.user,
        )  # fmt: skip
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is under measures until %(day)s.")
            % {"name": case.person.name, "day": case.ends_on.isoformat()},
        )
    return redirect(_back(case))


@login_required
def key_person_new(request):
    """Register one person under measures (a self-report, a checkpoint, tracing)."""
    form = KeyPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grid = grid_named(request.user, data["grid"])
            person = key_person_resolve(
                name=data["name"], id_number=data["id_number"], phone=data["phone"],
                grid=grid, address=data["address"],
            )  # fmt: skip
            registration = case_register(
                person=person, category=data["category"],
                reference_date=data["reference_date"], registered_on=timezone.localdate(),
                source=data["source"], by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            case = registration.case
            if registration.created:
                messages.success(
                    request,
                    _("%(name)s is under measures until %(day)s.")
                    % {"name": person.name, "day": case.ends_on.isoformat()},
                )
            else:
                messages.info(request, _("This case was registered already."))
            return redirect("control:today", code=case.grid.code)
    return render(request, "control/key_person_new.html", {"form": form})


@login_required
def positive_new(request):
    """Record a positive person and their trajectory: the first step of the response."""
    form = PositiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grid = grid_named(request.user, data["grid"])
            person = key_person_resolve(
                name=data["name"], id_number=data["id_number"], grid=grid,
                address=data["address"],
            )  # fmt: skip
            positive = positive_record(
                person=person, found_on=data["found_on"], trajectory=data["trajectory"],
                by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("control:positive", pk=positive.pk)
    return render(request, "control/positive_new.html", {"form": form})


@login_required
def positive(request, pk: int):
    """A positive case: its trajectory, the first-hour checklist, the candidates to confirm."""
    item = positive_for_user(request.user, pk)
    candidates = list(candidates_of(request.user, item))
    if request.method == "POST":
        choices = {
            candidate.pk: request.POST.get(f"category-{candidate.pk}", "")
            for candidate in candidates
        }
        try:
            cases = contacts_confirm(
                positive=item,
                choices={pk: category for pk, category in choices.items() if category},
                on=timezone.localdate(),
                by=request.user,
            )
        except ValidationError as error:
            _say(request, error)
        else:
            messages.success(
                request, _("%(count)d contacts are under measures.") % {"count": len(cases)}
            )
        return redirect("control:positive", pk=item.pk)
    done = {check.step: check for check in item.steps.select_related("done_by")}
    plan_unit, plan = emergency_plan_above(request.user, item.grid)
    return render(
        request,
        "control/positive.html",
        {
            "item": item,
            "candidates": candidates,
            "trajectory": list(item.trajectory.all()),
            "steps": [(step, done.get(step.value)) for step in ResponseStep],
            "choices": CONFIRM_CHOICES,
            "plan_unit": plan_unit,
            "plan": plan,
        },
    )


@login_required
@require_POST
def positive_step(request, pk: int, step: str):
    item = positive_for_user(request.user, pk)
    try:
        response_step_done(positive=item, step=step, by=request.user)
    except ValidationError as error:
        _say(request, error)
    return redirect("control:positive", pk=item.pk)


@login_required
@require_POST
def plan_check(request, code: str):
    """Record one 五个到位 item of the unit's emergency plan as checked today."""
    unit = unit_for_user(request.user, code)
    item = request.POST.get("item", "")
    if item not in ReadinessItem.values:
        messages.error(request, _("Unknown plan item."))
    else:
        plan_item_check(
            unit=unit, item=item, ready=request.POST.get("ready") == "1",
            note=request.POST.get("note", "")[:200], on=timezone.localdate(), by=request.user,
        )  # fmt: skip
        messages.success(request, _("Plan item checked."))
    return redirect("control:board", code=unit.code)


# Control areas (管控区)


@login_required
def areas(request, code: str):
    """The control areas of a unit on a day, in force first, with their counts."""
    unit = unit_for_user(request.user, code)
    day = _day(request)
    return render(
        request,
        "control/areas.html",
        {
            "unit": unit,
            "summary": area_summary(request.user, unit, day, lifted=True),
            "decides": holds_role_over(request.user, MANAGE_ROLES, unit.path),
            "day": day,
        },
    )


@login_required
def area_new(request, code: str):
    unit = unit_for_user(request.user, code)
    if not holds_role_over(request.user, MANAGE_ROLES, unit.path):
        raise PermissionDenied
    form = AreaForm(request.POST or None, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            area = area_create(
                unit=unit, name=data["name"], level=data["level"],
                started_on=data["started_on"], last_case_on=data["last_case_on"],
                addresses=data["addresses"], by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s is drawn.") % {"name": area.name})
            return redirect("control:areas", code=unit.code)
    return render(request, "control/area_form.html", {"unit": unit, "form": form})


@login_required
def area_edit(request, pk: int):
    """One area: its figures, and for the control group the form to change it after a
    new case and the button to lift it."""
    area = area_for_user(request.user, pk)
    decides = holds_role_over(request.user, MANAGE_ROLES, area.unit.path)
    form = AreaEditForm(
        request.POST or None,
        initial={
            "name": area.name, "level": area.level, "last_case_on": area.last_case_on,
            "addresses": area.addresses,
        },
    )  # fmt: skip
    form.fields["level"].choices = [
        (level, AreaLevel(level).label) for level in area_levels(area.policy)
    ]
    if request.method == "POST":
        if not decides:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                area_update(
                    area=area, name=data["name"], level=data["level"],
                    last_case_on=data["last_case_on"], addresses=data["addresses"],
                    by=request.user,
                )  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": data["name"]})
                return redirect("control:areas", code=area.unit.code)
    return render(
        request,
        "control/area_form.html",
        {
            "unit": area.unit,
            "area": area,
            "form": form,
            "lift_form": LiftForm(initial={"on": timezone.localdate()}),
            "decides": decides,
        },
    )


@login_required
@require_POST
def area_lift_view(request, pk: int):
    area = area_for_user(request.user, pk)
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the day the area is lifted."))
        return redirect("control:area", pk=area.pk)
    try:
        area_lift(area=area, on=form.cleaned_data["on"], by=request.user)
    except ValidationError as error:
        _say(request, error)
        return redirect("control:area", pk=area.pk)
    messages.success(request, _("%(name)s is lifted.") % {"name": area.name})
    return redirect("control:areas", code=area.unit.code)
