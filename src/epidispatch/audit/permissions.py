"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import role_paths
from epidispatch.orgunits.models import PATH_SEPARATOR


def _dispatcher_paths(user) -> list[str]:
    return role_paths(user, (Role.DISPATCHER,))


def reads_unfiled_entries(user) -> bool:
    """Entries filed under no unit (a failed login with an unknown name, a command run over
    the whole database) belong to the whole deployment: only a dispatcher of a root of the
    tree (the office over every county) reads them, not the office of one county."""
    return any(path.count(PATH_SEPARATOR) == 1 for path in _dispatcher_paths(user))


def audit_log_readable_by(user) -> bool:
    return bool(_dispatcher_paths(user))
