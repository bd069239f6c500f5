"""The import pages: upload a file of any declared kind, its template, the ledger, a
batch's progress and its rejected rows.

Adapters only: the kinds a user may import, the batches they may see and the import
itself come from `epidispatch.imports`. A batch outside the user's scope is a 404.
"""

import io
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from epidispatch.core.exports import write_xlsx
from epidispatch.imports.kinds import file_kind, file_kinds
from epidispatch.imports.models import ImportBatch
from epidispatch.imports.selectors import file_kinds_for, import_batches_visible_to
from epidispatch.imports.services import import_batch_create
from epidispatch.imports.tasks import import_file_task

from .forms import ImportUploadForm

PAGE_SIZE = 50


def _batch_for_user(user, pk: int) -> ImportBatch:
    return get_object_or_404(import_batches_visible_to(user).select_related("uploaded_by"), pk=pk)


@login_required
def import_list(request):
    kinds = file_kinds_for(request.user)
    if request.method == "POST" and not kinds:
        raise PermissionDenied
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, kinds=kinds, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        path = form.save_file()
        try:
            batch = import_batch_create(
                kind=form.cleaned_data["kind"],
                path=path,
                file_name=form.cleaned_data["file"].name,
                user=request.user,
                options=form.options(),
            )
        except ValidationError as error:
            path.unlink(missing_ok=True)
            form.add_error(None, error)
        else:
            import_file_task(batch.pk, str(path))
            return redirect("import_detail", pk=batch.pk)
    batches = import_batches_visible_to(request.user).select_related("uploaded_by")
    return render(
        request,
        "web/registry/import_list.html",
        {
            "form": form if kinds else None,
            "kinds": kinds,
            "page": Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


@login_required
def import_template(request, kind: str):
    """A blank file of the kind: its columns (required ones marked *) and an example row."""
    if kind not in {declared.name for declared in file_kinds()}:
        raise Http404
    declared = file_kind(kind)
    headers, example = declared.template()
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, [example], str(declared.label))
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=_("%(kind)s template.xlsx") % {"kind": declared.label},
    )


@login_required
def import_detail(request, pk: int):
    return render(
        request, "web/registry/import_detail.html", {"batch": _batch_for_user(request.user, pk)}
    )


@login_required
def import_progress(request, pk: int):
    """The batch's status panel alone, which the batch page polls while the import runs."""
    return render(
        request, "web/registry/_import_status.html", {"batch": _batch_for_user(request.user, pk)}
    )


@login_required
def import_errors(request, pk: int):
    batch = _batch_for_user(request.user, pk)
    report = Path(batch.error_report) if batch.error_report else None
    if report is None or not report.is_file():
        raise Http404
    return FileResponse(
        report.open("rb"),
        as_attachment=True,
        filename=_("%(file)s rejected rows.xlsx") % {"file": Path(batch.file_name).stem},
    )
