"""Writes to users and their role assignments."""

from django.db import transaction

from epidispatch.orgunits.models import OrgUnit

from .models import RoleAssignment, User


@transaction.atomic
def role_assign(*, user: User, role: str, unit: OrgUnit) -> RoleAssignment:
    """Bind `user` to `unit` in `role`, after checking the role fits that kind of unit."""
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def user_create(
    *, username: str, password: str, full_name: str = "", roles: list[tuple[str, OrgUnit]]
) -> User:
    """Create a user holding the given (role, unit) assignments."""
    user = User(username=username, full_name=full_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    for role, unit in roles:
        role_assign(user=user, role=role, unit=unit)
    return user
