"""Proof uploads (接种凭证, a photo of the code): checked by what the bytes are, not by the
name or the type the phone claims, and stored under MEDIA_ROOT, never in the web root.

Pillow is not a dependency: the three accepted kinds are told apart by their signatures
(magic bytes), which is all an acceptance check needs. The files are only ever served by
a scoped view with their checked type and `X-Content-Type-Options: nosniff`.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import conf


@dataclass(frozen=True)
class ProofKind:
    content_type: str
    suffix: str
    signature: bytes


PROOF_KINDS = (
    ProofKind("image/jpeg", "jpg", b"\xff\xd8\xff"),
    ProofKind("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ProofKind("application/pdf", "pdf", b"%PDF-"),
)


def proof_check(upload) -> ProofKind:
    """The kind of an uploaded proof, or a ValidationError saying why it is refused."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The proof file is empty."), code="proof_empty")
    limit = conf.proof_max_bytes()
    if size > limit:
        raise ValidationError(
            _("The proof file is larger than %(limit)s MB.")
            % {"limit": f"{limit / 1024 / 1024:g}"},
            code="proof_too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind in PROOF_KINDS:
        if head.startswith(kind.signature):
            return kind
    raise ValidationError(_("A proof must be a photo (JPEG or PNG) or a PDF."), code="proof_type")
