"""The live figures (实时数据): one Rollup row per grid and age band, a leaf of the tree.

A subtree's figures are the sum of its leaves (one indexed prefix query on the copied
path). Updating a county row for every dose would make 200 concurrent writers queue on
one row lock; a leaf row is shared only by the writers of one grid and band.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

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
