from auditlog.admin import LogEntryAdmin
from django.contrib import admin

from epidispatch.core.admin import ReadOnlyAdminMixin

from .models import AuditEntry, Change


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only: nobody edits or deletes the audit log."""

    list_display = ("at", "user", "action", "subject", "ip_address")
    list_filter = ("action",)


admin.site.unregister(Change)


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdminMixin, LogEntryAdmin):
    """auditlog's change list and detail, with no delete at all (auditlog's own admin allows
    a cascade delete from another admin page)."""
