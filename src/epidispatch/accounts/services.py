"""Writes to users, their role assignments and their API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from epidispatch.orgunits.models import OrgUnit

from .models import ApiToken, RoleAssignment, User


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


#: How precisely "last used" is kept for an API token.
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for `user`; returns the record and the token, shown only now."""
    token = secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name, digest=_token_digest(token), prefix=token[:8]
    )
    return record, token


def api_token_user(token: str) -> User | None:
    """The active user a live token belongs to, or None; notes when it was last used."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(digest=_token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > TOKEN_USE_RESOLUTION:
        # Not a write per call: a script polling the API would queue on this one row.
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user
