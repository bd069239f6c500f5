"""Admin pieces several apps share."""


class ReadOnlyAdminMixin:
    """For records of what happened (ledgers, audit logs): nobody adds, edits or deletes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
