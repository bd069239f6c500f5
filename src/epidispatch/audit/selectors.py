"""Who may read the audit log: dispatchers, for the units under their dispatcher roles."""

from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.core.scoping import paths_q

from .models import AuditEntry


def _dispatcher_paths(user) -> list[str]:
    if not (user.is_authenticated and user.is_active):
        return []
    return list(
        RoleAssignment.objects.filter(user=user, role=Role.DISPATCHER).values_list(
            "unit__path", flat=True
        )
    )


def audit_log_readable_by(user) -> bool:
    return bool(_dispatcher_paths(user))


def audit_entries_visible_to(user):
    return AuditEntry.objects.filter(paths_q(_dispatcher_paths(user), "unit_path")).select_related(
        "user"
    )
