"""Org-unit scoping: the one place that decides which units a user may see.

Every selector that returns units, people or their data filters through `scope_q` first.
There is deliberately no bypass for superusers or staff: a user sees exactly the subtrees
of the units their role assignments name, and the grids assigned (包抓) to a department
they hold a role on, and nothing when they have none.
"""

from collections.abc import Callable

from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast

_CACHE_ATTRIBUTE = "_epidispatch_scope"

#: Marks the rows of a membership among the (path, role) rows: a role never starts so.
_MEMBERSHIP = "+"

#: name → function(user) giving the queryset of what the user is a member of.
_memberships: dict[str, Callable[[object], QuerySet]] = {}


def membership_install(name: str, of_user: Callable[[object], QuerySet]) -> None:
    """Let an app above ask whether a user belongs to something that grants no scope (a
    meetings working group) without a query of its own: `of_user(user)` gives the rows
    the user is a member of, whose keys the role lookup reads in the same statement. The
    app installs it when Django starts (its `AppConfig.ready`), as the figures app
    installs its engine in `core.live`."""
    _memberships[name] = of_user


def membership_rows(user) -> list[QuerySet]:
    """`(key, "+name")` rows of each installed membership of `user`, for
    `User.scope_assignments` to read with the roles (in one UNION)."""
    return [
        of_user(user)
        .order_by()
        .values_list(Cast("pk", CharField()), Value(_MEMBERSHIP + name, output_field=CharField()))
        for name, of_user in _memberships.items()
    ]


#: Set on a user whose roles were read without their memberships (the API token's
#: statement reads the roles alone): `memberships` reads them when first asked.
MEMBERSHIPS_UNREAD = "_memberships_unread"


def memberships(user, name: str) -> frozenset[str]:
    """Keys (as text) of the user's memberships of kind `name`; none for an anonymous or
    inactive user. Read with the roles, so it costs no query of its own (but for a user
    marked `MEMBERSHIPS_UNREAD`, whose memberships are read once, here)."""
    marker = _MEMBERSHIP + name
    rows = _rows(user)
    if user is not None and user.__dict__.pop(MEMBERSHIPS_UNREAD, False):
        rows += tuple(row for member_rows in membership_rows(user) for row in member_rows)
        setattr(user, _CACHE_ATTRIBUTE, rows)
    return frozenset(key for key, role in rows if role == marker)


def scope_paths(user) -> tuple[str, ...]:
    """Paths of the roots of the user's scope, with nested roots folded away."""
    return _fold(path for path, _role in _assignments(user))


def root_paths(user) -> tuple[str, ...]:
    """Paths of the units the user's roles name (folded): where their pages start. A
    department's assigned grids are in the scope but are not starting points."""
    return _fold(path for path, role in _assignments(user) if role)


def _assignments(user) -> tuple[tuple[str, str], ...]:
    """(unit path, role) of each of the user's role assignments, and (grid path, "") for
    each grid assigned to a department they hold a role on (the memberships left out)."""
    return tuple(row for row in _rows(user) if not row[1].startswith(_MEMBERSHIP))


def _rows(user) -> tuple[tuple[str, str], ...]:
    """The assignments and the memberships, read once per user object
    (`User.scope_assignments`, in accounts: this module sits below the apps), so every
    scope and permission check of a request shares one query."""
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    rows: tuple[tuple[str, str], ...] = ()
    if user is not None and user.is_authenticated and user.is_active:
        rows = user.scope_assignments()
    setattr(user, _CACHE_ATTRIBUTE, rows)
    return rows


def _fold(paths) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(root) for root in kept):
            kept.append(path)
    return tuple(kept)


def scope_q(user, path_field: str = "path") -> Q:
    """A filter keeping the rows whose `path_field` lies inside the user's scope."""
    return paths_q(scope_paths(user), path_field)


def paths_q(paths, path_field: str = "path") -> Q:
    """Rows whose `path_field` lies under one of `paths` (none when `paths` is empty)."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{path_field}__startswith": path})
    return condition


def path_in_scope(user, path: str) -> bool:
    return any(path.startswith(root) for root in scope_paths(user))


def role_paths(user, roles) -> list[str]:
    """Paths of the units on which the user holds one of `roles` (none for an anonymous
    or inactive user): what a permission tied to a role, not to the whole scope, checks."""
    return [path for path, role in _assignments(user) if role and role in roles]


def holds_role_over(user, roles, path: str) -> bool:
    """Whether one of the user's `roles` is held on the unit at `path` or above it."""
    return any(path.startswith(root) for root in role_paths(user, roles))
