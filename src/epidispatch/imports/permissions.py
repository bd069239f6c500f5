"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import RoleAssignment

from .kinds import FileKind


def may_import(user, kind: FileKind) -> bool:
    return RoleAssignment.objects.filter(user=user, role__in=kind.roles).exists()
