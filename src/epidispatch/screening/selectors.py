"""Reads of nucleic-acid screening, scoped to the acting user first.

A user sees the rounds over units inside their scope and the rounds over the units
their scope lies in (a grid worker sees the town's round, but only their grid's people).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, TextChoices
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.core.scoping import path_in_scope, paths_q, role_paths, scope_paths, scope_q
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit
from epidispatch.orgunits.selectors import child_code_under, unit_for_user

from .models import (
    SEND_WITHIN,
    GroupMember,
    MissedSample,
    Result,
    RoundArea,
    RoundTarget,
    Sample,
    ScreeningRound,
    TestingGroup,
    Tube,
)
from .rules import GROUP_UNIT_KINDS, OFFICER_ROLES

#: The §8 figures, in the order the command prints them.
FIGURES = (
    "target",
    "sampled",
    "not_sampled",
    "tubes",
    "tubes_reported",
    "positive_tubes",
    "retest_pending",
    "retest_positive",
)


def _ancestor_paths(paths) -> set[str]:
    ancestors = set()
    for path in paths:
        parts = path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)
        for end in range(1, len(parts)):
            ancestors.add(PATH_SEPARATOR.join(parts[:end]) + PATH_SEPARATOR)
    return ancestors


def rounds_visible_to(user):
    """Rounds over a unit inside the user's scope or above it, newest first."""
    paths = scope_paths(user)
    if not paths:
        return ScreeningRound.objects.none()
    return (
        ScreeningRound.objects.filter(
            scope_q(user, "unit__path") | Q(unit__path__in=_ancestor_paths(paths))
        )
        .select_related("unit")
        .order_by("-day", "-id")
    )


def units_for_new_rounds(user, kinds):
    """The units of these kinds on which the user may open a round (an officer's)."""
    return OrgUnit.objects.filter(paths_q(role_paths(user, OFFICER_ROLES)), kind__in=kinds)


def round_for_user(user, pk: int) -> ScreeningRound:
    try:
        return rounds_visible_to(user).get(pk=pk)
    except ScreeningRound.DoesNotExist:
        message = _("No screening round %(round)s within your units.") % {"round": pk}
        raise Http404(message) from None


def tube_scanned(screening_round: ScreeningRound, barcode: str) -> Tube | None:
    """The round's tube of this barcode as scanned or typed (surrounding blanks and a
    scanner's unprintable characters ignored), or None; whoever asks (the round is
    already one of the user's)."""
    barcode = "".join(ch for ch in barcode if ch.isprintable()).strip()
    if not 0 < len(barcode) <= Tube._meta.get_field("barcode").max_length:
        return None
    return Tube.objects.filter(round=screening_round, barcode=barcode).first()


def tube_in_round(screening_round: ScreeningRound, barcode: str) -> Tube:
    """The round's tube of this barcode (`tube_scanned`), 404 when there is none."""
    tube = tube_scanned(screening_round, barcode)
    if tube is None:
        raise Http404(_("No tube %(barcode)s in this round.") % {"barcode": barcode})
    return tube


def round_area(user, screening_round: ScreeningRound, code: str | None = None) -> OrgUnit:
    """The unit whose figures the user asks for: `code`, else the round's unit, else (for
    someone working below it, a grid worker) the user's own unit under the round's. It
    must be in the user's scope (404 otherwise)."""
    if code:
        return unit_for_user(user, code)
    unit = screening_round.unit
    if path_in_scope(user, unit.path):
        return unit
    own = OrgUnit.objects.filter(
        path__in=[p for p in scope_paths(user) if p.startswith(unit.path)]
    ).first()
    if own is None:
        raise Http404(_("No org unit %(code)s within your units.") % {"code": unit.code})
    return own


def round_coverage(screening_round: ScreeningRound, unit: OrgUnit) -> dict[str, int]:
    """The §8 figures of the round's target list under `unit` (two queries).

    The per-place rows (RoundArea) under the unit are summed: people by grid, tubes by
    the deepest unit holding all their target people. A tube whose people live both
    under the unit and outside it sits on an ancestor of the unit and is added here."""
    totals = RoundArea.objects.filter(round=screening_round, path__startswith=unit.path).aggregate(
        **{name: Coalesce(Sum(name), 0) for name in AREA_FIGURES}
    )
    spanning = (
        Tube.objects.filter(round=screening_round, common_path__in=_ancestor_paths([unit.path]))
        .filter(
            Exists(
                Sample.objects.filter(
                    tube_id=OuterRef("pk"), target_grid_path__startswith=unit.path
                )
            )
        )
        .aggregate(
            tubes=Count("id"),
            tubes_reported=Count("id", filter=~Q(result="")),
            positive_tubes=Count("id", filter=Q(result=Result.POSITIVE)),
        )
    )
    for name, value in spanning.items():
        totals[name] += value
    totals["not_sampled"] = totals["target"] - totals["sampled"]
    return {name: totals[name] for name in FIGURES}


