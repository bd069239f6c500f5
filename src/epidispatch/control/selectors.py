"""Reads of key-population control, each scoped to the acting user's units first: a grid
worker sees the people of their grid(s), the control group its county. ID numbers and
phones masked."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.core import feeds
from epidispatch.core.scoping import paths_q, scope_q
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit, UnitKind
from epidispatch.orgunits.selectors import units_visible_to
from epidispatch.registry.models import HouseholdMember, Resident, ResidentStatus

from .models import (
    AreaLevel,
    AreaRule,
    CaseChange,
    CaseTest,
    ContactCandidate,
    ControlArea,
    ControlCase,
    HealthCheck,
    KeyPerson,
    PlanItem,
    PositiveCase,
    ReadinessItem,
)
from .policy import area_level_on, measure_on, spans

#: From this time of day a person under measures without the day's check-in is flagged.
CHECKIN_DEADLINE = time(18, 0)
MEASURE_FIGURES = ("centralized_isolation", "home_isolation", "home_monitoring")


#: Changes in one page of the key-person change feed, at most and by default (as the
#: dose feed's).
MAX_CHANGES, DEFAULT_CHANGES = 1000, 100


def key_person_changes(user, *, cursor: tuple[int, int], limit: int = DEFAULT_CHANGES) -> dict:
    """The changes of cases under the user's units after `cursor` ((txid, id), core.feeds),
    in the order their transactions wrote them, and the cursor to ask with next time:
    registration, transfer to centralized isolation, a stricter local decision, release.
    Each carries the person (ID number and phone masked) and the case's phases as they
    stood after the change. A change committed late comes on a later page, never skipped.
    One query."""
    limit = max(1, min(limit, MAX_CHANGES))
    result = feeds.page(
        CaseChange.objects.filter(scope_q(user, "grid__path")).select_related(
            "case__person", "case__policy", "grid"
        ),
        cursor=cursor,
        limit=limit,
    )
    return {
        "items": [_change_item(change) for change in result["items"]],
        "next_cursor": result["next_cursor"],
        "has_more": result["has_more"],
    }


def _change_item(change: CaseChange) -> dict:
    case, person = change.case, change.case.person
    return {
        "id": change.pk,
        "kind": change.kind,
        "day": change.day,
        "at": change.at,
        "case": case.pk,
        "person": person.pk,
        "name": person.name,
        "id_number_masked": person.id_number_masked,
        "phone_masked": person.phone_masked,
        "resident_id": person.resident_id,
        "grid": change.grid.code,
        "category": case.category,
        "source": case.source,
        "reference_date": case.reference_date,
        "registered_on": case.registered_on,
        "policy": case.policy.name,
        "phases": [
            {
                "measure": phase["measure"],
                "first": phase["first"],
                "last": phase["last"],
                "test_days": phase.get("test_days", []),
            }
            for phase in change.plan
        ],
        "ends_on": change.ends_on,
        "detail": change.detail,
    }


def grid_named(user, code: str) -> OrgUnit | None:
    """The grid a form or an API body names for a person, within the user's units; None when
    it names none. Another town's grid is refused (a ValidationError on the field `grid`),
    so that nobody files a person where they cannot see him."""
    code = code.strip()
    if not code:
        return None
    grid = units_visible_to(user).filter(code=code).first()
    if grid is None:
        raise ValidationError({"grid": _("No grid %(code)s within your units.") % {"code": code}})
    return grid


def cases_visible_to(user):
    return ControlCase.objects.filter(scope_q(user, "grid__path"))


def case_for_user(user, pk: int) -> ControlCase:
    return get_object_or_404(
        cases_visible_to(user).select_related("person", "grid", "policy"), pk=pk
    )


def key_person_for_user(user, pk: int) -> KeyPerson:
    return get_object_or_404(KeyPerson.objects.filter(scope_q(user, "grid__path")), pk=pk)


def positives_visible_to(user):
    return PositiveCase.objects.filter(scope_q(user, "grid__path"))


def positive_for_user(user, pk: int) -> PositiveCase:
    return get_object_or_404(positives_visible_to(user).select_related("person", "grid"), pk=pk)


def candidates_of(user, positive: PositiveCase):
    """The candidates of a positive case the user may see (all of them for the county's
    control group), the proposed first."""
    return (
        ContactCandidate.objects.filter(scope_q(user, "grid__path"), positive=positive)
        .select_related("grid", "case")
        .order_by("-state", "id")
    )


def _cases_on(cases, unit: OrgUnit, day: date):
    """Those of `cases` under `unit` known on `day` and not released before it."""
    return cases.filter(
        Q(released_on__isnull=True) | Q(released_on__gte=day),
        grid__path__startswith=unit.path,
        registered_on__lte=day,
    )


@dataclass
class PersonToday:
    """A row of a grid worker's list: a case under measures on the day."""

    case: ControlCase
    measure: str
    phase_day: int
    test_due: bool
    tested: bool
    checked_in: bool
    ends_today: bool


