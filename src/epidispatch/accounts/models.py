"""Users and the roles (角色) that bind them to org units.

A user holds one or more role assignments, each on one org unit; what the user may see is
the union of the subtrees under those units (see `epidispatch.core.scoping`).
"""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from epidispatch.core.scoping import membership_rows
from epidispatch.orgunits.models import OrgUnit, Responsibility, UnitKind


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.audit_unit_path()}

    def audit_unit_path(self) -> str:
        """Where the user's own audit entries (logins, account changes) are filed: the
        highest unit of their roles, or nowhere ("") for a user without a role."""
        if self.pk is None:
            return ""
        paths = self.role_assignments.values_list("unit__path", flat=True).order_by("unit__path")
        return paths.first() or ""

    def scope_assignments(self) -> tuple[tuple[str, str], ...]:
        """(unit path, role) of each of the user's roles, and (grid path, "") for each grid
        assigned (包抓) to a department they hold a role on, in one query: what
        `core.scoping` derives every scope and permission check from (and caches). The
        memberships the apps above install (`core.scoping.membership_install`) ride in
        the same statement, so a menu entry that asks about one costs none. A user read
        with their API token (`accounts.services.api_token_user`) has the roles already:
        the token's statement read them too, and `core.scoping.memberships` reads that
        user's memberships only when asked."""
        prefetched = self.__dict__.get(PREFETCHED_SCOPE)
        if prefetched is not None:
            return prefetched
        sql, params = scope_rows_sql("%s"), [self.pk, self.pk]
        for rows in membership_rows(self):
            member_sql, member_params = rows.query.sql_with_params()
            sql += f" UNION {member_sql}"
            params.extend(member_params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return scope_rows_fold(cursor.fetchall())


#: Where `User.scope_assignments` finds the rows a statement read with the user.
PREFETCHED_SCOPE = "_prefetched_scope"


def scope_rows_sql(user_id: str) -> str:
    """The rows (path, role) of `User.scope_assignments` of the user whose id the SQL
    expression `user_id` gives (it appears twice): a statement of its own, or a part of
    another (the API token's). Plain SQL, built once: this runs on every request."""
    return _SCOPE_ROWS_SQL.format(user_id=user_id)


def scope_rows_fold(rows) -> tuple[tuple[str, str], ...]:
    """The sorted, distinct (path, role) pairs of `rows`, skipping a NULL path (a LEFT
    JOIN that found no role)."""
    return tuple(sorted({(path, role) for path, role in rows if path is not None}))


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher (防控办)")
    LEADER = "leader", _("Leader")
    TOWN_OFFICIAL = "town_official", _("Town, street or department official")
    GRID_WORKER = "grid_worker", _("Grid worker")
    SITE_STAFF = "site_staff", _("Vaccination site staff")
    SUPPLY_OFFICER = "supply_officer", _("CDC / supply officer")
    INSPECTOR = "inspector", _("Inspector")
    SCREENING_OFFICER = "screening_officer", _("Screening officer")
    CONTROL_OFFICER = "control_officer", _("Control officer")


_JURISDICTION = (UnitKind.CITY, UnitKind.COUNTY)

#: The kinds of unit each role may be bound to (DESIGN.md §1, "scope").
ROLE_UNIT_KINDS: dict[str, tuple[str, ...]] = {
    Role.DISPATCHER: _JURISDICTION,
    Role.LEADER: _JURISDICTION,
    Role.SUPPLY_OFFICER: _JURISDICTION,
    Role.SCREENING_OFFICER: _JURISDICTION,
    Role.CONTROL_OFFICER: _JURISDICTION,
    Role.TOWN_OFFICIAL: (UnitKind.TOWN, UnitKind.DEPARTMENT),
    Role.GRID_WORKER: (UnitKind.GRID, UnitKind.INDUSTRY_GRID),
    Role.SITE_STAFF: (UnitKind.SITE,),
    Role.INSPECTOR: tuple(UnitKind),
}


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit.name}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}

    def clean(self) -> None:
        allowed = ROLE_UNIT_KINDS.get(self.role, ())
        if self.unit_id and self.unit.kind not in allowed:
            raise ValidationError(
                {
                    "unit": _("A %(role)s is bound to a %(kinds)s, not to a %(kind)s.")
                    % {
                        "role": self.get_role_display(),
                        "kinds": " / ".join(str(UnitKind(kind).label) for kind in allowed),
                        "kind": self.unit.get_kind_display(),
                    }
                }
            )


class ApiToken(models.Model):
    """A bearer token for scripts calling the API as a user (same scope as that user).

    Only a SHA-256 digest of the token is stored; the token itself is shown once, when
    it is created (`epidispatch create_api_token USERNAME`).
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60)
    digest = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.name} ({self.prefix}…)"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.user.audit_unit_path()}


_ASSIGNMENT, _UNIT, _RESPONSIBILITY = (
    model._meta.db_table for model in (RoleAssignment, OrgUnit, Responsibility)
)
_SCOPE_ROWS_SQL = (
    f"SELECT o.path AS path, a.role AS role FROM {_ASSIGNMENT} a "
    f"JOIN {_UNIT} o ON o.id = a.unit_id WHERE a.user_id = ({{user_id}}) "
    "UNION "
    f"SELECT g.path, '' FROM {_ASSIGNMENT} a JOIN {_RESPONSIBILITY} r ON r.unit_id = a.unit_id "
    f"JOIN {_UNIT} g ON g.id = r.grid_id WHERE a.user_id = ({{user_id}})"
)