AREA_FIGURES = (
    "target", "sampled", "retest_pending", "retest_positive", "tubes", "tubes_reported",
    "positive_tubes",
)  # fmt: skip


def round_coverage_recount(screening_round: ScreeningRound, unit: OrgUnit) -> dict[str, int]:
    """The same figures recounted from the raw samples and tubes, ignoring the derived
    flags: what tests hold the flags to, and the benchmark's baseline."""
    targets = RoundTarget.objects.filter(round=screening_round, grid_path__startswith=unit.path)
    samples = Sample.objects.filter(round=screening_round, resident_id=OuterRef("resident_id"))
    single = samples.filter(tube__capacity=1).exclude(tube__result="")
    positive_pool = samples.filter(tube__capacity__gt=1, tube__result=Result.POSITIVE)
    people = targets.aggregate(
        target=Count("id"),
        sampled=Count("id", filter=Exists(samples)),
        retest_pending=Count("id", filter=Exists(positive_pool) & ~Exists(single)),
        retest_positive=Count("id", filter=Exists(single.filter(tube__result=Result.POSITIVE))),
    )
    held = Tube.objects.filter(
        round=screening_round,
        samples__resident_id__in=targets.values("resident_id"),
    ).distinct()
    figures = {
        **people,
        "not_sampled": people["target"] - people["sampled"],
        "tubes": held.count(),
        "tubes_reported": held.exclude(result="").count(),
        "positive_tubes": held.filter(result=Result.POSITIVE).count(),
    }
    return {name: figures[name] for name in FIGURES}


@dataclass
class AreaRow:
    code: str
    name: str
    target: int
    sampled: int

    @property
    def not_sampled(self) -> int:
        return self.target - self.sampled


def coverage_by_child(user, screening_round: ScreeningRound, unit: OrgUnit) -> list[AreaRow]:
    """Target and sampled people in each direct sub-unit of `unit` the user may see."""
    rows = (
        RoundTarget.objects.filter(round=screening_round, grid_path__startswith=unit.path)
        .filter(scope_q(user, "grid_path"))
        .values_list("grid_path")
        .annotate(target=Count("id"), sampled=Count("id", filter=Q(sampled=True)))
        .order_by()
    )
    totals: dict[str, list[int]] = {}
    for path, target, sampled in rows:
        child = child_code_under(unit, path)
        if child:
            total = totals.setdefault(child, [0, 0])
            total[0] += target
            total[1] += sampled
    names = dict(OrgUnit.objects.filter(code__in=totals).values_list("code", "name"))
    return [
        AreaRow(code=code, name=names.get(code, code), target=t, sampled=s)
        for code, (t, s) in sorted(totals.items())
    ]


def not_sampled_list(user, screening_round: ScreeningRound, unit: OrgUnit):
    """未检人员: target people under `unit` with no sample yet, with the latest reason a
    worker recorded for them (away, bedridden …)."""
    latest = MissedSample.objects.filter(
        round=screening_round, resident_id=OuterRef("resident_id")
    ).order_by("-id")
    return (
        RoundTarget.objects.filter(
            scope_q(user, "grid_path"),
            round=screening_round,
            grid_path__startswith=unit.path,
            sampled=False,
        )
        .select_related("resident__grid")
        .annotate(
            reason=Subquery(latest.values("reason")[:1]),
            reason_note=Subquery(latest.values("note")[:1]),
        )
        .order_by("grid_path", "resident__name", "id")
    )


def _single_results(screening_round):
    return (
        Sample.objects.filter(
            round=screening_round,
            digest_key=OuterRef("digest_key"),
            id_number_digest=OuterRef("id_number_digest"),
            tube__capacity=1,
        )
        .exclude(tube__result="")
        .order_by("-tube__tested_at")
        .values("tube__result")[:1]
    )


