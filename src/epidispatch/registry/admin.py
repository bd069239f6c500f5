from django.contrib import admin

from .models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The import ledger, read-only: it records what happened."""

    list_display = (
        "started_at", "kind", "file_name", "uploaded_by", "state", "rows", "stored",
        "unchanged", "duplicates", "rejected",
    )  # fmt: skip
    list_filter = ("kind", "state")
    search_fields = ("file_name", "file_sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