def persons_under_measures(user, unit: OrgUnit, day: date) -> list[PersonToday]:
    """People under `unit` under measures on `day`, with what is due of them that day."""
    return _persons(cases_visible_to(user), unit, day)


def _persons(cases, unit: OrgUnit, day: date) -> list[PersonToday]:
    cases = (
        _cases_on(cases, unit, day)
        .filter(ends_on__gte=day)
        .select_related("person", "grid")
        .annotate(
            checked_in=Exists(HealthCheck.objects.filter(case=OuterRef("pk"), day=day)),
            tested=Exists(CaseTest.objects.filter(case=OuterRef("pk"), day=day)),
        )
        .order_by("ends_on", "person__name", "id")
    )
    rows = []
    for case in cases:
        measure = measure_on(case.plan, day, case.transferred_on)
        if measure is None:
            continue
        span = next(s for s in spans(case.plan) if s.first <= day <= s.last)
        rows.append(
            PersonToday(
                case=case,
                measure=measure,
                phase_day=(day - span.first).days + 1,
                test_due=day in span.test_days,
                tested=case.tested,
                checked_in=case.checked_in,
                ends_today=case.ends_on == day,
            )
        )
    return rows


@dataclass
class Flag:
    """A case outside its version's dates (整治"一刀切"、层层加码): kept past its end, or
    released before it; `unit` is the town (or unit) responsible."""

    kind: str  # "overreach" or "gap"
    case: ControlCase
    unit: str
    days: int


@dataclass
class AreaOnDay:
    area: ControlArea
    level: str | None  # None once lifted


@dataclass
class Board:
    """底清数明: the §8 figures of a unit on a day, and what the page shows beside them."""

    unit: OrgUnit
    day: date
    centralized_isolation: int = 0
    home_isolation: int = 0
    home_monitoring: int = 0
    ending_today: int = 0
    ended: int = 0
    checked_in: int = 0
    missed_checkins: int = 0
    tests_due: int = 0
    tests_missing: int = 0
    flags: list[Flag] = field(default_factory=list)
    areas: list[AreaOnDay] = field(default_factory=list)
    plan: list[tuple[str, PlanItem | None]] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        """Exactly the keys of `epidispatch control_board --json` (DESIGN.md §8)."""
        return {
            "centralized_isolation": self.centralized_isolation,
            "home_isolation": self.home_isolation,
            "home_monitoring": self.home_monitoring,
            "ending_today": self.ending_today,
            "ended": self.ended,
        }


def _checkins_due(day: date, now: datetime) -> bool:
    """Whether the day's check-ins are late by now: any past day, today from 18:00."""
    local = timezone.localtime(now)
    return day < local.date() or (day == local.date() and local.time() >= CHECKIN_DEADLINE)


def board_figures(unit: OrgUnit, day: date) -> dict[str, int]:
    """The §8 figures of `unit` on `day` (`epidispatch control_board`): counts only, as
    `unit_coverage` gives a unit's counts; pages and the API show them through
    `control_board`, after checking the unit is in the user's scope."""
    return _fill(Board(unit=unit, day=day), ControlCase.objects.all(), timezone.now()).figures()


def control_board(user, unit: OrgUnit, day: date, *, now: datetime | None = None) -> Board:
    """The board of `unit` on `day` as the user may see it, in a fixed number of queries
    whatever its size: the figures, flags, control areas and the emergency plan."""
    board = _fill(Board(unit=unit, day=day), cases_visible_to(user), now or timezone.now())
    board.flags = _flags(user, unit, day)
    board.areas = _areas(user, unit, day)
    board.plan = _plan(user, unit)
    return board


