"""The org-unit tree (组织机构): city → county → town/street → village/community → grid,
plus departments, industry grids and vaccination sites hanging under a county.

The tree is stored as a materialized path of codes ("621100/621121/621121100000/"), so
"everything under X" is one indexed prefix query (`path LIKE 'X%'`), never recursion.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWN = "town", _("Town or street")
    VILLAGE = "village", _("Village or community")
    GRID = "grid", _("Grid")
    DEPARTMENT = "department", _("Department")
    INDUSTRY_GRID = "industry_grid", _("Industry grid")
    SITE = "site", _("Vaccination site")


#: Which kinds of parent each kind may hang under (None: a root).
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    UnitKind.CITY: (),
    UnitKind.COUNTY: (UnitKind.CITY,),
    UnitKind.TOWN: (UnitKind.COUNTY,),
    UnitKind.VILLAGE: (UnitKind.TOWN,),
    UnitKind.GRID: (UnitKind.VILLAGE,),
    UnitKind.DEPARTMENT: (UnitKind.COUNTY,),
    UnitKind.INDUSTRY_GRID: (UnitKind.COUNTY,),
    UnitKind.SITE: (UnitKind.COUNTY, UnitKind.TOWN),
}

#: Digits 7–8 of a 12-digit code reserved for the units that have no statistical code.
#: Real town segments stop well below 970, so these never collide with a division code.
RESERVED_SEGMENTS = {
    UnitKind.SITE: "97",
    UnitKind.DEPARTMENT: "98",
    UnitKind.INDUSTRY_GRID: "99",
}

PATH_SEPARATOR = "/"


def code_format_error(kind: str, code: str) -> str | None:
    """Why `code` cannot be the code of a unit of `kind`, or None when it can.

    GB/T 2260 6-digit codes for city and county, 12-digit statistical division codes for
    towns and villages, the village code plus 3 digits for a grid, and county code +
    reserved segment + 4 digits for sites, departments and industry grids.
    """
    if kind == UnitKind.CITY:
        if not re.fullmatch(r"\d{4}00", code) or code.endswith("0000"):
            return _("A city code is 6 digits ending in 00 (GB/T 2260), e.g. 621100.")
    elif kind == UnitKind.COUNTY:
        if not re.fullmatch(r"\d{6}", code) or code.endswith("00"):
            return _("A county code is 6 digits not ending in 00 (GB/T 2260), e.g. 621121.")
    elif kind == UnitKind.TOWN:
        if (
            not re.fullmatch(r"\d{9}000", code)
            or code[6:9] == "000"
            or code[6:8] in RESERVED_SEGMENTS.values()
        ):
            return _("A town code is 12 digits ending in 000, e.g. 621121100000.")
    elif kind == UnitKind.VILLAGE:
        if not re.fullmatch(r"\d{12}", code) or code.endswith("000"):
            return _("A village code is 12 digits not ending in 000, e.g. 621121100001.")
    elif kind == UnitKind.GRID:
        if not re.fullmatch(r"\d{15}", code) or code.endswith("000"):
            return _("A grid code is the village code followed by 3 digits, e.g. 621121100001001.")
    elif kind in RESERVED_SEGMENTS:
        segment = RESERVED_SEGMENTS[kind]
        if not re.fullmatch(rf"\d{{6}}{segment}\d{{4}}", code) or code.endswith("0000"):
            return _(
                "The code of a %(kind)s is the county code, %(segment)s and 4 digits, "
                "e.g. 621121%(segment)s0001."
            ) % {"kind": UnitKind(kind).label, "segment": segment}
    else:
        return _("Unknown kind of unit: %(kind)s.") % {"kind": kind}
    return None


def code_parent_error(kind: str, code: str, parent: "OrgUnit") -> str | None:
    """Why `code` does not belong under `parent`, or None when it does."""
    expected_prefix = {
        UnitKind.COUNTY: parent.code[:4],
        UnitKind.TOWN: parent.code,
        UnitKind.VILLAGE: parent.code[:9],
        UnitKind.GRID: parent.code,
    }.get(kind, parent.county_code)
    if not code.startswith(expected_prefix):
        return _(
            "Code %(code)s must start with %(prefix)s to lie under %(parent)s (%(parent_code)s)."
        ) % {
            "code": code,
            "prefix": expected_prefix,
            "parent": parent.name,
            "parent_code": parent.code,
        }
    return None


class OrgUnit(models.Model):
    code = models.CharField(
        _("code"),
        max_length=15,
        unique=True,
        error_messages={"unique": _("An org unit with this code already exists.")},
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    county_code = models.CharField(
        _("county code"),
        max_length=6,
        blank=True,
        editable=False,
        help_text=_("The GB/T 2260 code of the county the unit belongs to (empty for a city)."),
    )

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL answer `path LIKE 'prefix%'` from the index
            # whatever the database collation; other databases ignore the opclass.
            models.Index(
                fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["county_code", "kind"], name="orgunit_county_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="city", parent__isnull=True)
                | (~models.Q(kind="city") & models.Q(parent__isnull=False)),
                name="orgunit_only_cities_are_roots",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        """Validate kind, code and placement; used by forms and by the services."""
        problem = self.placement_problem()
        if problem:
            field, message = problem
            raise ValidationError({field: message})

    def placement_problem(self) -> tuple[str, str] | None:
        """(field, message) of the first thing wrong with this unit's code or place."""
        error = code_format_error(self.kind, self.code)
        if error:
            return "code", error
        parent = self.parent
        if parent is not None and self.pk is not None and parent.path.startswith(self.path):
            message = _("%(unit)s cannot be placed under itself or one of its own sub-units.")
            return "parent", message % {"unit": self.name}
        allowed = ALLOWED_PARENT_KINDS[self.kind]
        labels = {"kind": self.get_kind_display(), "allowed": _kinds_text(allowed)}
        if parent is None:
            if allowed:
                return "parent", _("A %(kind)s must be placed under a %(allowed)s.") % labels
            return None
        if not allowed:
            return "parent", _("A %(kind)s is a root of the tree and has no parent unit.") % labels
        if parent.kind not in allowed:
            message = _(
                "A %(kind)s cannot be placed under a %(parent_kind)s; it belongs under a "
                "%(allowed)s."
            )
            return "parent", message % {**labels, "parent_kind": parent.get_kind_display()}
        error = code_parent_error(self.kind, self.code, parent)
        return ("code", error) if error else None

    def place_under(self, parent: "OrgUnit | None") -> None:
        """Set parent and the derived path, depth and county code (no validation, no save)."""
        self.parent = parent
        prefix = parent.path if parent else ""
        self.path = f"{prefix}{self.code}{PATH_SEPARATOR}"
        self.depth = parent.depth + 1 if parent else 0
        if self.kind == UnitKind.CITY:
            self.county_code = ""
        elif self.kind == UnitKind.COUNTY:
            self.county_code = self.code
        else:
            self.county_code = parent.county_code if parent else ""

    def is_within(self, other: "OrgUnit") -> bool:
        """True when this unit is `other` or lies anywhere below it."""
        return self.path.startswith(other.path)


def _kinds_text(kinds: tuple[str, ...]) -> str:
    return " / ".join(str(UnitKind(kind).label) for kind in kinds)


class Responsibility(models.Model):
    """A department's assigned grids (包抓): a department's figures, lists and round are
    those of its grids. Kept with the tree (its table predates the move) because every
    scoped read below the dispatch needs it."""

    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="responsibilities",
        limit_choices_to={"kind": "department"},
    )
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "grid"},
    )

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        db_table = "dispatch_responsibility"
        constraints = [
            models.UniqueConstraint(fields=["unit", "grid"], name="responsibility_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit} → {self.grid}"
