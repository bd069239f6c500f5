"""Certificates in the JSON API (/api/v1/certificates/), scoped like every read."""

from datetime import datetime

from ninja import Router, Schema

from epidispatch.registry.selectors import resident_for_user

from .selectors import certificate_verify, certificates_of

router = Router(tags=["certificates"])


class CertificateOut(Schema):
    serial: str
    payload: str
    key_id: str
    doses: int
    series_complete: bool
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str


class VerifyIn(Schema):
    payload: str


class DoseOut(Schema):
    dose: int
    product: str
    given_on: str
    lot: str


class VerifyOut(Schema):
    valid: bool
    reason: str | None
    name: str | None
    id_number_masked: str | None
    doses: list[DoseOut] | None
    series_complete: bool | None
    issued_at: str | None
    key_id: str | None


@router.get("/residents/{resident_id}", response=list[CertificateOut])
def list_certificates(request, resident_id: int):
    """A resident's certificates, newest first (404 outside your scope)."""
    return certificates_of(request.user, resident_for_user(request.user, resident_id))


@router.post("/verify", response=VerifyOut)
def verify_certificate(request, body: VerifyIn):
    """What `epidispatch certificate_verify` answers for a payload."""
    return certificate_verify(body.payload).as_json()
