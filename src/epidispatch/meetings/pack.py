"""The meeting pack (会议材料, `MeetingPack`), assembled by the platform for a meeting.

It reads the meeting's cutoff and what happened between the previous meeting of the series
(N−1) and this one: the bulletin of the cutoff; the rankings with each unit's change of
place since the previous meeting's cutoff; the towns' figures grouped by the leader
responsible (包联); inspection problems opened, closed and overdue; accountability cases
opened; action items still open (overdue ones flagged) and closed; the reports received
(late ones flagged) and missing. Every section is read as of the meeting's time, so an
old pack says what it said at its meeting, and the window is (N−1's time, N's time].

Only the office and the leaders over the meeting's unit read the whole pack
(permissions.reads_pack); the views check it before calling `meeting_pack`.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from epidispatch.accountability.models import Accountability
from epidispatch.dispatch.bulletin.content import (
    BulletinContent,
    bulletin_content,
    percent,
    percent_text,
)
from epidispatch.dispatch.models import Bulletin, Ranking
from epidispatch.inspection.models import Problem
from epidispatch.orgunits.models import UnitKind

from .models import ActionItem, LeaderResponsibility, Meeting, UnitReport
from .selectors import previous_meeting

#: The rankings in the order the bulletin prints them: towns first, coverage first.
RANKING_ORDER = ("towns:coverage", "towns:target", "departments:coverage", "departments:target")


@dataclass(frozen=True)
class RankChange:
    """A unit's place at this meeting's cutoff and at the previous meeting's."""

    group: str
    measure: str
    unit_code: str
    unit_name: str
    place: int
    of: int
    rate_text: str
    bottom: bool
    previous_place: int | None
    previous_bottom: bool

    @property
    def moved(self) -> int | None:
        """Places gained (positive) or lost (negative) since the previous meeting."""
        return None if self.previous_place is None else self.previous_place - self.place

    @property
    def moved_text(self) -> str:
        moved = self.moved
        if moved is None:
            return "新进"
        if moved == 0:
            return "持平"
        return f"↑{moved}" if moved > 0 else f"↓{-moved}"


@dataclass(frozen=True)
class LeaderLine:
    """A leader in charge (包联) and the towns they answer for, with rank and problems."""

    leader: str
    title: str
    towns: tuple[tuple[str, RankChange | None, int], ...]  # (name, coverage place, open problems)


@dataclass
class MeetingPack:
    meeting: Meeting
    previous: Meeting | None
    since: datetime | None
    until: datetime
    bulletin: BulletinContent | None
    rankings: dict[str, list[RankChange]]
    leaders: list[LeaderLine]
    problems_opened: list[Problem]
    problems_closed: list[Problem]
    problems_open: list[Problem]
    cases: list[Accountability]
    items_open: list[ActionItem]
    items_closed: list[ActionItem]
    decisions: list[ActionItem]
    reports: list[UnitReport]
    now: datetime = field(default_factory=timezone.now)

    @property
    def problems_overdue(self) -> list[Problem]:
        return [problem for problem in self.problems_open if problem.deadline < self.until]

    @property
    def items_overdue(self) -> list[ActionItem]:
        day = timezone.localtime(self.until).date()
        return [item for item in self.items_open if item.deadline < day]

    @property
    def reports_received(self) -> list[UnitReport]:
        return [report for report in self.reports if report.submitted_at is not None]

    @property
    def reports_late(self) -> list[UnitReport]:
        return [report for report in self.reports if report.late]

    @property
    def reports_missing(self) -> list[UnitReport]:
        return [report for report in self.reports if report.missing(self.now)]

    @property
    def bottom_entered(self) -> list[RankChange]:
        """Units in the bottom now that were not at the previous meeting."""
        return [
            row
            for rows in self.rankings.values()
            for row in rows
            if row.bottom and not row.previous_bottom
        ]

    @property
    def bottom_left(self) -> list[RankChange]:
        return [
            row
            for rows in self.rankings.values()
            for row in rows
            if row.previous_bottom and not row.bottom
        ]


def _window(queryset, field_name: str, since, until):
    condition = Q(**{f"{field_name}__lte": until})
    if since is not None:
        condition &= Q(**{f"{field_name}__gt": since})
    return queryset.filter(condition)


