"""Who may read the audit log: dispatchers, for the units under their dispatcher roles."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import paths_q, role_paths

from .models import AuditEntry


def _dispatcher_paths(user) -> list[str]:
    return role_paths(user, (Role.DISPATCHER,))


def audit_log_readable_by(user) -> bool:
    return bool(_dispatcher_paths(user))


def audit_entries_visible_to(user):
    return AuditEntry.objects.filter(paths_q(_dispatcher_paths(user), "unit_path")).select_related(
        "user"
    )
