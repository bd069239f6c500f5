"""The resident registry (常住人口): who lives in which grid.

ID number and phone are never stored in clear (see `epidispatch.core.protection`): each
has an encrypted copy, a keyed digest for exact-match lookup and a masked form for display.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from epidispatch.orgunits.models import OrgUnit


class ResidentStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    AWAY = "away", _("Away, with proof")
    CONTRAINDICATED = "contraindicated", _("Contraindicated")
    REFUSED = "refused", _("Refused")
    DECEASED = "deceased", _("Deceased")
    MOVED_OUT = "moved_out", _("Moved out")


#: Statuses that take a resident off the 清零 list: vaccinated elsewhere (away, with proof),
#: medically exempt, or no longer living here.
EXCUSED_STATUSES = (
    ResidentStatus.AWAY,
    ResidentStatus.CONTRAINDICATED,
    ResidentStatus.DECEASED,
    ResidentStatus.MOVED_OUT,
)


class UnvaccinatedReason(models.TextChoices):
    """未接种原因, coded as the provincial systems code them; each has its own remedy."""

    UNWILLING = "1", _("Unwilling (无接种意愿)")
    CONTRAINDICATED = "2", _("Contraindicated (接种禁忌)")
    NO_RESOURCE = "3", _("Willing, no vaccine or slot (有意愿无资源)")
    REGISTERED = "4", _("Registered, not yet vaccinated (已报名未接种)")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Resident(models.Model):
    name = models.CharField(_("name"), max_length=60)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64, unique=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"))
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_digest = models.CharField(_("phone lookup key"), max_length=64, blank=True, db_index=True)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": "grid"},
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.PRESENT
    )
    unvaccinated_reason = models.CharField(
        _("reason not vaccinated"), max_length=1, choices=UnvaccinatedReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class Household(models.Model):
    """户: the residents who live together at one address of a grid (同住人员).

    The §7 resident file is a contract and carries no household, so households have their
    own file (docs/households.md) and the grid worker's page. A household is known by its
    grid and its address as the grid writes it; it is what "the same household" means when
    control proposes the contacts of a positive case.
    """

    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"kind": "grid"},
    )
    address = models.CharField(_("address"), max_length=200)
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["grid", "address"], name="household_one_per_address"),
            models.CheckConstraint(condition=~models.Q(address=""), name="household_has_address"),
        ]

    def __str__(self) -> str:
        return self.address

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class HouseholdMember(models.Model):
    """A resident's place in a household: a resident lives in one household at most."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="members"
    )
    resident = models.OneToOneField(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="household"
    )
    relation = models.CharField(_("relation to the head"), max_length=20, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")

    def __str__(self) -> str:
        return f"{self.household} · {self.resident}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.household.grid.path}
