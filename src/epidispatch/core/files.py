"""Serving a stored upload (a meeting attachment, an inspection photo or video, a visit's
proof): only through a scoped view, with the type that was checked when it was stored and
never one a browser guesses."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def stored_file_response(
    file: FieldFile, content_type: str, *, filename: str, as_attachment: bool
) -> FileResponse:
    """The file as a response: shown inline or downloaded (`as_attachment`) under
    `filename` (any script: the header carries it encoded), not sniffed; a file gone from
    the disk is a 404, as a record the user may not see is."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, content_type=content_type, as_attachment=as_attachment, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
