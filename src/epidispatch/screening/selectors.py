"""Reads of nucleic-acid screening, scoped to the acting user first.

A user sees the rounds over units inside their scope and the rounds over the units
their scope lies in (a grid worker sees the town's round, but only their grid's people).
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.core.scoping import path_in_scope, paths_q, role_paths, scope_paths, scope_q
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit
from epidispatch.orgunits.selectors import child_code_under, unit_for_user

from .models import (
    SEND_WITHIN,
    MissedSample,
    Result,
    RoundArea,
    RoundTarget,
    Sample,
    ScreeningRound,
    Tube,
)
from .rules import OFFICER_ROLES

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
