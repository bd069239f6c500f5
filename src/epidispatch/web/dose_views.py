"""Correcting (更正) and deleting (删除) a dose recorded in error, for the staff of the site
that gave it and for dispatchers over the resident.

Adapters only: `vaccination.selectors.dose_for_user` finds the dose within the user's
scope (404 outside it), `vaccination.services.corrects_doses` says who may change it (403
for the others), and `dose_correct` / `dose_delete` write, move the live figures and
the audit trail. Both forms carry the version of the dose they showed: a dose someone
else changed meanwhile is shown again with the change, never overwritten.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from epidispatch.vaccination.permissions import corrects_doses, records_doses_at
from epidispatch.vaccination.selectors import dose_for_user
from epidispatch.vaccination.services import (
    dose_correct,
    dose_delete,
)

from .forms import DoseChangeForm, DoseCorrectForm


def _changeable_dose(request, pk: int):
    dose = dose_for_user(request.user, pk)
    if not corrects_doses(request.user, dose):
        raise PermissionDenied
    return dose


def _back(user, dose):
    """Site staff go back to their site's register of the dose's day; dispatchers to the
    resident's page."""
    if dose.site_id and records_doses_at(user, dose.site):
        return redirect(f"{reverse('unit_detail', args=[dose.site.code])}?day={dose.given_on}")
    return redirect("resident_detail", pk=dose.resident_id)


@login_required
def dose_correct_view(request, pk: int):
    dose = _changeable_dose(request, pk)
    form = DoseCorrectForm(request.POST if request.method == "POST" else None, dose=dose)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            corrected = dose_correct(
                dose=dose,
                given_on=data["given_on"],
                product=data["product"],
                by=request.user,
                reason=data["reason"],
                seen=data["version"],
                lot_number=data["lot_number"],
                trace_code=data["trace_code"],
            )
        except ValidationError as error:
            return _stale_or_form(request, dose, form, error, "web/registry/dose_correct.html")
        messages.success(
            request,
            _("Dose %(number)d of %(resident)s corrected.")
            % {"number": dose.dose_number, "resident": dose.resident.name},
        )
        return _back(request.user, corrected)
    return render(request, "web/registry/dose_correct.html", {"dose": dose, "form": form})


@login_required
def dose_delete_view(request, pk: int):
    """A page that asks for the reason and a confirmation; only its POST deletes."""
    dose = _changeable_dose(request, pk)
    form = DoseChangeForm(
        request.POST if request.method == "POST" else None, initial={"version": dose.version}
    )
    if form.is_bound and form.is_valid():
        try:
            dose_delete(
                dose=dose,
                by=request.user,
                reason=form.cleaned_data["reason"],
                seen=form.cleaned_data["version"],
            )
        except ValidationError as error:
            return _stale_or_form(request, dose, form, error, "web/registry/dose_delete.html")
        messages.success(
            request,
            _("Dose %(number)d of %(resident)s deleted.")
            % {"number": dose.dose_number, "resident": dose.resident.name},
        )
        return _back(request.user, dose)
    return render(request, "web/registry/dose_delete.html", {"dose": dose, "form": form})


def _stale_or_form(request, dose, form, error: ValidationError, template: str):
    """The form again with the refusal; after a concurrent change the page shows the dose
    as stored now and carries its new version (a deleted dose leaves the user a message
    and the way back)."""
    code = getattr(error, "code", None)
    if code == "gone":
        messages.error(request, error.messages[0])
        return _back(request.user, dose)
    if code == "changed":
        dose = dose_for_user(request.user, dose.pk)
        data = request.POST.copy()
        data["version"] = dose.version
        form = type(form)(data, **({"dose": dose} if isinstance(form, DoseCorrectForm) else {}))
        form.is_valid()
    form.add_error(None, error)
    status = 409 if code == "changed" else 200
    return render(request, template, {"dose": dose, "form": form}, status=status)
