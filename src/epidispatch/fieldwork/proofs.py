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
    offset: int = 0


PROOF_KINDS = (
    ProofKind("image/jpeg", "jpg", b"\xff\xd8\xff"),
    ProofKind("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ProofKind("application/pdf", "pdf", b"%PDF-"),
)
#: A short video, accepted as an inspection's evidence (ISO base media: "ftyp" at byte 4,
#: MP4 and the iPhone's QuickTime .mov alike).
VIDEO_KINDS = (ProofKind("video/mp4", "mp4", b"ftyp", 4),)


def proof_check(upload, kinds=PROOF_KINDS, limit: int | None = None) -> ProofKind:
    """The kind of an uploaded proof, or a ValidationError saying why it is refused."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The proof file is empty."), code="proof_empty")
    limit = limit or conf.proof_max_bytes()
    if size > limit:
        raise ValidationError(
            _("The proof file is larger than %(limit)s MB.")
            % {"limit": f"{limit / 1024 / 1024:g}"},
            code="proof_too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind in kinds:
        if head[kind.offset :].startswith(kind.signature):
            return kind
    if any(kind in VIDEO_KINDS for kind in kinds):
        message = _("Evidence must be a photo (JPEG or PNG), a PDF or a video (MP4).")
    else:
        message = _("A proof must be a photo (JPEG or PNG) or a PDF.")
    raise ValidationError(message, code="proof_type")