def meeting_pack(meeting: Meeting, *, now: datetime | None = None) -> MeetingPack:
    """Assemble the pack of `meeting` (the caller has checked `reads_pack`)."""
    previous = previous_meeting(meeting)
    since = previous.held_at if previous else None
    until = meeting.held_at
    office = meeting.unit
    under = Q(responsible_unit__path__startswith=office.path)

    bulletin = None
    rankings: dict[str, list[RankChange]] = {}
    snapshot = meeting.snapshot
    if snapshot is not None and office.kind == UnitKind.COUNTY:
        found = Bulletin.objects.filter(snapshot=snapshot).select_related("snapshot").first()
        if found is not None:
            bulletin = bulletin_content(found, office)
        rankings = _rank_changes(meeting, previous)

    problems = Problem.objects.filter(under).select_related("place", "responsible_unit")
    problems_open = list(
        problems.filter(found_at__lte=until)
        .filter(Q(verified_at__isnull=True) | Q(verified_at__gt=until))
        .order_by("deadline", "pk")
    )
    open_by_town: dict[str, int] = {}
    for problem in problems_open:
        town = _town_path(problem.responsible_unit.path, office.path)
        open_by_town[town] = open_by_town.get(town, 0) + 1

    items = ActionItem.objects.filter(meeting__unit=office).select_related(
        "meeting__series", "owner_unit", "owner_group"
    )
    return MeetingPack(
        meeting=meeting,
        previous=previous,
        since=since,
        until=until,
        bulletin=bulletin,
        rankings=rankings,
        leaders=_leaders(office, rankings, open_by_town),
        problems_opened=list(_window(problems, "found_at", since, until).order_by("found_at")),
        problems_closed=list(
            _window(problems, "verified_at", since, until).order_by("verified_at")
        ),
        problems_open=problems_open,
        cases=list(
            _window(
                Accountability.objects.filter(unit__path__startswith=office.path),
                "created_at",
                since,
                until,
            )
            .select_related("unit")
            .order_by("created_at", "pk")
        ),
        items_open=list(
            items.filter(issued_at__lte=until)
            .exclude(meeting=meeting)
            .filter(Q(closed_at__isnull=True) | Q(closed_at__gt=until))
            .order_by("deadline", "meeting__held_at", "number")
        ),
        items_closed=list(_window(items, "closed_at", since, until).order_by("closed_at")),
        decisions=list(items.filter(meeting=meeting).order_by("number")),
        reports=list(meeting.reports.select_related("unit").order_by("unit__code")),
        now=now or timezone.now(),
    )


def _town_path(path: str, office_path: str) -> str:
    """The path of the unit right below the office on the way down to `path`."""
    rest = path[len(office_path) :].split("/", 1)[0]
    return f"{office_path}{rest}/"


def _rank_changes(meeting: Meeting, previous: Meeting | None) -> dict[str, list[RankChange]]:
    county = meeting.unit
    rows = (
        Ranking.objects.filter(snapshot=meeting.snapshot, unit__county_code=county.county_code)
        .select_related("unit")
        .order_by("group", "measure", "place", "unit__code")
    )
    before: dict[tuple, tuple[int, bool]] = {}
    if previous is not None and previous.snapshot_id:
        before = {
            (group, measure, unit_id): (place, bottom)
            for group, measure, unit_id, place, bottom in Ranking.objects.filter(
                snapshot_id=previous.snapshot_id, unit__county_code=county.county_code
            ).values_list("group", "measure", "unit_id", "place", "bottom")
        }
    keyed: dict[str, list[RankChange]] = {key: [] for key in RANKING_ORDER}
    for row in rows:
        previous_place, previous_bottom = before.get(
            (row.group, row.measure, row.unit_id), (None, False)
        )
        rate = percent_text(percent(row.numerator, row.denominator))
        keyed.setdefault(f"{row.group}:{row.measure}", []).append(
            RankChange(
                group=row.group,
                measure=row.measure,
                unit_code=row.unit.code,
                unit_name=row.unit_name or row.unit.name,
                place=row.place,
                of=row.of,
                rate_text=rate,
                bottom=row.bottom,
                previous_place=previous_place,
                previous_bottom=previous_bottom,
            )
        )
    return {key: found for key, found in keyed.items() if found}


def _leaders(office, rankings, open_by_town) -> list[LeaderLine]:
    coverage = {row.unit_code: row for row in rankings.get("towns:coverage", [])}
    lines: dict[tuple[str, str], list] = {}
    for responsibility in (
        LeaderResponsibility.objects.filter(town__path__startswith=office.path)
        .select_related("town")
        .order_by("leader_name", "town__code")
    ):
        town = responsibility.town
        lines.setdefault((responsibility.leader_name, responsibility.leader_title), []).append(
            (town.name, coverage.get(town.code), open_by_town.get(town.path, 0))
        )
    return [
        LeaderLine(leader=leader, title=title, towns=tuple(towns))
        for (leader, title), towns in lines.items()
    ]
