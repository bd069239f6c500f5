"""Field-work pages, phone first: the grid worker's round (checkpoint tasks, 60+
follow-ups, the 清零 list, next doses due), the visit form, the checkpoint form.

Adapters only: reads through the scoped selectors, writes through services. A resident,
unit or visit outside the user's scope is a 404, as everywhere; a user who may see a
resident but not record visits (a leader) gets 403.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from epidispatch.core.files import stored_file_response
from epidispatch.orgunits.selectors import unit_for_user, unit_place
from epidispatch.registry.permissions import unmasks
from epidispatch.registry.selectors import resident_for_user
from epidispatch.registry.services import resident_phone_reveal

from . import conf
from .forms import CheckpointForm, FollowUpForm, VisitForm
from .models import PROOF_OUTCOMES, REASON_OUTCOMES, CheckpointState
from .permissions import (
    checkpoint_units,
    records_visits_for,
    records_visits_under,
    registers_checkpoints,
)
from .selectors import (
    checkpoint_records_visible_to,
    checkpoint_tasks,
    field_grids_by_village,
    follow_up_for_user,
    follow_ups_open,
    latest_visit_id,
    to_visit_clearance,
    to_visit_due,
    visit_for_user,
    visits_of,
)
from .services import checkpoint_record_create, follow_up_complete, visit_record

PAGE_SIZE = 50


def _page(request, queryset, param: str = "page"):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))


def draft_key(user, resident_pk: int) -> str:
    """The localStorage key of a worker's unsent visit form (per user: phones are shared)."""
    return f"epidispatch:visit:{user.pk}:{resident_pk}"


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def home(request):
    """Straight to the worker's grid when there is one; otherwise the grids to pick from,
    grouped by village with how many people each still has to clear."""
    villages = field_grids_by_village(request.user)
    if len(villages) == 1 and len(villages[0][1]) == 1:
        return redirect("fieldwork:grid", code=villages[0][1][0][0].code)
    return render(
        request,
        "fieldwork/home.html",
        {
            "villages": [
                (village, grids, sum(count for _grid, count in grids))
                for village, grids in villages
            ]
        },
    )


@login_required
def grid(request, code: str):
    """The round of a grid (or any unit in scope): what to do first is listed first."""
    unit = unit_for_user(request.user, code)
    saved = request.GET.get("saved", "")
    return render(
        request,
        "fieldwork/grid.html",
        {
            "unit": unit,
            "tasks": list(checkpoint_tasks(request.user, unit)[:PAGE_SIZE]),
            "follow_ups": list(follow_ups_open(request.user, unit)[:PAGE_SIZE]),
            "clearance": _page(request, to_visit_clearance(request.user, unit)),
            "due": _page(request, to_visit_due(request.user, unit), "due_page"),
            "today": timezone.localdate(),
            "saved_draft": draft_key(request.user, int(saved)) if saved.isdigit() else "",
            "records_visits": records_visits_under(request.user, unit),
        },
    )


