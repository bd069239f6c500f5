"""Who may read the audit log: dispatchers, for the units under their dispatcher roles."""

from django.db.models import Q

from epidispatch.accounts.models import Role, RoleAssignment

from .models import AuditEntry


def audit_entries_visible_to(user):
    if not (user.is_authenticated and user.is_active):
        return AuditEntry.objects.none()
    paths = RoleAssignment.objects.filter(user=user, role=Role.DISPATCHER).values_list(
        "unit__path", flat=True
    )
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(unit_path__startswith=path)
    return AuditEntry.objects.filter(condition).select_related("user")