def retest_list(user, screening_round: ScreeningRound, unit: OrgUnit, *, pending: bool = True):
    """复核: members of positive pooled tubes who live under `unit` (their grid today),
    each a task for their grid worker until a single-tube result closes it. `pending`
    False gives those whose retest was positive instead."""
    members = (
        Sample.objects.filter(
            scope_q(user, "resident__grid__path"),
            round=screening_round,
            resident__grid__path__startswith=unit.path,
            tube__capacity__gt=1,
            tube__result=Result.POSITIVE,
        )
        .select_related("resident__grid", "tube")
        .annotate(single_result=Subquery(_single_results(screening_round)))
        .order_by("resident__grid__code", "tube__barcode", "id")
    )
    if pending:
        return members.filter(single_result__isnull=True)
    return members.filter(single_result=Result.POSITIVE)


def tubes_of(screening_round: ScreeningRound, *, status: str = "", late: bool = False):
    """The round's tubes for the chain page, which only the round's officers open (tubes
    carry no personal data; their members are listed through the scoped selectors)."""
    tubes = Tube.objects.filter(round=screening_round).order_by("barcode")
    if status == "waiting":
        tubes = tubes.filter(sent_at__isnull=True, closed_at__isnull=False)
    elif status == "collecting":
        tubes = tubes.filter(closed_at__isnull=True)
    elif status == "sent":
        tubes = tubes.filter(sent_at__isnull=False, received_at__isnull=True)
    elif status == "received":
        tubes = tubes.filter(received_at__isnull=False, reported_at__isnull=True)
    elif status == "reported":
        tubes = tubes.filter(reported_at__isnull=False)
    elif status == "positive":
        tubes = tubes.filter(result=Result.POSITIVE)
    if late:
        now = timezone.now()
        tubes = tubes.filter(_late_send_q(now) | _late_report_q(screening_round, now))
    return tubes.select_related("round")


def _late_send_q(now) -> Q:
    """Sent more than 4 hours after the tube's first sample, or still unsent by then."""
    return Q(sent_at__isnull=True, collected_at__lt=now - SEND_WITHIN) | Q(
        sent_at__gt=F("collected_at") + SEND_WITHIN
    )


def _late_report_q(screening_round, now) -> Q:
    """Reported after the round's 24-hour deadline, or not yet reported past it."""
    late = Q(reported_at__gt=screening_round.deadline)
    if now > screening_round.deadline:
        late |= Q(reported_at__isnull=True)
    return late


def chain_summary(screening_round: ScreeningRound) -> dict[str, int]:
    """How far the round's tubes have come along 采 → 送 → 检 → 报, and how many are late
    (one query)."""
    now = timezone.now()
    return Tube.objects.filter(round=screening_round).aggregate(
        tubes=Count("id"),
        collecting=Count("id", filter=Q(closed_at__isnull=True)),
        waiting=Count("id", filter=Q(closed_at__isnull=False, sent_at__isnull=True)),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        received=Count("id", filter=Q(received_at__isnull=False)),
        reported=Count("id", filter=Q(reported_at__isnull=False)),
        positive=Count("id", filter=Q(result=Result.POSITIVE)),
        late_send=Count("id", filter=_late_send_q(now)),
        late_report=Count("id", filter=_late_report_q(screening_round, now)),
        result_before_receipt=Count("id", filter=Q(result_before_receipt=True)),
    )


# Periodic testing of key groups (重点人群定期检测) ------------------------------------------


class MemberState(TextChoices):
    """Where a group member stands on a day, in the order the lists show them."""

    OVERDUE = "overdue", gettext_lazy("Overdue")  # 逾期未检
    DUE = "due", gettext_lazy("Due today")  # 今日应检
    AWAITING = "awaiting", gettext_lazy("Sampled, result pending")  # 已采待出结果
    CURRENT = "current", gettext_lazy("Tested in time")  # 按期已检


STATE_ORDER = list(MemberState.values)


def groups_visible_to(user):
    """Key groups kept by units in the user's scope."""
    return TestingGroup.objects.filter(scope_q(user, "unit__path")).select_related("unit")


def group_for_user(user, pk: int) -> TestingGroup:
    try:
        return groups_visible_to(user).get(pk=pk)
    except TestingGroup.DoesNotExist:
        raise Http404(_("No key group %(group)s within your units.") % {"group": pk}) from None


