"""Attachments of progress posts: checked by their first bytes (never by the name or the
type the browser claims), stored under a random name below MEDIA_ROOT/meetings/, outside
the web root, and served only by the scoped attachment view."""

import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.core.files import stored_file_response

#: Largest attachment (a scanned document, a few photos in a PDF).
MAX_BYTES = 20 * 1024 * 1024
#: Attachments one post may carry.
MAX_FILES = 10


@dataclass(frozen=True)
class FileKind:
    content_type: str
    suffix: str
    magic: bytes


KINDS = (
    FileKind("image/jpeg", "jpg", b"\xff\xd8\xff"),
    FileKind("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    FileKind("application/pdf", "pdf", b"%PDF-"),
)
#: Office documents are zip packages; the suffix tells Word from Excel.
OFFICE_KINDS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class StoredFile:
    name: str
    original: str
    content_type: str


def attachment_kind(upload) -> FileKind:
    """What an upload is, or a ValidationError (in Chinese) saying why it is refused."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The attachment is empty."), code="empty")
    if size > MAX_BYTES:
        raise ValidationError(
            _("An attachment is at most %(mb)d MB.") % {"mb": MAX_BYTES // 1024 // 1024},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind in KINDS:
        if head.startswith(kind.magic):
            return kind
    suffix = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if head.startswith(ZIP_MAGIC) and suffix in OFFICE_KINDS:
        return FileKind(OFFICE_KINDS[suffix], suffix, ZIP_MAGIC)
    raise ValidationError(
        _("An attachment must be a photo (JPEG or PNG), a PDF, or a Word or Excel file."),
        code="type",
    )


def attachment_store(upload) -> StoredFile:
    """Check and store one upload; the caller removes it (`attachment_discard`) when its
    transaction fails."""
    kind = attachment_kind(upload)
    today = timezone.localdate()
    name = default_storage.save(f"meetings/{today:%Y/%m}/{uuid.uuid4().hex}.{kind.suffix}", upload)
    original = PurePath(upload.name or f"file.{kind.suffix}").name.replace("\x00", "")[:120]
    return StoredFile(name=name, original=original, content_type=kind.content_type)


def attachment_discard(name: str) -> None:
    default_storage.delete(name)


#: Every type an attachment may have, as it is served.
CONTENT_TYPES = (*(kind.content_type for kind in KINDS), *OFFICE_KINDS.values())


def attachment_response(found) -> FileResponse:
    """The stored file of an attachment, for the page and the API alike: a photo shown
    inline, any other file downloaded under its original name."""
    return stored_file_response(
        found.file,
        found.content_type,
        filename=found.name,
        as_attachment=not found.content_type.startswith("image/"),
    )