def _fill(board: Board, visible, now: datetime) -> Board:
    """People are counted once per figure even with several cases. `ended` counts people
    whose last phase ended before the day; `ending_today` those whose last phase ends on
    it; missed check-ins count from 18:00 of the day."""
    unit, day = board.unit, board.day
    cases = _cases_on(visible, unit, day)
    board.ended = cases.filter(ends_on__lt=day).aggregate(n=Count("person_id", distinct=True))["n"]
    in_measure: dict[str, set[int]] = {name: set() for name in MEASURE_FIGURES}
    ending, checked, missed, due, missing = set(), set(), set(), set(), set()
    late = _checkins_due(day, now)
    for row in _persons(visible, unit, day):
        person = row.case.person_id
        in_measure[row.measure].add(person)
        if row.ends_today:
            ending.add(person)
        (checked if row.checked_in else missed).add(person)
        if row.test_due:
            due.add(person)
            if not row.tested:
                missing.add(person)
    board.centralized_isolation = len(in_measure["centralized_isolation"])
    board.home_isolation = len(in_measure["home_isolation"])
    board.home_monitoring = len(in_measure["home_monitoring"])
    board.ending_today, board.checked_in = len(ending), len(checked)
    board.missed_checkins = len(missed - checked) if late else 0
    board.tests_due, board.tests_missing = len(due), len(missing)
    return board


def _flags(user, unit: OrgUnit, day: date) -> list[Flag]:
    kept = Q(released_on__isnull=True, ends_on__lt=day)
    early = Q(released_on__lte=day, released_on__lt=F("ends_on"))
    cases = list(
        cases_visible_to(user)
        .filter(kept | early, grid__path__startswith=unit.path, registered_on__lte=day)
        .select_related("person", "grid")
        .order_by("ends_on", "id")
    )
    codes = {code for case in cases for code in case.grid.path.split(PATH_SEPARATOR) if code}
    towns = dict(
        OrgUnit.objects.filter(code__in=codes, kind=UnitKind.TOWN).values_list("code", "name")
    )
    flags = []
    for case in cases:
        town = next(
            (towns[code] for code in case.grid.path.split(PATH_SEPARATOR) if code in towns),
            case.grid.name,
        )
        if case.released_on is None:
            flags.append(Flag("overreach", case, town, (day - case.ends_on).days))
        else:
            flags.append(Flag("gap", case, town, (case.ends_on - case.released_on).days))
    return flags


def _areas(user, unit: OrgUnit, day: date) -> list[AreaOnDay]:
    """Control areas on or below `unit` (or above it: an area over the whole town is on
    its villages' boards too) started by `day`, at their level that day."""
    ancestors = [code for code in unit.path.split(PATH_SEPARATOR) if code]
    areas = list(
        ControlArea.objects.filter(
            scope_q(user, "unit__path"),
            Q(unit__path__startswith=unit.path) | Q(unit__code__in=ancestors),
            started_on__lte=day,
        )
        .select_related("unit", "policy")
        .order_by("started_on", "id")
    )
    rules: dict[int, dict[str, tuple[int, str]]] = {}
    for rule in AreaRule.objects.filter(policy_id__in={area.policy_id for area in areas}):
        rules.setdefault(rule.policy_id, {})[rule.level] = (rule.days, rule.becomes)
    return [
        AreaOnDay(
            area=area,
            level=None
            if area.ended_on is not None and area.ended_on <= day
            else area_level_on(area.level, area.last_case_on, rules.get(area.policy_id, {}), day),
        )
        for area in areas
    ]


def _plan(user, unit: OrgUnit) -> list[tuple[ReadinessItem, PlanItem | None]]:
    """The unit's 五个到位 checklist, every item listed (None: never checked)."""
    items = {
        item.item: item for item in PlanItem.objects.filter(scope_q(user, "unit__path"), unit=unit)
    }
    return [(choice, items.get(choice.value)) for choice in ReadinessItem]


def emergency_plan_above(user, grid: OrgUnit) -> tuple[OrgUnit | None, list]:
    """The plan a first response starts from: that of the nearest unit above `grid` (the
    grid itself included) with a checked plan the user may see."""
    codes = [code for code in grid.path.split(PATH_SEPARATOR) if code]
    holder = (
        OrgUnit.objects.filter(
            scope_q(user), code__in=codes, pk__in=PlanItem.objects.values("unit_id")
        )
        .order_by("-depth")
        .first()
    )
    return holder, (_plan(user, holder) if holder is not None else [])