def group_member_for_user(user, group: TestingGroup, pk: int) -> GroupMember:
    """A member of the group, the group being one of the user's scope; 404 for anyone
    else's (another group's member, or a group outside the scope)."""
    member = (
        GroupMember.objects.filter(scope_q(user, "group__unit__path"), group=group, pk=pk)
        .select_related("resident")
        .first()
    )
    if member is None:
        raise Http404(_("No such member in this group."))
    return member


def units_for_new_groups(user):
    """The units on which the user may open a key group (an officer's)."""
    return OrgUnit.objects.filter(
        paths_q(role_paths(user, OFFICER_ROLES)), kind__in=GROUP_UNIT_KINDS
    ).order_by("path")


@dataclass
class MemberRow:
    """A member with their last negative sample and when their next test is due."""

    member: GroupMember
    last_negative: date | None
    awaiting_since: date | None
    due_on: date
    state: str


def _day_end(day: date) -> datetime:
    """The first instant after `day`, in the office's time zone."""
    return datetime.combine(day + timedelta(days=1), time(), timezone.get_current_timezone())


def _members_on(day: date, groups):
    """The members of `groups` on `day` (joined by then, not yet left), each with the time
    of their last negative sample and of their latest sample still without a result, up
    to that day: two index probes a member (samples by resident). A past day sees only
    what was known by its end: a result reported later is still pending on that day."""
    end = _day_end(day)
    samples = Sample.objects.filter(resident_id=OuterRef("resident_id"), collected_at__lt=end)
    known = Q(tube__reported_at__lt=end) & ~Q(tube__result="")
    negative = samples.filter(known, tube__result=Result.NEGATIVE).order_by("-collected_at")
    pending = samples.exclude(known).order_by("-collected_at")
    return (
        GroupMember.objects.filter(group__in=groups, joined_on__lte=day)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        .annotate(
            last_negative_at=Subquery(negative.values("collected_at")[:1]),
            awaiting_at=Subquery(pending.values("collected_at")[:1]),
        )
    )


def member_row(member: GroupMember, every_days: int, day: date) -> MemberRow:
    """The member's state on `day`: tested in time while their last negative sample is
    less than `every_days` old; due on the day it turns that old (on the day they joined
    when they have none), overdue after it; a sample taken since the last negative whose
    result is not out yet holds them as awaiting."""
    last = timezone.localdate(member.last_negative_at) if member.last_negative_at else None
    awaiting = timezone.localdate(member.awaiting_at) if member.awaiting_at else None
    due_on = last + timedelta(days=every_days) if last else member.joined_on
    if due_on > day:
        state = MemberState.CURRENT
    elif member.awaiting_at and (
        member.last_negative_at is None or member.awaiting_at > member.last_negative_at
    ):
        state = MemberState.AWAITING
    elif due_on == day:
        state = MemberState.DUE
    else:
        state = MemberState.OVERDUE
    return MemberRow(member, last, awaiting, due_on, state)


def group_member_rows(user, group: TestingGroup, day: date, state: str = "") -> list[MemberRow]:
    """The group's members on `day` with their state, overdue first, then by due day and
    name (one query). `user` must see the group (`group_for_user`)."""
    members = _members_on(day, [group.pk]).select_related("resident__grid")
    rows = [member_row(member, group.every_days, day) for member in members]
    if state:
        rows = [row for row in rows if row.state == state]
    return sorted(
        rows,
        key=lambda r: (STATE_ORDER.index(r.state), r.due_on, r.member.resident.name, r.member.pk),
    )


@dataclass
class GroupFigures:
    group: TestingGroup
    members: int = 0
    overdue: int = 0
    due: int = 0
    awaiting: int = 0
    current: int = 0


def groups_figures(user, day: date) -> list[GroupFigures]:
    """Every key group the user sees with its members' states on `day` (two queries)."""
    groups = list(groups_visible_to(user).order_by("unit__code", "name"))
    figures = {group.pk: GroupFigures(group) for group in groups}
    for member in _members_on(day, list(figures)).only(
        "id", "group_id", "joined_on", "left_on", "resident_id"
    ):
        entry = figures[member.group_id]
        entry.members += 1
        state = member_row(member, entry.group.every_days, day).state
        setattr(entry, state, getattr(entry, state) + 1)
    return list(figures.values())
