from django.contrib import admin

from epidispatch.core.admin import ReadOnlyAdminMixin

from .models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The import ledger, read-only: it records what happened."""

    list_display = (
        "started_at", "kind", "file_name", "uploaded_by", "state", "rows", "stored",
        "unchanged", "duplicates", "rejected",
    )  # fmt: skip
    list_filter = ("kind", "state")
    search_fields = ("file_name", "file_sha256")
