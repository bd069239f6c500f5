"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import role_paths


def _dispatcher_paths(user) -> list[str]:
    return role_paths(user, (Role.DISPATCHER,))


def audit_log_readable_by(user) -> bool:
    return bool(_dispatcher_paths(user))