@login_required
def visit_new(request, pk: int):
    """The 见人·见面·见码 visit form of one resident."""
    resident = resident_for_user(request.user, pk)
    if not records_visits_for(request.user, resident.grid):
        raise PermissionDenied
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = visit_record(
                    resident=resident,
                    outcome=data["outcome"],
                    by=request.user,
                    reason=data["reason"],
                    note=data["note"],
                    proof=data["proof"],
                    seen_visit_id=data["seen_visit"],
                    submission_id=data["submission_id"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                _tell(request, result, resident)
                url = reverse("fieldwork:grid", args=[resident.grid.code])
                return redirect(f"{url}?saved={resident.pk}#resident-{resident.pk}")
    else:
        form = VisitForm(
            initial={
                "seen_visit": latest_visit_id(request.user, resident),
                "submission_id": uuid.uuid4(),
            }
        )
    return _visit_page(request, resident, form)


def _visit_page(request, resident, form, phone: str | None = None):
    return render(
        request,
        "fieldwork/visit_form.html",
        {
            "resident": resident,
            "place": unit_place(resident.grid),
            "form": form,
            "phone": phone,
            "may_unmask": unmasks(request.user, resident),
            "visits": list(visits_of(request.user, resident)[:10]),
            "draft_key": draft_key(request.user, resident.pk),
            "proof_outcomes": " ".join(PROOF_OUTCOMES),
            "reason_outcomes": " ".join(REASON_OUTCOMES),
            "proof_max_mb": f"{conf.proof_max_bytes() / 1024 / 1024:g}",
        },
    )


@login_required
@require_POST
@never_cache
def phone(request, pk: int):
    """One tap on the visit form: the resident's phone in clear with a `tel:` link, so
    the worker can make the call the form asks about; audited like every unmasking. The
    number is in this response only (just the number's block when htmx asks)."""
    resident = resident_for_user(request.user, pk)
    if not records_visits_for(request.user, resident.grid):
        raise PermissionDenied
    number = resident_phone_reveal(
        user=request.user, resident=resident, ip_address=request.META.get("REMOTE_ADDR")
    )
    if request.headers.get("HX-Request"):
        return render(request, "fieldwork/_phone.html", {"phone": number})
    form = VisitForm(
        initial={
            "seen_visit": latest_visit_id(request.user, resident),
            "submission_id": uuid.uuid4(),
        }
    )
    return _visit_page(request, resident, form, phone=number)


def _tell(request, result, resident) -> None:
    if result.duplicate:
        messages.info(request, _("This visit had been saved already; nothing was added."))
        return
    visit = result.visit
    messages.success(
        request,
        _("Visit saved: %(resident)s — %(outcome)s.")
        % {"resident": resident.name, "outcome": visit.get_outcome_display()},
    )
    if result.conflict is not None:
        other = result.conflict
        messages.warning(
            request,
            _(
                "While you were filling in the form, %(worker)s saved a visit of %(resident)s "
                "(%(outcome)s, %(time)s). Your visit was saved too and is now the latest: "
                "check that it is right."
            )
            % {
                "worker": other.worker,
                "resident": resident.name,
                "outcome": other.get_outcome_display(),
                "time": timezone.localtime(other.visited_at).strftime("%H:%M"),
            },
        )


@login_required
@never_cache
def proof(request, pk: int):
    """A visit's proof file, only to users who may see the visit; never a static URL."""
    visit = visit_for_user(request.user, pk)
    if not visit.proof:
        raise Http404
    response = stored_file_response(
        visit.proof,
        visit.proof_content_type,
        filename=f"proof-{visit.pk}.{visit.proof.name.rsplit('.', 1)[-1]}",
        as_attachment=visit.proof_content_type == "application/pdf",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def checkpoint(request):
    """二码联查: register a person seen unvaccinated; the records of the user's units."""
    if not registers_checkpoints(request.user):
        raise PermissionDenied
    units = checkpoint_units(request.user)
    form = CheckpointForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = checkpoint_record_create(
                unit=data["unit"],
                place=data["place"],
                seen_at=data["seen_at"],
                id_number=data["id_number"],
                phone=data["phone"],
                name=data["name"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if record.state == CheckpointState.OPEN:
                messages.success(
                    request,
                    _(
                        "Recorded. The person is a registered resident: "
                        "their grid worker has the task."
                    ),
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Recorded. No resident of this county has this ID number or phone: "
                        "the record goes to the county office (防控办)."
                    ),
                )
            return redirect("fieldwork:checkpoint")
    return render(
        request,
        "fieldwork/checkpoint.html",
        {"form": form, "page": _page(request, checkpoint_records_visible_to(request.user))},
    )


@login_required
def follow_up(request, pk: int):
    """Record how a 60+ vaccinee is after the 3 observation days."""
    item = follow_up_for_user(request.user, pk)
    if not records_visits_for(request.user, item.grid):
        raise PermissionDenied
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            follow_up_complete(
                follow_up=item,
                outcome=data["outcome"],
                note=data["note"],
                severity=data["severity"],
                description=data["description"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("Follow-up of %(name)s saved.") % {"name": item.resident.name}
            )
            return redirect("fieldwork:grid", code=item.grid.code)
    return render(request, "fieldwork/follow_up.html", {"item": item, "form": form})
