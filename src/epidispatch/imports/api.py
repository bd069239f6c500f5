"""Imports in the JSON API (/api/v1/imports/…): upload a file of any declared kind and
follow its batch, with the same rules and scoping as the page.

    curl -H "Authorization: Bearer $TOKEN" -F file=@平襄镇常住人口.xlsx \\
        http://127.0.0.1:8000/api/v1/imports/residents
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/imports/batches/7

The import runs in the background (the task queue); poll the batch until its state is
`done` or `failed`. A kind that declares options (the screening round of a sample list)
takes each as a form field of its name:

    curl -H "Authorization: Bearer $TOKEN" -F round=7 -F file=@采样名单.xlsx \\
        http://127.0.0.1:8000/api/v1/imports/screening_samples
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from .kinds import file_kind
from .selectors import file_kinds_for, import_batches_visible_to
from .services import import_batch_create, upload_save
from .tasks import import_file_task

router = Router(tags=["imports"])

SUFFIXES = (".xlsx", ".xls", ".csv")
LIST_LIMIT = 200


class BatchOut(Schema):
    id: int
    kind: str
    file_name: str
    state: str
    message: str
    rows: int
    rows_read: int
    stored: int
    unchanged: int
    duplicates: int
    rejected: int
    options: dict[str, str]


@router.get("/batches", response=list[BatchOut])
def batch_list(request):
    """The latest batches the caller may see (their own, and those of their units)."""
    return import_batches_visible_to(request.user)[:LIST_LIMIT]


@router.get("/batches/{batch_id}", response=BatchOut)
def batch_detail(request, batch_id: int):
    return get_object_or_404(import_batches_visible_to(request.user), pk=batch_id)


@router.post("/{kind}", response={202: BatchOut})
def batch_upload(request, kind: str, file: File[UploadedFile]):
    if kind not in {declared.name for declared in file_kinds_for(request.user)}:
        raise HttpError(403, "Forbidden")
    if Path(file.name or "").suffix.lower() not in SUFFIXES:
        raise HttpError(422, _("Send an .xlsx, .xls or .csv file."))
    limit = settings.EPIDISPATCH_IMPORT_MAX_BYTES
    if file.size > limit:
        raise HttpError(413, _("The file is larger than %(limit)d MB.") % {"limit": limit >> 20})
    declared = file_kind(kind)
    given = {option.name: request.POST.get(option.name, "") for option in declared.options}
    path = upload_save(file)
    try:
        batch = import_batch_create(
            kind=kind, path=path, file_name=file.name, user=request.user, options=given
        )
    except ValidationError as error:
        path.unlink(missing_ok=True)
        raise HttpError(422, " ".join(error.messages)) from None
    import_file_task(batch.pk, str(path))
    batch.refresh_from_db()
    return Status(202, batch)
