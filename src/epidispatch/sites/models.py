"""Vaccination sites' opening sessions, their hourly slots, appointments (预约分流) and the
staff deployed to them (医护资源调配), their training (培训) and the checks of their
equipment (cold chain, emergency kit, generator).

A site is an org unit of kind `site`; a Session is one opening of it on one day (a fixed
site's morning, a school's temporary point, a mobile team's village stop). Capacity is
held by a counter on each Slot that is only ever raised by a conditional UPDATE, so it
cannot be overbooked however many people book at once.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident


class SiteKind(models.TextChoices):
    FIXED = "fixed", _("Fixed site")
    TEMPORARY = "temporary", _("Temporary site (school, workplace, village)")
    MOBILE = "mobile", _("Mobile team")


class Session(models.Model):
    site = models.ForeignKey(
        OrgUnit,
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "site"},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=SiteKind.choices)
    place = models.CharField(_("place"), max_length=100, blank=True)
    day = models.DateField(_("day"))
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    capacity_per_hour = models.PositiveSmallIntegerField(_("capacity per hour"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["day", "opens_at"]
        indexes = [models.Index(fields=["site", "day"], name="session_site_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="session_opens_before_it_closes",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.day} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.site.path}


class Slot(models.Model):
    """One hour of a session; `booked` counts the appointments holding it."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="slots"
    )
    starts_at = models.TimeField(_("starts at"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    class Meta:
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "starts_at"], name="slot_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%H:%M}"

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in, waiting")
    VACCINATED = "vaccinated", pgettext_lazy("appointment", "Vaccinated")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


#: States that hold a place in a slot and count as the person's booking for the day.
HOLDING_STATES = (AppointmentState.BOOKED, AppointmentState.CHECKED_IN, AppointmentState.VACCINATED)


class Appointment(models.Model):
    slot = models.ForeignKey(
        Slot, verbose_name=_("time slot"), on_delete=models.PROTECT, related_name="appointments"
    )
    site = models.ForeignKey(
        OrgUnit, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=AppointmentState.choices, default="booked"
    )
    walk_in = models.BooleanField(_("walk-in"), default=False)
    group = models.CharField(_("group"), max_length=100, blank=True)
    transport = models.CharField(_("transport"), max_length=100, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["day", "slot__starts_at", "id"]
        indexes = [models.Index(fields=["site", "day", "state"], name="appointment_site_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "day"],
                condition=models.Q(state__in=HOLDING_STATES),
                name="one_appointment_per_person_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.day} {self.slot}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.site.path}


class BookingCode(models.Model):
    """A one-time code sent to the phone on file, so a resident books without an account.

    Only a digest of the code is kept; it expires, and a few wrong guesses burn it."""

    MAX_ATTEMPTS = 5
    VALID_MINUTES = 10

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="+"
    )
    code_digest = models.CharField(_("code digest"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used = models.BooleanField(_("used"), default=False)

    class Meta:
        verbose_name = _("booking code")
        verbose_name_plural = _("booking codes")

    def __str__(self) -> str:
        return f"{self.resident} {self.expires_at:%H:%M}"


class StaffRole(models.TextChoices):
    VACCINATOR = "vaccinator", _("Vaccinator")
    REGISTRAR = "registrar", _("Registrar")
    OBSERVING_DOCTOR = "observing_doctor", _("Observing doctor")
    SAMPLE_COLLECTOR = "sample_collector", _("Sample collector")
    DRIVER = "driver", _("Driver")


#: Posts that only a person with a valid qualification (培训合格) for them may take.
QUALIFIED_ROLES = (
    StaffRole.VACCINATOR,
    StaffRole.OBSERVING_DOCTOR,
    StaffRole.SAMPLE_COLLECTOR,
)


class StaffMember(models.Model):
    name = models.CharField(_("name"), max_length=60)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("home unit"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class Qualification(models.Model):
    """Passed training (培训合格) for one role, valid until `expires_on` inclusive; from a
    training session the person passed, or recorded from a certificate they hold."""

    staff = models.ForeignKey(
        StaffMember,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="qualifications",
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    passed_on = models.DateField(_("passed on"))
    expires_on = models.DateField(_("expires on"))
    training = models.ForeignKey(
        "TrainingSession",
        verbose_name=_("training session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="qualifications",
    )

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "training"],
                condition=models.Q(training__isnull=False),
                name="one_qualification_per_training",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_role_display()} → {self.expires_on}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.staff.unit.path}


class RosterEntry(models.Model):
    """One person's post at one site for part of one day (排班)."""

    staff = models.ForeignKey(
        StaffMember,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        related_name="roster_entries",
    )
    site = models.ForeignKey(
        OrgUnit, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    day = models.DateField(_("day"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        ordering = ["day", "starts_at"]
        indexes = [models.Index(fields=["site", "day"], name="roster_site_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="roster_starts_before_it_ends",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_role_display()} {self.site.name} {self.day}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.site.path}


class TrainingSession(models.Model):
    """A training (接种人员培训) for one post; who passes it is qualified for that post
    from the day it was held for `valid_months` months."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    role = models.CharField(_("qualifies for"), max_length=20, choices=StaffRole.choices)
    held_on = models.DateField(_("held on"))
    valid_months = models.PositiveSmallIntegerField(_("valid for (months)"), default=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_months__gte=1, valid_months__lte=60),
                name="training_valid_1_to_60_months",
            )
        ]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class TrainingAttendance(models.Model):
    """One person at a training session, and whether they passed its assessment."""

    training = models.ForeignKey(
        TrainingSession,
        verbose_name=_("training session"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    staff = models.ForeignKey(
        StaffMember, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(_("passed"), default=False)

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendances")
        ordering = ["staff__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["training", "staff"], name="one_attendance_per_training"
            )
        ]

    def __str__(self) -> str:
        return f"{self.training} {self.staff}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.training.unit.path}


class EquipmentKind(models.TextChoices):
    FRIDGE = "fridge", _("Cold-chain refrigerator")
    EMERGENCY_KIT = "emergency_kit", _("Emergency kit")
    GENERATOR = "generator", _("Generator")


#: The cold chain's range (°C, inclusive): vaccines are kept between 2 and 8 °C.
FRIDGE_RANGE = (Decimal("2.0"), Decimal("8.0"))


class Equipment(models.Model):
    """A piece of a site's equipment that is checked regularly (配足配齐人员设备)."""

    site = models.ForeignKey(
        OrgUnit,
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "site"},
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EquipmentKind.choices)
    label = models.CharField(_("label"), max_length=60)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["site", "label"], name="equipment_unique_label")
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.label}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.site.path}


class EquipmentCheck(models.Model):
    """One check of a piece of equipment: a refrigerator's temperature (冷链温度记录), an
    emergency kit complete and in date, a generator that starts. `out_of_range` is set
    by the service from the reading, so every list flags the same checks."""

    equipment = models.ForeignKey(
        Equipment, verbose_name=_("equipment"), on_delete=models.PROTECT, related_name="checks"
    )
    checked_at = models.DateTimeField(_("checked at"))
    temperature = models.DecimalField(
        pgettext_lazy("refrigerator", "temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
    )
    working = models.BooleanField(_("in order"))
    out_of_range = models.BooleanField(_("out of range"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("equipment check")
        verbose_name_plural = _("equipment checks")
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["equipment", "-checked_at"], name="equipment_check_latest")]

    def __str__(self) -> str:
        return f"{self.equipment.label} {self.checked_at:%Y-%m-%d %H:%M}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.equipment.site.path}
