"""The arithmetic of a policy version: a case's phases as dates, the measure on a day, an
area's level on a day. Pure functions over the stored data, so tests and the board agree.

Day counting (DESIGN.md §8): each phase counts from the reference date (last exposure or
arrival); a 7-day phase from 2022-07-01 covers 07-02 … 07-08, and the next phase starts
the day after. Test days are days of their phase, from 1.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from .models import AreaLevel, ControlPolicy, PolicyPhase


class NotManaged(Exception):
    """The version in force does not manage this category: refused at registration."""


def policy_in_force(day: date) -> ControlPolicy:
    """The version in force on `day`: the latest whose effective date is on or before it."""
    policy = ControlPolicy.objects.filter(effective_from__lte=day).order_by("-effective_from")
    found = policy.first()
    if found is None:
        raise NotManaged(_("No control policy is in force on %(day)s.") % {"day": day})
    return found


def build_plan(phases: list[PolicyPhase], reference_date: date) -> list[dict]:
    """The phases as dates, in order: [{"measure", "first", "last", "test_days"}]."""
    plan = []
    first = reference_date + timedelta(days=1)
    for phase in sorted(phases, key=lambda p: p.position):
        last = first + timedelta(days=phase.days - 1)
        tests = [first + timedelta(days=n - 1) for n in phase.test_days if 1 <= n <= phase.days]
        plan.append(
            {
                "measure": phase.measure,
                "first": first.isoformat(),
                "last": last.isoformat(),
                "test_days": [day.isoformat() for day in tests],
            }
        )
        first = last + timedelta(days=1)
    return plan


def extend_plan(plan: list[dict], extra_days: int) -> list[dict]:
    """The plan with its last phase lengthened by a local decision's extra days."""
    if not extra_days:
        return plan
    *head, last = plan
    end = date.fromisoformat(last["last"]) + timedelta(days=extra_days)
    return [*head, {**last, "last": end.isoformat()}]


@dataclass(frozen=True)
class Span:
    measure: str
    first: date
    last: date
    test_days: tuple[date, ...]


def spans(plan: list[dict]) -> list[Span]:
    return [
        Span(
            measure=phase["measure"],
            first=date.fromisoformat(phase["first"]),
            last=date.fromisoformat(phase["last"]),
            test_days=tuple(date.fromisoformat(day) for day in phase["test_days"]),
        )
        for phase in plan
    ]


def measure_on(plan: list[dict], day: date, transferred_on: date | None = None) -> str | None:
    """The measure on `day` (None before the first phase and after the last). A transfer
    to centralized isolation holds until the end of the phase it happened in."""
    for span in spans(plan):
        if span.first <= day <= span.last:
            if (
                transferred_on is not None
                and transferred_on <= day
                and span.first <= (transferred_on)
            ):
                return "centralized_isolation"
            return span.measure
    return None


def required_test_days(plan: list[dict]) -> list[date]:
    return [day for span in spans(plan) for day in span.test_days]


def area_level_on(level: str, last_case_on: date, rules: dict[str, tuple[int, str]], day: date):
    """The level of an area on `day`: each rule lowers `level` after its days in a row
    without a new case (第九版: 7 days 高 → 中, 3 more → 低), counted like phases: an area
    whose last case was on 07-01 has 07-02 … 07-08 as its 7 days and is lowered on 07-09."""
    quiet_since = last_case_on
    while level in rules and level != AreaLevel.LOW:
        days, becomes = rules[level]
        lowered_on = quiet_since + timedelta(days=days + 1)
        if day < lowered_on:
            break
        level, quiet_since = becomes, quiet_since + timedelta(days=days)
    return level
