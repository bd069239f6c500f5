"""Certificate pages: a resident's certificate and its print, the checkpoint check (phone
first, offline once loaded) and the public key document.

Adapters only. A resident or certificate outside the user's scope is a 404, as
everywhere; the checkpoint record goes through field work's service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from epidispatch.core import protection
from epidispatch.fieldwork.permissions import checkpoint_units
from epidispatch.fieldwork.services import checkpoint_record_create
from epidispatch.registry.selectors import resident_for_user

from .forms import CheckpointRecordForm, ProofReviewForm
from .models import Certificate
from .selectors import (
    certificate_for_user,
    certificate_verify,
    certificates_of,
    keys_document,
    product_names,
    proof_for_review,
    proofs_to_review,
    qr_code,
)
from .services import certificate_issue, proof_accept, proof_refuse


@login_required
def resident_certificate(request, pk: int):
    """The resident's certificate with its QR code; POST signs one for today's doses."""
    resident = resident_for_user(request.user, pk)
    if request.method == "POST":
        try:
            certificate_issue(resident=resident, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("certificates:resident", pk=resident.pk)
    certificates = list(certificates_of(request.user, resident))
    current = next((item for item in certificates if item.revoked_at is None), None)
    doses = resident.doses.count()
    return render(
        request,
        "certificates/resident.html",
        {
            "resident": resident,
            "current": current,
            "qr": qr_code(current).png_data_uri(scale=4, border=4) if current else None,
            "certificates": certificates,
            "doses": doses,
            # A new certificate is worth signing only for doses the current one lacks.
            "can_issue": doses and (current is None or current.doses != doses),
        },
    )


@login_required
def certificate_print(request, serial: str):
    """The certificate on one printable page (A5), to hand over or send as a PDF."""
    certificate = certificate_for_user(request.user, serial)
    verification = certificate_verify(certificate.payload).as_json()
    names = product_names()
    doses = [
        {**dose, "product": names.get(dose["product"], dose["product"])}
        for dose in verification["doses"] or []
    ]
    return render(
        request,
        "certificates/print.html",
        {
            "certificate": certificate,
            "verification": verification,
            "doses": doses,
            "qr": qr_code(certificate).png_data_uri(scale=5, border=4),
        },
    )


@login_required
@never_cache
def checkpoint(request):
    """Scan a certificate at a checkpoint; everything needed to check it is in the page."""
    units = checkpoint_units(request.user)
    return render(
        request,
        "certificates/checkpoint.html",
        {
            "keys": keys_document(),
            "text": _checkpoint_text(),
            "units": units,
            "form": CheckpointRecordForm(units=units),
        },
    )


def _checkpoint_text() -> dict:
    """What the page's script says, translated here so the catalogue holds it."""
    return {
        "states": {
            "vaccinated": _("Vaccinated: primary series complete"),
            "incomplete": _("Not fully vaccinated"),
            "revoked": _("Revoked: this certificate is no longer valid"),
            "invalid": _("Invalid certificate"),
        },
        "reasons": {
            "tampered": _("Changed after it was signed (tampered)."),
            "unknown_key": _("Signed with a key this office does not publish."),
            "malformed": _("Not a certificate of ours (unreadable)."),
            "unreadable": _("No QR code found in the photo."),
            "camera": _("The camera is not available: take a photo of the code instead."),
        },
        "kept": _("No network: the record is kept on this phone and sent when it is back."),
    }


@login_required
@require_POST
def checkpoint_record(request):
    """One tap after a failed check: a 二码联查 record of the person (JSON answer).

    The identity comes from the certificate when its signature is genuine (valid or
    revoked); a forged or unreadable one proves nothing, so the staff type the ID number.
    """
    units = checkpoint_units(request.user)
    if not units.exists():
        raise PermissionDenied
    form = CheckpointRecordForm(request.POST, units=units)
    if not form.is_valid():
        return JsonResponse({"error": _field_errors(form)}, status=400)
    data = form.cleaned_data
    verification = certificate_verify(data["payload"])
    id_number, name = data["id_number"], data["name"]
    certificate = (
        Certificate.objects.select_related("resident").filter(serial=verification.serial).first()
        if verification.serial
        else None
    )
    if certificate is not None:
        id_number = protection.decrypt(certificate.resident.id_number_encrypted)
        name = verification.claim["n"]
    try:
        record = checkpoint_record_create(
            unit=data["unit"],
            place=data["place"],
            seen_at=data["seen_at"] or timezone.now(),
            id_number=id_number,
            name=name,
            by=request.user,
        )
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    matched = record.resident_id is not None
    return JsonResponse(
        {
            "record": record.pk,
            "state": record.state,
            "message": _("Recorded: the person's grid worker has the task.")
            if matched
            else _("Recorded: the record goes to the county office (防控办)."),
        }
    )


def _field_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@require_GET
def keys_json(request):
    """`/.well-known/epidispatch-keys.json`: public keys and revocation list, for anyone
    who checks our certificates (other provinces' checkpoints, offline apps)."""
    response = JsonResponse(keys_document(), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@login_required
def proof_list(request):
    """Proofs of vaccination elsewhere waiting for the county office or the town."""
    page = Paginator(proofs_to_review(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "certificates/proof_list.html", {"page": page})


@login_required
def proof_review(request, visit_pk: int):
    """Look at one proof and accept it as a dose given elsewhere, or refuse it."""
    visit, review = proof_for_review(request.user, visit_pk)
    form = ProofReviewForm(request.POST or None)
    if request.method == "POST" and review is None and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "accept":
                proof_accept(
                    visit=visit,
                    product=data["product"],
                    given_on=data["given_on"],
                    place=data["place"],
                    lot_number=data["lot_number"],
                    note=data["note"],
                    by=request.user,
                )
                messages.success(request, _("Accepted: the dose counts from now on."))
            else:
                proof_refuse(visit=visit, note=data["note"], by=request.user)
                messages.success(request, _("Refused."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("certificates:proofs")
    return render(
        request, "certificates/proof_review.html", {"visit": visit, "review": review, "form": form}
    )
