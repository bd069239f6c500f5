"""Reads of certificates, scoped to the acting user, and the public key document."""

import segno
from django.shortcuts import get_object_or_404
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.core.scoping import paths_q, role_paths, scope_q
from epidispatch.fieldwork.models import PROOF_OUTCOMES
from epidispatch.fieldwork.selectors import visit_for_user, visits_visible_to
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import VaccineProduct

from . import keys
from .models import Certificate, ProofReview
from .payload import Verification, verify


def certificates_visible_to(user):
    """Certificates of the residents living in the user's scope."""
    return Certificate.objects.filter(scope_q(user, "resident__grid__path"))


def certificates_of(user, resident: Resident):
    return certificates_visible_to(user).filter(resident=resident).order_by("-issued_at")


def certificate_for_user(user, serial: str) -> Certificate:
    """One certificate in the user's scope, or Http404."""
    return get_object_or_404(
        certificates_visible_to(user).select_related("resident__grid"), serial=serial
    )


def revoked_serials() -> set[str]:
    return set(
        Certificate.objects.filter(revoked_at__isnull=False).values_list("serial", flat=True)
    )


def product_names() -> dict[str, str]:
    """Product code → name: certificates carry the short code, checkers show the name."""
    return dict(VaccineProduct.objects.values_list("code", "name"))


def keys_document() -> dict:
    """What `/.well-known/epidispatch-keys.json` publishes and the checkpoint page embeds:
    every verifying key, the revocation list and the product names the codes stand for.
    Nothing personal: serials are random."""
    return {
        "keys": [key.jwk() for key in keys.public_keys().values()],
        "revoked": sorted(revoked_serials()),
        "products": product_names(),
        "updated": timezone.now().isoformat(timespec="seconds"),
    }


def certificate_verify(payload: str) -> Verification:
    """Check a payload as a checkpoint would, against the published keys and list."""
    return verify(payload, keys.public_keys(), revoked_serials())


def qr_code(certificate: Certificate) -> segno.QRCode:
    """The certificate's QR code; error correction M keeps a printed code readable when
    creased, and the payload (about 450 characters) still fits a phone's camera."""
    return segno.make_qr(certificate.payload, error="m")


def resident_by_id_number(id_number: str) -> Resident | None:
    """The resident with this exact ID number, for the command line (which acts for the
    whole installation); pages go through `registry.selectors.resident_for_user`."""
    number = parse_id_number(id_number).number
    return Resident.objects.filter(id_number_digest=protection.lookup_digest(number)).first()


#: Who reviews proof of vaccination elsewhere (as `vaccination.accepts_outside_doses`).
REVIEW_ROLES = (Role.DISPATCHER, Role.TOWN_OFFICIAL)


def proofs_to_review(user):
    """Visits with a proof of vaccination elsewhere not yet reviewed, in the units where
    the user may accept one, oldest first (they wait longest)."""
    reviewed = ProofReview.objects.values("visit_id")
    return (
        visits_visible_to(user)
        .filter(paths_q(role_paths(user, REVIEW_ROLES), "grid__path"))
        .filter(outcome__in=PROOF_OUTCOMES)
        .exclude(proof="")
        .exclude(pk__in=reviewed)
        .select_related("resident", "grid", "worker")
        .order_by("id")
    )


def proof_for_review(user, visit_pk: int):
    """One visit with its proof, in the user's scope (Http404 otherwise), and its review."""
    visit = visit_for_user(user, visit_pk)
    return visit, ProofReview.objects.filter(visit=visit).select_related("dose").first()
