"""Nucleic-acid screening (核酸筛查): rounds, tubes and the people sampled into them.

A round's target list (应检尽检) is frozen when the round is created, so a resident who
moves away afterwards still counts against it. Each target row carries derived flags
(sampled, in a positive pool, single-tube result) that the services refresh for the people
a write touches, so coverage is one aggregate over the target list instead of a join over
every sample (see `services.targets_refresh`). Every hot table carries `county_code`.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident

#: Tube capacities allowed (混采: 10混1 by default, 5 or 20; 1 is a single tube).
CAPACITIES = (1, 5, 10, 20)
DEFAULT_CAPACITY = 10
#: The national guide (区域核酸检测组织实施指南, 第三版): every report within 24 hours of the
#: round's start; tubes reach the lab within 4 hours of collection (送检时限).
ROUND_HOURS = 24
SEND_WITHIN = timedelta(hours=4)
#: The collection window a round gets when none is given (a day's work at the points).
DEFAULT_WINDOW = ((7, 0), (19, 0))


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class ScreeningRound(models.Model):
    """One round (轮次) over a unit on a day; its target list is frozen at creation."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    name = models.CharField(_("name"), max_length=100)
    day = models.DateField(_("day"))
    starts_at = models.DateTimeField(_("collection starts"))
    ends_at = models.DateTimeField(_("collection ends"))
    pool_size = models.PositiveSmallIntegerField(
        _("default tube capacity"), default=DEFAULT_CAPACITY
    )
    target_size = models.PositiveIntegerField(_("people on the target list"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("screening round")
        verbose_name_plural = _("screening rounds")
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pool_size__in=CAPACITIES), name="round_pool_size_allowed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.day})"

    @property
    def deadline(self):
        """Every report is due 24 hours after the round starts."""
        return self.starts_at + timedelta(hours=ROUND_HOURS)

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class RoundTarget(models.Model):
    """A person on a round's target list, with the grid they lived in at creation.

    Its flags change as samples and results arrive; the table keeps free space in its
    pages (fillfactor 45, migrations 0002 and 0005) so those updates touch no index (HOT
    updates), even when a sample file marks every person of a page in one transaction."""

    round = models.ForeignKey(
        ScreeningRound,
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (round, resident) and (round, grid_path) indexes lead with it
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    grid_path = models.CharField(_("grid path"), max_length=255)
    sampled = models.BooleanField(_("sampled"), default=False)
    in_positive_pool = models.BooleanField(_("in a positive pooled tube"), default=False)
    single_result = models.CharField(
        _("single-tube result"), max_length=8, choices=Result.choices, blank=True
    )

    class Meta:
        verbose_name = _("target person")
        verbose_name_plural = _("target list")
        constraints = [
            models.UniqueConstraint(fields=["round", "resident"], name="round_target_unique"),
        ]
        indexes = [
            models.Index(
                fields=["round", "grid_path"],
                name="round_target_grid",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.resident_id}"


class AreaPart(models.TextChoices):
    PEOPLE = "people", _("People of a grid")
    TUBES = "tubes", _("Tubes whose people all live under a unit")


class RoundArea(models.Model):
    """The round's figures kept per place, so a city's coverage sums a few thousand rows
    instead of a million: people per grid of the target list, and tubes per their
    `common_path`. Rewritten from the raw rows for the places a write touches
    (`services.areas_refresh`); a tube spanning a unit and its outside is added at read
    time (`selectors.round_coverage`)."""

    round = models.ForeignKey(
        ScreeningRound,
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    part = models.CharField(_("part"), max_length=8, choices=AreaPart.choices)
    path = models.CharField(_("path"), max_length=255)
    target = models.PositiveIntegerField(default=0)
    sampled = models.PositiveIntegerField(default=0)
    retest_pending = models.PositiveIntegerField(default=0)
    retest_positive = models.PositiveIntegerField(default=0)
    tubes = models.PositiveIntegerField(default=0)
    tubes_reported = models.PositiveIntegerField(default=0)
    positive_tubes = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("round figures of a place")
        verbose_name_plural = _("round figures of places")
        constraints = [
            models.UniqueConstraint(fields=["round", "part", "path"], name="round_area_unique"),
        ]
        indexes = [
            models.Index(
                fields=["round", "path"],
                name="round_area_path",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.part} · {self.path}"


class TubeStatus(models.TextChoices):
    COLLECTING = "collecting", pgettext_lazy("tube", "Collecting")
    WAITING = "waiting", _("Waiting to be sent")  # 待送检
    SENT = "sent", _("Sent")  # 已送检
    DONE = "done", pgettext_lazy("tube", "Done")  # 已完成


class Tube(models.Model):
    """A sampling tube (采样管), pooled (混采) or single, with the chain's timestamps:
    collected → sent → received → tested → reported."""

    round = models.ForeignKey(
        ScreeningRound,
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="tubes",
        db_index=False,  # the unique (round, barcode) index leads with it
    )
    county_code = models.CharField(_("county code"), max_length=6)
    barcode = models.CharField(_("tube barcode"), max_length=40)
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    members = models.PositiveSmallIntegerField(_("people in the tube"), default=0)
    point = models.CharField(_("collection point"), max_length=100, blank=True)
    collected_at = models.DateTimeField(_("first sample at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    courier = models.CharField(_("courier"), max_length=60, blank=True)
    box = models.CharField(_("transport box"), max_length=40, blank=True)
    received_at = models.DateTimeField(_("received by the lab at"), null=True, blank=True)
    tested_at = models.DateTimeField(_("tested at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    lab = models.CharField(_("lab"), max_length=100, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    #: The deepest unit path holding every target person in the tube ("" when it holds
    #: none): where the tube counts in the round's figures (see RoundArea).
    common_path = models.CharField(_("common unit path"), max_length=255, blank=True)
    #: A result arrived for a tube nobody recorded as received (see services).
    result_before_receipt = models.BooleanField(_("result before receipt"), default=False)

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        constraints = [
            models.UniqueConstraint(fields=["round", "barcode"], name="tube_barcode_unique"),
            models.CheckConstraint(
                condition=models.Q(capacity__in=CAPACITIES), name="tube_capacity_allowed"
            ),
            models.CheckConstraint(
                condition=models.Q(members__lte=models.F("capacity")),
                name="tube_members_within_capacity",
            ),
        ]
        indexes = [
            models.Index(
                fields=["round", "common_path"],
                name="tube_round_common_path",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.barcode

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (the round's unit)."""
        return {"unit_path": self.round.unit.path}

    @property
    def is_single(self) -> bool:
        return self.capacity == 1

    @property
    def status(self) -> str:
        if self.reported_at:
            return TubeStatus.DONE
        if self.sent_at:
            return TubeStatus.SENT
        if self.closed_at:
            return TubeStatus.WAITING
        return TubeStatus.COLLECTING

    def late_send(self, now=None) -> bool:
        """Sent more than 4 hours after its first sample (or still not sent by then)."""
        if self.collected_at is None:
            return False
        return ((self.sent_at or now or timezone.now()) - self.collected_at) > SEND_WITHIN

    def late_report(self, now=None) -> bool:
        """Reported after the round's 24-hour deadline (or not reported and past it)."""
        return (self.reported_at or now or timezone.now()) > self.round.deadline


def digest_key(digest: str) -> int:
    """The first 60 bits of a lookup digest (64 hex characters) as an integer: what the
    (round, digest_key) index holds instead of the whole digest (see `Sample`)."""
    return int(digest[:DIGEST_KEY_HEX], 16)


#: Hex characters of the digest in `Sample.digest_key` (15 × 4 = 60 bits: always a
#: positive bigint, the same in PostgreSQL as ``('x' || left(digest, 15))::bit(60)::bigint``).
DIGEST_KEY_HEX = 15


class DigestKeyField(models.BigIntegerField):
    """`Sample.digest_key`, computed from the row's digest whenever the ORM saves it (save,
    create, bulk_create); a COPY (`imports`) writes it from the frame."""

    def pre_save(self, model_instance, add):
        value = digest_key(model_instance.id_number_digest)
        setattr(model_instance, self.attname, value)
        return value


class Sample(models.Model):
    """One person bound to one tube. Travellers not in the registry are sampled too
    (`resident` empty) but never counted in coverage."""

    #: Indexes are few on purpose (a round writes a million rows): the round and the tube
    #: are reached through the composite indexes below, which lead with them; the target
    #: path is read only through a tube (`selectors.round_coverage`), so it has none.
    round = models.ForeignKey(
        ScreeningRound,
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    tube = models.ForeignKey(
        Tube,
        verbose_name=_("tube"),
        on_delete=models.CASCADE,
        related_name="samples",
        db_index=False,
    )
    county_code = models.CharField(_("county code"), max_length=6)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=60)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64)
    #: The digest's first 60 bits, for the (round, digest_key) index: a person's samples in
    #: a round are found by it and then by the digest. A 64-character key made that index
    #: 100 MB for a round of a million people, written at random places on import
    #: (bench/RESULTS.md, "Screening, round 3").
    digest_key = DigestKeyField(_("ID number lookup key prefix"), editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    #: The target grid's path when the person is on the round's target list, else empty.
    target_grid_path = models.CharField(_("target grid path"), max_length=255, blank=True)
    collected_at = models.DateTimeField(_("collected at"))
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        constraints = [
            models.UniqueConstraint(fields=["tube", "id_number_digest"], name="sample_unique"),
        ]
        indexes = [
            models.Index(fields=["round", "digest_key"], name="sample_round_person_key"),
        ]

    def __str__(self) -> str:
        return f"{self.tube} · {self.name} {self.id_number_masked}"


class MissedReason(models.TextChoices):
    """Why a person on the target list was not sampled, as the grid worker found it."""

    AWAY = "away", _("Away")
    BEDRIDDEN = "bedridden", _("Bedridden: sample at home (上门采样)")
    REFUSED = "refused", _("Refused")
    OTHER = "other", _("Other")


class MissedSample(models.Model):
    """A grid worker's note on someone of the 未检 list (append-only; the latest counts)."""

    round = models.ForeignKey(
        ScreeningRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="+"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    reason = models.CharField(_("reason"), max_length=12, choices=MissedReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reason not sampled")
        verbose_name_plural = _("reasons not sampled")

    def __str__(self) -> str:
        return f"{self.round} · {self.resident_id} · {self.reason}"


# Periodic testing of key groups (重点人群定期检测) ------------------------------------------


class GroupKind(models.TextChoices):
    """The key industries whose workers are tested on a schedule (应检尽检 of 从业人员)."""

    COLD_CHAIN = "cold_chain", _("Cold chain and imported goods")  # 冷链、进口物品
    MEDICAL = "medical", _("Medical institutions")  # 医疗机构
    TRANSPORT = "transport", _("Transport hubs")  # 交通场站
    DELIVERY = "delivery", _("Couriers and delivery")  # 快递外卖
    MARKET = "market", _("Markets and supermarkets")  # 农贸市场、商超
    SCHOOL = "school", _("Schools")  # 学校
    HOTEL = "hotel", _("Hotels and isolation sites")  # 宾馆、隔离点
    OTHER = "other", _("Other key industry")


#: How often a group may be tested: every day up to once a month.
EVERY_DAYS = (1, 30)


class TestingGroup(models.Model):
    """A key group tested every N days (重点人群定期检测), kept by a unit: typically an
    industry grid (行业网格), or a town or county for a key-place category."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("kept by"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("industry"), max_length=12, choices=GroupKind.choices)
    every_days = models.PositiveSmallIntegerField(_("test every (days)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("key group")
        verbose_name_plural = _("key groups")
        ordering = ["unit__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="testing_group_unique_name"),
            models.CheckConstraint(
                condition=models.Q(every_days__gte=EVERY_DAYS[0], every_days__lte=EVERY_DAYS[1]),
                name="testing_group_every_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class GroupMember(models.Model):
    """A resident in a key group (through their employer); leaving keeps the row with its
    day, so the list of who was in the group stays."""

    group = models.ForeignKey(
        TestingGroup,
        verbose_name=_("key group"),
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,  # the unique (group, resident) index leads with it
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("key group member")
        verbose_name_plural = _("key group members")
        constraints = [
            models.UniqueConstraint(fields=["group", "resident"], name="group_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.resident_id}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.group.unit.path}
