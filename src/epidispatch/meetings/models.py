"""Dispatch meetings (调度会议) and what they set in motion.

A meeting of a series is numbered (第27次调度会议), held by an office (its `unit`, a county
or city) at a date and venues (主会场, 分会场), chaired by someone, with participating units,
and discusses the figures of one cutoff (`Snapshot`). The platform assembles its pack
(`MeetingPack`, see pack.py). Before it, each participating unit files a report (汇报,
`UnitReport`) by a deadline; at it, decisions become supervised action items (督办,
`ActionItem`) owned by a unit or a working group (一办十一组), who post progress with
attachments; only the issuing office confirms an item closed. An item still open past its
deadline goes to the next pack and becomes an accountability cause, once.

Responsibility (包联): `LeaderResponsibility` names the county leader answering for a town
or street (包乡镇分管领导); the department → grid side of 包抓 is `orgunits.Responsibility`.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.accountability.models import Accountability
from epidispatch.dispatch.models import Snapshot
from epidispatch.orgunits.models import OrgUnit


class WorkingGroup(models.Model):
    """A working group of the command structure (一办十一组: 综合协调组, 疫苗接种组 …) of an
    office's unit; it owns action items like a town or department does, and its members
    act for it."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("office unit"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        ordering = ["unit__code", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="working_group_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        return {"unit_path": self.unit.path}


class LeaderResponsibility(models.Model):
    """The leader in charge of a town or street (包乡镇分管领导, 包联): the pack groups the
    towns' figures, ranks and problems by leader, and the leader reports them."""

    town = models.ForeignKey(
        OrgUnit,
        verbose_name=_("town or street"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "town"},
    )
    leader_name = models.CharField(_("leader"), max_length=40)
    leader_title = models.CharField(_("title"), max_length=60, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("leader responsibility")
        verbose_name_plural = _("leader responsibilities")
        ordering = ["leader_name", "town__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["town", "leader_name"], name="leader_responsibility_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.leader_name} → {self.town.name}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.town.path}


class MeetingKind(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch meeting")
    TOPICAL = "topical", _("Topical meeting")
    LEADING_GROUP = "leading_group", _("Leading group meeting")


class MeetingSeries(models.Model):
    """Meetings numbered together (县疫苗接种工作调度会议: 第1次, 第2次 …)."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("office unit"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(
        _("kind"), max_length=16, choices=MeetingKind.choices, default=MeetingKind.DISPATCH
    )

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        ordering = ["unit__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="meeting_series_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        return {"unit_path": self.unit.path}


class Meeting(models.Model):
    series = models.ForeignKey(
        MeetingSeries, verbose_name=_("series"), on_delete=models.PROTECT, related_name="meetings"
    )
    number = models.PositiveIntegerField(pgettext_lazy("meeting", "number"))
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("office unit"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MeetingKind.choices)
    held_at = models.DateTimeField(pgettext_lazy("meeting", "held at"))
    chair = models.CharField(_("chair"), max_length=60, blank=True)
    main_venue = models.CharField(_("main venue"), max_length=100, blank=True)
    sub_venues = models.TextField(_("sub-venues"), blank=True, help_text=_("one per line"))
    snapshot = models.ForeignKey(
        Snapshot,
        verbose_name=_("cutoff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    participants = models.ManyToManyField(
        OrgUnit, verbose_name=_("participating units"), blank=True, related_name="+"
    )
    report_deadline = models.DateTimeField(_("reports due by"))
    minutes_number = models.PositiveIntegerField(_("minutes number"))
    summoned = models.ManyToManyField(
        Accountability, verbose_name=_("called in"), blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="meeting_number_unique")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return f"第{self.number}次{self.series.name}"

    @property
    def sub_venue_list(self) -> list[str]:
        return [line.strip() for line in self.sub_venues.splitlines() if line.strip()]

    def get_additional_data(self) -> dict:
        return {"unit_path": self.unit.path}


class UnitReport(models.Model):
    """A participating unit's report (汇报) for a meeting: progress, difficulties, next
    measures, due by the meeting's deadline. Filed after it: late; never filed once the
    deadline passed: missing. Both are flagged in the pack."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="reports"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("due by"))
    progress = models.TextField(_("progress"), blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    next_measures = models.TextField(_("next measures"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit report")
        verbose_name_plural = _("unit reports")
        ordering = ["meeting", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "unit"], name="one_report_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.unit.name}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.unit.path}

    @property
    def late(self) -> bool:
        return self.submitted_at is not None and self.submitted_at > self.deadline

    def missing(self, now=None) -> bool:
        return self.submitted_at is None and (now or timezone.now()) > self.deadline


class ItemState(models.TextChoices):
    OPEN = "open", pgettext_lazy("action item", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("action item", "In progress")
    CLOSED = "closed", pgettext_lazy("action item", "Closed")


OPEN_ITEM_STATES = (ItemState.OPEN, ItemState.IN_PROGRESS)


class ActionItem(models.Model):
    """A decision of a meeting to be carried out (督办事项): its owner (a unit or a working
    group), deadline and the evidence that shows it done. The owner posts progress; the
    issuing office (the meeting's unit) confirms it closed, never the owner itself."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="items"
    )
    number = models.PositiveSmallIntegerField(pgettext_lazy("meeting", "number"))
    decision = models.TextField(pgettext_lazy("meeting", "decision"))
    owner_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("owner unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner_group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("owner working group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
    )
    deadline = models.DateField(_("deadline"))
    evidence_required = models.CharField(_("evidence required"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=ItemState.choices, default=ItemState.OPEN
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closure confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(
        pgettext_lazy("action item", "closed at"), null=True, blank=True
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    #: A path copied from the owner (its unit, or the group's office unit), so that scoped
    #: reads filter items with one indexed prefix, whoever owns them.
    owner_path = models.CharField(_("owner path"), max_length=255, editable=False)
    cases = GenericRelation(
        Accountability,
        content_type_field="cause_type",
        object_id_field="cause_id",
        related_query_name="action_item",
    )

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["deadline", "meeting_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="action_item_number"),
            models.CheckConstraint(
                condition=models.Q(owner_unit__isnull=False, owner_group__isnull=True)
                | models.Q(owner_unit__isnull=True, owner_group__isnull=False),
                name="action_item_one_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "deadline"], name="action_item_state_deadline"),
            models.Index(
                fields=["owner_path"],
                name="action_item_owner_path",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} #{self.number}: {self.decision[:30]}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.owner_path}

    @property
    def owner_name(self) -> str:
        return self.owner_unit.name if self.owner_unit_id else self.owner_group.name

    def overdue_on(self, day) -> bool:
        return self.state != ItemState.CLOSED and self.deadline < day

    @property
    def overdue(self) -> bool:
        return self.overdue_on(timezone.localdate())


class ProgressPost(models.Model):
    """What the owner reports on an item (进展), with its attachments."""

    item = models.ForeignKey(
        ActionItem, verbose_name=_("action item"), on_delete=models.CASCADE, related_name="posts"
    )
    note = models.TextField(_("progress"))
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("posted at"))

    class Meta:
        verbose_name = _("progress post")
        verbose_name_plural = _("progress posts")
        ordering = ["posted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.item} · {self.posted_at:%Y-%m-%d %H:%M}"

    def get_additional_data(self) -> dict:
        return {"unit_path": self.item.owner_path}


class Attachment(models.Model):
    """A file of a progress post (a photo, a PDF, an Office document), checked by its
    bytes, stored under a random name and served only by a scoped view."""

    post = models.ForeignKey(
        ProgressPost,
        verbose_name=_("progress post"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), max_length=200)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=80)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name
