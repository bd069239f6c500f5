"""Key-population control (重点人群管控), first response to a positive (第一时间第一落点),
control areas (管控区) and emergency plans (应急预案).

Every number a measure depends on (days of each phase, test days, the days without a new
case that lower an area) is data in a policy version (`ControlPolicy`), never code. A case
copies its phases, as dates, from the version in force on its registration day
(`ControlCase.plan`), so a later version never moves a case registered under an earlier
one. Every hot table carries `county_code` (DESIGN.md §5).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.core.feeds import CurrentTxid
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident


class Category(models.TextChoices):
    """Why a person is under control (人员类别)."""

    CLOSE_CONTACT = "close_contact", _("Close contact (密接)")
    SECONDARY_CONTACT = "secondary_contact", _("Secondary contact (次密接)")
    HIGH_RISK_ARRIVAL = "high_risk_arrival", _("Arrival from a high-risk area")
    MEDIUM_RISK_ARRIVAL = "medium_risk_arrival", _("Arrival from a medium-risk area")
    INBOUND = "inbound", _("Inbound traveller")


#: The categories a positive case's contacts are confirmed as.
CONTACT_CATEGORIES = (Category.CLOSE_CONTACT, Category.SECONDARY_CONTACT)


class Measure(models.TextChoices):
    """管控措施: what a phase of a case asks of the person."""

    CENTRALIZED_ISOLATION = "centralized_isolation", _("Centralized isolation")
    HOME_ISOLATION = "home_isolation", _("Home isolation")
    HOME_MONITORING = "home_monitoring", _("Home health monitoring")


class Source(models.TextChoices):
    """Where the platform learnt of the person (来源)."""

    PUSHED = "pushed", _("List pushed by a higher level (协查推送)")
    CHECKPOINT = "checkpoint", _("Checkpoint (二码联查)")
    SELF_REPORT = "self_report", _("Self-report")
    TRACING = "tracing", _("Tracing of a positive case")


class ControlPolicy(models.Model):
    """A version of the national control plan (第九版, 二十条 …), in force from its date
    until the next version's."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    effective_from = models.DateField(_("effective from"), unique=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("control policy version")
        verbose_name_plural = _("control policy versions")
        ordering = ["effective_from"]

    def __str__(self) -> str:
        return f"{self.name} ({self.effective_from})"


class PolicyPhase(models.Model):
    """One phase of the measures a version gives a category: a category with no phase in
    a version is not managed by it (refused at registration)."""

    policy = models.ForeignKey(
        ControlPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="phases"
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    position = models.PositiveSmallIntegerField(_("order"))
    measure = models.CharField(_("measure"), max_length=24, choices=Measure.choices)
    days = models.PositiveSmallIntegerField(_("days"))
    test_days = models.JSONField(
        _("test days"), default=list, blank=True, help_text=_("days of the phase, from 1")
    )

    class Meta:
        verbose_name = _("policy phase")
        verbose_name_plural = _("policy phases")
        ordering = ["policy", "category", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "category", "position"], name="policy_phase_unique"
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="policy_phase_days"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} · {self.get_category_display()} · {self.days}d"


class AreaLevel(models.TextChoices):
    HIGH = "high", _("High-risk area")
    MEDIUM = "medium", _("Medium-risk area")
    LOW = "low", _("Low-risk area")


class AreaRule(models.Model):
    """How a control area is lowered: after `days` in a row without a new case, an area
    of `level` becomes `becomes`."""

    policy = models.ForeignKey(
        ControlPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="area_rules"
    )
    level = models.CharField(_("level"), max_length=8, choices=AreaLevel.choices)
    days = models.PositiveSmallIntegerField(_("days without a new case"))
    becomes = models.CharField(_("becomes"), max_length=8, choices=AreaLevel.choices)

    class Meta:
        verbose_name = _("area downgrade rule")
        verbose_name_plural = _("area downgrade rules")
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="area_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} · {self.level} → {self.becomes} ({self.days}d)"


