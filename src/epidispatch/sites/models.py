"""Vaccination sites' opening sessions, their hourly slots, appointments (预约分流) and the
staff deployed to them (医护资源调配).

A site is an org unit of kind `site`; a Session is one opening of it on one day (a fixed
site's morning, a school's temporary point, a mobile team's village stop). Capacity is
held by a counter on each Slot that is only ever raised by a conditional UPDATE, so it
cannot be overbooked however many people book at once.
"""

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


class Qualification(models.Model):
    """Passed training (培训合格) for one role, valid until `expires_on` inclusive."""

    staff = models.ForeignKey(
        StaffMember,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="qualifications",
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    passed_on = models.DateField(_("passed on"))
    expires_on = models.DateField(_("expires on"))

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")

    def __str__(self) -> str:
        return f"{self.staff} {self.get_role_display()} → {self.expires_on}"


class RosterEntry(models.Model):
    """One person's post at one site for part of one day (排班)."""

    staff = models.ForeignKey(
        StaffMember, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="+"
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