# Control areas (管控区): the pages that keep them, the dashboard and the API.


def areas_visible_to(user):
    return ControlArea.objects.filter(scope_q(user, "unit__path"))


def area_for_user(user, pk: int) -> ControlArea:
    return get_object_or_404(areas_visible_to(user).select_related("unit", "policy"), pk=pk)


@dataclass
class AreaRow:
    """An area on a day: its level then (None once lifted), the residents who live in it
    and the people under measures in it, both as far as the user's scope reaches."""

    area: ControlArea
    level: str | None
    residents: int = 0
    under_measures: int = 0

    @property
    def level_label(self) -> str:
        return str(AreaLevel(self.level).label) if self.level else ""


@dataclass
class AreaSummary:
    unit: OrgUnit
    day: date
    rows: list[AreaRow]

    @property
    def active(self) -> list[AreaRow]:
        return [row for row in self.rows if row.level is not None]

    def counts(self) -> dict[str, int]:
        """Active areas by their level on the day: {"high", "medium", "low"}."""
        counts = {level: 0 for level in AreaLevel.values}
        for row in self.active:
            counts[row.level] += 1
        return counts


#: Registered residents who no longer live where they are registered: not counted in areas.
GONE = (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)


def area_summary(user, unit: OrgUnit, day: date, *, lifted: bool = False) -> AreaSummary:
    """The control areas on, below or above `unit` started by `day` (with the lifted ones
    when `lifted`), each with its level and counts, in five queries whatever their number.

    A whole-unit area counts the residents living under its unit (not the deceased or
    moved out) and the people under
    measures whose grid lies there; an area of addresses counts the members of the
    households at those addresses (the registry's 同住人员) and the key persons registered
    at them or living in those households.
    """
    rows = [  # queries 1-2: the areas, their versions' rules
        AreaRow(area=found.area, level=found.level)
        for found in _areas(user, unit, day)
        if lifted or found.level is not None
    ]
    if not rows:
        return AreaSummary(unit=unit, day=day, rows=[])
    whole = [row for row in rows if not row.area.address_list()]
    listed = [row for row in rows if row.area.address_list()]
    if whole:  # query 3
        units = {row.area.unit.path for row in whole}
        counted = (
            Resident.objects.filter(scope_q(user, "grid__path"), paths_q(units, "grid__path"))
            .exclude(status__in=GONE)
            .aggregate(
                **{
                    f"a{row.area.pk}": Count(
                        "id", filter=Q(grid__path__startswith=row.area.unit.path)
                    )
                    for row in whole
                }
            )
        )
        for row in whole:
            row.residents = counted[f"a{row.area.pk}"]
    if listed:  # query 4
        addresses = {address for row in listed for address in row.area.address_list()}
        per_address = (
            HouseholdMember.objects.filter(
                scope_q(user, "household__grid__path"), household__address__in=addresses
            )
            .exclude(resident__status__in=GONE)
            .values_list("household__grid__path", "household__address")
            .annotate(n=Count("id"))
            .order_by()
        )
        for path, address, number in per_address:
            for row in listed:
                if path.startswith(row.area.unit.path) and address in row.area.address_list():
                    row.residents += number
    cases = ControlCase.objects.filter(  # query 5
        scope_q(user, "grid__path"),
        Q(released_on__isnull=True) | Q(released_on__gt=day),
        registered_on__lte=day,
        reference_date__lt=day,
        ends_on__gte=day,
    )
    counted = cases.aggregate(
        **{
            f"a{row.area.pk}": Count("person_id", distinct=True, filter=_in_area(row.area))
            for row in rows
        }
    )
    for row in rows:
        row.under_measures = counted[f"a{row.area.pk}"]
    return AreaSummary(unit=unit, day=day, rows=rows)


def _in_area(area: ControlArea) -> Q:
    """The cases of people in `area`: under its unit, and at one of its addresses if any."""
    inside = Q(grid__path__startswith=area.unit.path)
    if addresses := area.address_list():
        inside &= Q(person__address__in=addresses) | Q(
            person__resident__household__household__address__in=addresses
        )
    return inside