class KeyPerson(models.Model):
    """重点人员: a person the control group follows, matched to the resident registry when
    they live here, else registered as a non-resident at an address in a grid. The same
    person may have several cases over time."""

    name = models.CharField(_("name"), max_length=60)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    phone_digest = models.CharField(_("phone lookup key"), max_length=64, blank=True)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=~models.Q(id_number_digest=""),
                name="key_person_one_per_id_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class ControlCase(models.Model):
    """One stretch of measures of a key person: category, reference date (last exposure
    or arrival) and the phases, as dates, of the version in force on `registered_on`.

    `plan` is [{"measure", "first", "last", "test_days": [dates]}] in order; a recorded
    local decision (`extra_days`, stricter than the version) lengthens the last phase.
    """

    person = models.ForeignKey(
        KeyPerson, verbose_name=_("person"), on_delete=models.PROTECT, related_name="cases"
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reference_date = models.DateField(_("last exposure or arrival"))
    registered_on = models.DateField(_("registered on"))
    policy = models.ForeignKey(
        ControlPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    plan = models.JSONField(_("phases"))
    ends_on = models.DateField(_("last phase ends on"), db_index=True)
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    positive = models.ForeignKey(
        "PositiveCase",
        verbose_name=_("traced from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_cases",
    )
    transferred_on = models.DateField(_("transferred on"), null=True, blank=True)
    isolation_place = models.CharField(_("isolation place"), max_length=100, blank=True)
    extra_days = models.PositiveSmallIntegerField(_("days added by local decision"), default=0)
    local_decision = models.CharField(_("local decision"), max_length=200, blank=True)
    local_decision_on = models.DateField(_("decided on"), null=True, blank=True)
    released_on = models.DateField(_("released on"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("control case")
        verbose_name_plural = _("control cases")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category", "reference_date"], name="control_case_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(extra_days=0) | ~models.Q(local_decision=""),
                name="control_case_stricter_only_by_decision",
            ),
        ]
        indexes = [models.Index(fields=["grid", "ends_on"], name="control_case_grid_end")]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_category_display()} · {self.reference_date}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class ChangeKind(models.TextChoices):
    """What happened to a case, as the key-person change feed names it."""

    REGISTERED = "registered", _("Put under measures")
    TRANSFERRED = "transferred", _("Transferred to centralized isolation")
    EXTENDED = "extended", _("Measures lengthened by local decision")
    RELEASED = "released", _("Released")


class CaseChange(models.Model):
    """One change of a case, appended by the service that makes it, in its transaction:
    what the key-person change feed (GET /api/v1/changes/key-persons) gives a follower
    after its cursor, oldest first. A row is never changed: it holds the phases and end
    as they stood after the change, so reading the feed again answers the same."""

    case = models.ForeignKey(
        ControlCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ChangeKind.choices)
    day = models.DateField(_("day"))
    plan = models.JSONField(_("phases"))
    ends_on = models.DateField(_("last phase ends on"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    # The transaction that wrote the change (core.feeds): the feed's order.
    txid = models.BigIntegerField(
        _("writing transaction"), null=True, blank=True, editable=False, db_default=CurrentTxid()
    )

    class Meta:
        verbose_name = _("case change")
        verbose_name_plural = _("case changes")
        indexes = [models.Index(fields=["txid", "id"], name="case_change_feed_order")]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()} · {self.day}"


class HealthCheck(models.Model):
    """A daily health check-in (健康监测打卡) of a person under measures."""

    case = models.ForeignKey(
        ControlCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="checks"
    )
    day = models.DateField(_("day"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("health check-in")
        verbose_name_plural = _("health check-ins")
        constraints = [
            models.UniqueConstraint(fields=["case", "day"], name="health_check_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.case.person} · {self.day} · {self.temperature}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (the case's grid)."""
        return {"unit_path": self.case.grid.path}


class TestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class CaseTest(models.Model):
    """A nucleic-acid test of a person under measures on one of their test days (entered
    here, or given by the screening module through `services.case_test_record`)."""

    case = models.ForeignKey(
        ControlCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="tests"
    )
    day = models.DateField(_("day"))
    result = models.CharField(_("result"), max_length=8, choices=TestResult.choices)
    source = models.CharField(_("source"), max_length=40, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("test of a case")
        verbose_name_plural = _("tests of cases")
        constraints = [
            models.UniqueConstraint(fields=["case", "day"], name="case_test_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.case.person} · {self.day} · {self.get_result_display()}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (the case's grid)."""
        return {"unit_path": self.case.grid.path}


class ResponseStep(models.TextChoices):
    """第一时间第一落点: the first-hour checklist of a positive case, in order."""

    REPORT = "report", pgettext_lazy("first response", "Report")
    TRACE = "trace", pgettext_lazy("first response", "Trace")
    CONTROL = "control", pgettext_lazy("first response", "Control")
    TEST = "test", pgettext_lazy("first response", "Test")


class PositiveCase(models.Model):
    """A positive person (阳性感染者) and the first response around them."""

    person = models.ForeignKey(
        KeyPerson, verbose_name=_("person"), on_delete=models.PROTECT, related_name="positives"
    )
    found_on = models.DateField(_("found on"))
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("positive case")
        verbose_name_plural = _("positive cases")

    def __str__(self) -> str:
        return f"{self.person} · {self.found_on}"


class ResponseCheck(models.Model):
    """One ticked step of a positive case's first-hour checklist, with its time."""

    positive = models.ForeignKey(
        PositiveCase, verbose_name=_("positive case"), on_delete=models.CASCADE,
        related_name="steps",
    )  # fmt: skip
    step = models.CharField(_("step"), max_length=8, choices=ResponseStep.choices)
    done_at = models.DateTimeField(_("done at"))
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("done by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("first-response step")
        verbose_name_plural = _("first-response steps")
        constraints = [
            models.UniqueConstraint(fields=["positive", "step"], name="response_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.positive} · {self.get_step_display()}"


class TrajectoryPoint(models.Model):
    """Where a positive person was, and when (流调轨迹)."""

    positive = models.ForeignKey(
        PositiveCase, verbose_name=_("positive case"), on_delete=models.CASCADE,
        related_name="trajectory",
    )  # fmt: skip
    place = models.CharField(_("place"), max_length=100)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("trajectory point")
        verbose_name_plural = _("trajectory points")
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")),
                name="trajectory_point_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.started_at:%m-%d %H:%M}"


class CandidateReason(models.TextChoices):
    POOLED_TUBE = "pooled_tube", _("Same pooled tube")
    CHECKPOINT = "checkpoint", _("Checkpoint record at the same place and time")
    ADDRESS = "address", _("Same address")
    HOUSEHOLD = "household", _("Same household")


class CandidateState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")


class ContactCandidate(models.Model):
    """A person the platform's data puts near a positive case, for the officer to confirm
    as 密接 or 次密接."""

    positive = models.ForeignKey(
        PositiveCase, verbose_name=_("positive case"), on_delete=models.CASCADE,
        related_name="candidates",
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=12, choices=CandidateReason.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    exposed_on = models.DateField(_("last exposure"))
    name = models.CharField(_("name"), max_length=60)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"))
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CandidateState.choices, default=CandidateState.PROPOSED
    )
    case = models.ForeignKey(
        ControlCase, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("contact candidate")
        verbose_name_plural = _("contact candidates")
        constraints = [
            models.UniqueConstraint(
                fields=["positive", "id_number_digest"], name="contact_candidate_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked} · {self.get_reason_display()}"


class ControlArea(models.Model):
    """管控区: a unit (or a list of addresses in it) at a risk level from `started_on`,
    lowered by its version's rules as days pass without a new case."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    addresses = models.TextField(_("addresses"), blank=True, help_text=_("one per line"))
    level = models.CharField(_("level at start"), max_length=8, choices=AreaLevel.choices)
    policy = models.ForeignKey(
        ControlPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("started on"))
    last_case_on = models.DateField(_("last new case on"))
    ended_on = models.DateField(_("lifted on"), null=True, blank=True)
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)

    class Meta:
        verbose_name = _("control area")
        verbose_name_plural = _("control areas")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="control_area_lifted_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def address_list(self) -> list[str]:
        """The addresses the area covers (empty: the whole unit)."""
        return [line.strip() for line in self.addresses.splitlines() if line.strip()]

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class ReadinessItem(models.TextChoices):
    """五个到位."""

    LEADERSHIP = "leadership", _("Organization and leadership")
    MECHANISM = "mechanism", _("Working mechanism")
    STAFF = "staff", _("Teams and staff")
    FUNDING = "funding", _("Funding")
    SUPPLIES = "supplies", _("Material reserves")


class PlanItem(models.Model):
    """One line of a unit's emergency plan (应急预案) readiness checklist."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    item = models.CharField(_("item"), max_length=12, choices=ReadinessItem.choices)
    ready = models.BooleanField(_("in place"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    checked_on = models.DateField(_("last checked on"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("checked by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("emergency plan item")
        verbose_name_plural = _("emergency plan items")
        constraints = [
            models.UniqueConstraint(fields=["unit", "item"], name="plan_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_item_display()}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}
