"""The daily dispatch (日调度): live figures, the cutoff snapshots and what is read from them.

Live figures are kept at the leaves of the tree, one Rollup row per grid and age band,
and a subtree's figures are the sum of its leaves (one indexed prefix query on the
copied path). Updating a county row for every dose would make 200 concurrent writers
queue on one row lock; a leaf row is shared only by the writers of one grid and band.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.accountability.models import Accountability
from epidispatch.orgunits.models import OrgUnit


class AgeBand(models.TextChoices):
    """The reporting age bands (DESIGN.md §2); under 3 is outside the target population."""

    UNDER_3 = "0-2", _("Under 3")
    CHILD = "3-11", _("3–11")
    TEEN = "12-17", _("12–17")
    ADULT = "18-59", _("18–59")
    SENIOR = "60-79", _("60–79")
    ELDERLY = "80+", _("80 and over")


#: (band, lowest age in years) from the oldest down: a resident falls in the first band
#: whose lowest age they have reached.
BAND_AGES = (
    (AgeBand.ELDERLY, 80),
    (AgeBand.SENIOR, 60),
    (AgeBand.ADULT, 18),
    (AgeBand.TEEN, 12),
    (AgeBand.CHILD, 3),
    (AgeBand.UNDER_3, 0),
)
ADULT_BANDS = (AgeBand.ADULT, AgeBand.SENIOR, AgeBand.ELDERLY)
SENIOR_BANDS = (AgeBand.SENIOR, AgeBand.ELDERLY)

#: The counted figures, in display order. `target` is the population to vaccinate (应接种
#: 人群: 3 and over, not deceased or moved out); `to_clear` those of it with no dose who are
#: not excused (refusers stay). first_dose, series_complete and booster count people.
FIGURES = (
    "residents",
    "target",
    "doses",
    "first_dose",
    "series_complete",
    "booster",
    "sequential_booster",
    "to_clear",
)


class Figures(models.Model):
    residents = models.IntegerField(_("residents"), default=0)
    target = models.IntegerField(_("target population"), default=0)
    doses = models.IntegerField(_("doses given"), default=0)
    first_dose = models.IntegerField(_("first dose"), default=0)
    series_complete = models.IntegerField(_("series complete"), default=0)
    booster = models.IntegerField(_("booster"), default=0)
    sequential_booster = models.IntegerField(_("sequential booster"), default=0)
    to_clear = models.IntegerField(_("to clear"), default=0)

    class Meta:
        abstract = True


class Rollup(Figures):
    """The live figures of one grid and age band (a leaf of the tree)."""

    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="+"
    )
    band = models.CharField(_("age band"), max_length=5, choices=AgeBand.choices)
    path = models.CharField(_("path"), max_length=255)
    county_code = models.CharField(_("county code"), max_length=6)

    class Meta:
        verbose_name = _("live figures")
        verbose_name_plural = _("live figures")
        constraints = [models.UniqueConstraint(fields=["grid", "band"], name="rollup_leaf")]
        indexes = [
            models.Index(
                fields=["path"], name="rollup_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.band}"


class RollupState(models.Model):
    """The day whose ages the live figures are banded by (one row).

    A resident's age band changes on a birthday: the daily re-banding moves the residents
    whose band changed since `banded_on` and advances it, and every write reads it, so a
    write and a re-banding never count one person in two bands.
    """

    banded_on = models.DateField(_("age bands as of"))

    class Meta:
        verbose_name = _("live figures state")
        verbose_name_plural = _("live figures state")

    def __str__(self) -> str:
        return str(self.banded_on)


class Snapshot(models.Model):
    """The frozen figures of every unit at one day's cutoff (日调度). Kept forever."""

    day = models.DateField(_("day"), unique=True)
    taken_at = models.DateTimeField(_("taken at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("empty when taken by the scheduled cutoff"),
    )
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous snapshot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next",
    )

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["-day"]
        get_latest_by = "day"

    def __str__(self) -> str:
        return f"{self.day} {timezone.localtime(self.taken_at):%H:%M}"


class SnapshotFigure(Figures):
    """One unit's figures in one age band at a snapshot, and its doses since the previous
    snapshot (日增量)."""

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("snapshot"), on_delete=models.CASCADE, related_name="figures"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    band = models.CharField(_("age band"), max_length=5, choices=AgeBand.choices)
    doses_added = models.IntegerField(_("doses since the previous cutoff"), default=0)

    class Meta:
        verbose_name = _("snapshot figure")
        verbose_name_plural = _("snapshot figures")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "unit", "band"], name="snapshot_figure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.unit} {self.band}"


class RankingGroup(models.TextChoices):
    TOWNS = "towns", _("Towns and streets")
    DEPARTMENTS = "departments", _("Departments")


class RankingMeasure(models.TextChoices):
    COVERAGE = "coverage", _("Coverage of the target population")
    TARGET = "target", _("Completion of the day's target")


class Ranking(models.Model):
    """A unit's place (排名) among its peers at a snapshot by one measure. Equal values
    share a place and the next place is skipped (1, 2, 2, 4)."""

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("snapshot"), on_delete=models.CASCADE, related_name="rankings"
    )
    group = models.CharField(_("group"), max_length=12, choices=RankingGroup.choices)
    measure = models.CharField(_("measure"), max_length=10, choices=RankingMeasure.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    numerator = models.IntegerField(_("numerator"))
    denominator = models.IntegerField(_("denominator"))
    rate = models.FloatField(_("rate"), null=True, help_text=_("empty when nothing to divide by"))
    place = models.PositiveIntegerField(pgettext_lazy("ranking", "place"))
    of = models.PositiveIntegerField(_("units ranked"))
    # Frozen with the place, so that an old bulletin keeps the name and the bottom marks
    # of its day whatever is renamed or reconfigured later.
    unit_name = models.CharField(_("unit name"), max_length=100, default="")
    bottom = models.BooleanField(_("in the bottom N"), default=False)
    #: The accountability case a bottom streak ending at this row proposed (连续排名靠后).
    cases = GenericRelation(
        Accountability,
        content_type_field="cause_type",
        object_id_field="cause_id",
        related_query_name="ranking",
    )

    class Meta:
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")
        ordering = ["snapshot", "group", "measure", "place", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "measure", "unit"], name="one_place_per_measure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.unit} {self.get_measure_display()} #{self.place}"


class DailyTarget(models.Model):
    """The next-day quota of doses a unit is given (任务清单), due before 20:00 the day
    before; an issue after that is kept and flagged late."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    doses = models.PositiveIntegerField(_("doses to give"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    late = models.BooleanField(_("issued late"), default=False)

    class Meta:
        verbose_name = _("daily target")
        verbose_name_plural = _("daily targets")
        ordering = ["-day", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "day"], name="one_target_per_unit_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.unit} {self.doses}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}

    @staticmethod
    def deadline_for(day) -> datetime:
        """20:00 local time on the day before `day`."""
        hour, minute = settings.EPIDISPATCH_TARGET_DEADLINE
        return timezone.make_aware(datetime.combine(day - timedelta(days=1), time(hour, minute)))


class Bulletin(models.Model):
    """The 日通报 of one snapshot, numbered in order (第N期). Its page, .docx and .xlsx are
    built from the snapshot alone, so they never change."""

    snapshot = models.OneToOneField(
        Snapshot, verbose_name=_("snapshot"), on_delete=models.PROTECT, related_name="bulletin"
    )
    number = models.PositiveIntegerField(_("number"), unique=True)

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-number"]

    def __str__(self) -> str:
        return _("Bulletin No. %(number)d") % {"number": self.number}
