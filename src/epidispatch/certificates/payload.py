"""The certificate as its QR code carries it: one ASCII string, signed, checked offline.

    EPC1.<key id>.<body>.<signature>

`body` is the claim as compact UTF-8 JSON in unpadded base64url; `signature` the Ed25519
signature (unpadded base64url) of the ASCII bytes `EPC1.<key id>.<body>`. Like a JWS in
compact form, the signature covers the exact bytes carried, so no canonicalisation is
needed (DIVOC signs W3C credentials with JSON-LD signatures, which a checkpoint phone
would have to canonicalise with a JSON-LD library before checking). The keys of the claim
are one letter, as the EU certificate's CBOR claims are, to keep the code small:

    c  certificate serial (what the revocation list names)
    n  name;  i  masked ID number
    d  doses, in order: [product code, date given (YYYY-MM-DD), lot]
    s  1 when the primary series is complete
    u  issuing office: [county code, county name]
    t  issued at (ISO 8601, local time)

The checkpoint page (static/certificates/checkpoint.js) checks the same format in the
browser; the two must change together.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .keys import PublicKey

PREFIX = "EPC1"
#: Longer than any certificate we sign (a name of 60 characters and ten doses): anything
#: longer is not ours, and is refused before any decoding work.
MAX_LENGTH = 4000
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class Reason:
    """Why a certificate does not verify (the `reason` of `certificate_verify`)."""

    TAMPERED = "tampered"
    UNKNOWN_KEY = "unknown_key"
    REVOKED = "revoked"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str | None
    claim: dict = field(default_factory=dict)
    key_id: str | None = None

    def as_json(self) -> dict:
        """The JSON of `certificate_verify` (DESIGN.md §8); the claim only when the
        signature is genuine (valid or revoked), never what a forger wrote."""
        claim = self.claim
        doses = [
            {"dose": number, "product": product, "given_on": given_on, "lot": lot}
            for number, (product, given_on, lot) in enumerate(claim.get("d", []), start=1)
        ]
        return {
            "valid": self.valid,
            "reason": self.reason,
            "name": claim.get("n"),
            "id_number_masked": claim.get("i"),
            "doses": doses if claim else None,
            "series_complete": bool(claim["s"]) if claim else None,
            "issued_at": claim.get("t"),
            "key_id": self.key_id,
        }

    @property
    def serial(self) -> str | None:
        return self.claim.get("c")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claim: dict, key_id: str, private_key: Ed25519PrivateKey) -> str:
    body = json.dumps(claim, ensure_ascii=False, separators=(",", ":")).encode()
    signed = f"{PREFIX}.{key_id}.{_b64encode(body)}"
    return f"{signed}.{_b64encode(private_key.sign(signed.encode('ascii')))}"


def verify(payload: str, keys: dict[str, PublicKey], revoked: set[str]) -> Verification:
    """Check a scanned payload against the published keys and revocation list."""
    malformed = Verification(valid=False, reason=Reason.MALFORMED)
    payload = payload.strip()
    if len(payload) > MAX_LENGTH or not payload.isascii():
        return malformed
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        return malformed
    if not all(BASE64URL.fullmatch(part) for part in parts[1:]):
        return malformed
    _prefix, key_id, body, signature_text = parts
    try:
        signature = _b64decode(signature_text)
        raw_body = _b64decode(body)
    except (binascii.Error, ValueError):
        return malformed
    if len(signature) != 64:
        return malformed
    key = keys.get(key_id)
    if key is None:
        return Verification(valid=False, reason=Reason.UNKNOWN_KEY, key_id=key_id)
    try:
        key.key.verify(signature, payload.rsplit(".", 1)[0].encode("ascii"))
    except InvalidSignature:
        return Verification(valid=False, reason=Reason.TAMPERED, key_id=key_id)
    try:
        claim = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError):
        return Verification(valid=False, reason=Reason.MALFORMED, key_id=key_id)
    if not isinstance(claim, dict) or not {"c", "n", "i", "d", "s", "t"} <= claim.keys():
        return Verification(valid=False, reason=Reason.MALFORMED, key_id=key_id)
    if claim["c"] in revoked:
        return Verification(valid=False, reason=Reason.REVOKED, claim=claim, key_id=key_id)
    return Verification(valid=True, reason=None, claim=claim, key_id=key_id)
