"""Writes to users, their role assignments and their API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from epidispatch.core.scoping import MEMBERSHIPS_UNREAD
from epidispatch.orgunits.models import OrgUnit

from .models import (
    PREFETCHED_SCOPE,
    ApiToken,
    RoleAssignment,
    User,
    scope_rows_fold,
    scope_rows_sql,
)


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
    """The active user a live token belongs to, or None; notes when it was last used.

    One statement on every API call: the token, its user and the user's roles
    (`User.scope_assignments`, which then needs no query of its own)."""
    digest = _token_digest(token)
    stale = timezone.now() - TOKEN_USE_RESOLUTION
    rows = list(User.objects.raw(_TOKEN_USER_SQL, [stale, digest, digest, digest]))
    if not rows:
        return None
    user = rows[0]
    user.__dict__[PREFETCHED_SCOPE] = scope_rows_fold(
        (row.scope_path, row.scope_role) for row in rows
    )
    user.__dict__[MEMBERSHIPS_UNREAD] = True
    if user.token_stale:
        # Not a write per call: a script polling the API would queue on this one row.
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=timezone.now())
    return user


_TOKEN_TABLE = ApiToken._meta.db_table
_TOKEN_USER_SQL = (
    "SELECT u.*, t.id AS token_id, s.path AS scope_path, s.role AS scope_role, "
    "CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END AS token_stale "
    f"FROM {_TOKEN_TABLE} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
    f"LEFT JOIN ({scope_rows_sql(f'SELECT user_id FROM {_TOKEN_TABLE} WHERE digest = %s')}) s "
    "ON 1 = 1 WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active"
)
