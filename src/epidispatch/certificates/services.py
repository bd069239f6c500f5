"""Writes of certificates: issuing, revoking, re-issuing after a dose changed, rotating
the signing key; accepting or refusing proof of a dose given elsewhere."""

import hashlib
import json
import secrets
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record, command_line_actor
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.permissions import accepts_outside_doses
from epidispatch.vaccination.services import dose_record_outside

from . import keys
from .models import Certificate, ProofReview
from .payload import sign


def _dose_lines(resident: Resident) -> list[list[str]]:
    doses = Dose.objects.filter(resident=resident).select_related("product").order_by("dose_number")
    return [[dose.product.code, dose.given_on.isoformat(), dose.lot_number] for dose in doses]


def _digest(lines: list[list[str]]) -> str:
    return hashlib.sha256(json.dumps(lines, ensure_ascii=False).encode()).hexdigest()


@transaction.atomic
def certificate_issue(*, resident: Resident, by=None) -> Certificate:
    """The resident's signed certificate (接种凭证) of the doses recorded today.

    Asking again while the doses are the same gives the same certificate (one QR code per
    state of the record, however often it is printed); once a dose is added a new one is
    signed, and the earlier one stays valid, since what it states stays true.
    """
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    lines = _dose_lines(resident)
    if not lines:
        raise ValidationError(
            _("%(name)s has no dose recorded: there is nothing to certify.")
            % {"name": resident.name},
            code="no_dose",
        )
    digest = _digest(lines)
    current = (
        Certificate.objects.filter(resident=resident, revoked_at__isnull=True, doses_digest=digest)
        .order_by("-issued_at")
        .first()
    )
    if current is not None:
        return current
    status = VaccinationStatus.objects.filter(resident=resident).first()
    series_complete = bool(status and status.series_complete_on)
    county = OrgUnit.objects.filter(code=resident.county_code).values_list("name", flat=True)
    issued_at = timezone.localtime()
    serial = secrets.token_urlsafe(9)
    claim = {
        "c": serial,
        "n": resident.name,
        "i": resident.id_number_masked,
        "d": lines,
        "s": int(series_complete),
        "u": [resident.county_code, county.first() or ""],
        "t": issued_at.isoformat(timespec="seconds"),
    }
    key_id, private_key = keys.signing_key()
    certificate = Certificate.objects.create(
        serial=serial,
        resident=resident,
        county_code=resident.county_code,
        key_id=key_id,
        payload=sign(claim, key_id, private_key),
        doses=len(lines),
        doses_digest=digest,
        series_complete=series_complete,
        issued_at=issued_at,
        issued_by=by,
    )
    _audit(by, AuditAction.ISSUE_CERTIFICATE, certificate, "")
    return certificate


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, by, reason: str) -> Certificate:
    """Put a certificate on the revocation list (吊销); a checkpoint shows it as revoked."""
    if not reason.strip():
        raise ValidationError(_("Say why the certificate is revoked."), code="no_reason")
    revoked = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by, revoked_reason=reason.strip()[:120]
    )
    certificate = Certificate.objects.select_related("resident__grid").get(pk=certificate.pk)
    if revoked:
        _audit(by, AuditAction.REVOKE_CERTIFICATE, certificate, certificate.revoked_reason)
    return certificate


def certificates_reissue(sender, *, resident: Resident, by, reason: str, **kwargs) -> None:
    """Receiver of `dose_changed`: a corrected or deleted dose makes every certificate of
    the person wrong, so each is revoked and, when doses remain, a new one is signed.
    Runs inside the change's transaction; people who never had a certificate get none."""
    outstanding = Certificate.objects.filter(resident=resident, revoked_at__isnull=True)
    if not outstanding.exists():
        return
    note = _("Dose changed: %(reason)s") % {"reason": reason.strip()}
    for certificate in outstanding.select_related("resident__grid"):
        _audit(by, AuditAction.REVOKE_CERTIFICATE, certificate, note)
    outstanding.update(revoked_at=timezone.now(), revoked_by=by, revoked_reason=note[:120])
    if Dose.objects.filter(resident=resident).exists():
        certificate_issue(resident=resident, by=by)


def _audit(by, action: str, certificate: Certificate, reason: str) -> None:
    """Issuing and revoking are on the trail, filed under the resident's grid; a
    certificate issued by a command with no user names the account that ran it."""
    resident = certificate.resident
    subject = f"{resident} · {certificate.serial}" + (f" · {reason}" if reason else "")
    audit_record(
        user=by,
        actor="" if by is not None else command_line_actor(),
        action=action,
        subject=subject[:120],
        unit_path=resident.grid.path,
    )


def signing_key_rotate() -> keys.PublicKey:
    """Start signing with a new key (密钥轮换); certificates signed before stay valid, the
    old key still being published."""
    return keys.key_create()


@transaction.atomic
def proof_accept(
    *,
    visit,
    product: VaccineProduct | None,
    given_on: date,
    place: str,
    by,
    lot_number: str = "",
    note: str = "",
) -> ProofReview:
    """Accept a visit's proof of vaccination elsewhere: it becomes a dose given elsewhere
    (with the place the proof names as its source), and every figure moves with it."""
    _check_reviewable(visit, by)
    dose = dose_record_outside(
        resident=visit.resident,
        product=product,
        given_on=given_on,
        place=place,
        lot_number=lot_number,
        by=by,
    )
    return _review(visit, by, accepted=True, dose=dose, note=note)


@transaction.atomic
def proof_refuse(*, visit, by, note: str) -> ProofReview:
    """Refuse a proof (unreadable, someone else's record …); the resident's doses stay."""
    _check_reviewable(visit, by)
    if not note.strip():
        raise ValidationError(_("Say why the proof is refused."), code="no_note")
    return _review(visit, by, accepted=False, dose=None, note=note)


def _check_reviewable(visit, by) -> None:
    if not visit.proof:
        raise ValidationError(_("This visit brought no proof."), code="no_proof")
    if not accepts_outside_doses(by, visit.resident):
        raise PermissionDenied(_("Only the county office or the town may accept this proof."))
    if ProofReview.objects.filter(visit=visit).exists():
        raise ValidationError(_("This proof was already reviewed."), code="reviewed")


def _review(visit, by, *, accepted: bool, dose, note: str) -> ProofReview:
    try:
        with transaction.atomic():
            return ProofReview.objects.create(
                visit=visit,
                resident=visit.resident,
                accepted=accepted,
                dose=dose,
                note=note.strip()[:200],
                reviewed_by=by,
            )
    except IntegrityError:
        raise ValidationError(
            _("This proof was reviewed a moment ago by someone else."), code="reviewed"
        ) from None
