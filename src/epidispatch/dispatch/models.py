"""The daily dispatch (日调度): the cutoff snapshots of the live figures (`epidispatch.figures`)
and what is read from them: rankings, daily targets, bulletins."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.accountability.models import Accountability
from epidispatch.figures.models import AgeBand, Figures
from epidispatch.orgunits.models import OrgUnit


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
