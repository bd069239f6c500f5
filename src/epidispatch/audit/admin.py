from django.contrib import admin

from epidispatch.core.admin import ReadOnlyAdminMixin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only: nobody edits or deletes the audit log."""

    list_display = ("at", "user", "action", "subject", "ip_address")
    list_filter = ("action",)
