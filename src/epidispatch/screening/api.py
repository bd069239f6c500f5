"""Screening in the JSON API (/api/v1/screening/…): the same scoped selectors and services
as the pages, the same §8 figures as `epidispatch screening_coverage`, and the key groups
tested on a schedule with their members' states."""

import contextlib
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from epidispatch.core.bounds import Day, RecordId, text

from .selectors import (
    MemberState,
    group_for_user,
    group_member_rows,
    groups_figures,
    not_sampled_list,
    retest_list,
    round_area,
    round_coverage,
    round_for_user,
    rounds_visible_to,
)
from .services import group_member_add, sample_collect

router = Router(tags=["screening"])

#: How many rows a list answers at most.
LIST_LIMIT = 500


@contextlib.contextmanager
def _domain_errors():
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None


class RoundOut(Schema):
    id: int
    name: str
    unit: str
    day: date
    pool: int
    target: int


class CoverageOut(Schema):
    target: int
    sampled: int
    not_sampled: int
    tubes: int
    tubes_reported: int
    positive_tubes: int
    retest_pending: int
    retest_positive: int


class PersonOut(Schema):
    name: str
    id_number_masked: str
    grid: str
    tube: str | None = None
    reason: str | None = None


class SampleIn(Schema):
    barcode: str
    id_number: str
    name: str = ""
    capacity: int | None = None


class SampleOut(Schema):
    tube: str
    members: int
    capacity: int
    closed: bool


class GroupOut(Schema):
    id: int
    name: str
    unit: str
    kind: str
    every_days: int
    members: int
    overdue: int
    due: int
    awaiting: int
    current: int


class MemberOut(Schema):
    id: int
    name: str
    id_number_masked: str
    grid: str
    employer: str
    joined_on: date
    last_negative: date | None
    due_on: date
    state: str


class MemberIn(Schema):
    id_number: text(40)
    employer: text(100) = ""


@router.get("/rounds", response=list[RoundOut])
def list_rounds(request):
    """Rounds over units in the caller's scope or above it, newest first."""
    return [
        {
            "id": r.pk,
            "name": r.name,
            "unit": r.unit.code,
            "day": r.day,
            "pool": r.pool_size,
            "target": r.target_size,
        }
        for r in rounds_visible_to(request.user)[:LIST_LIMIT]
    ]


@router.get("/rounds/{round_id}/coverage", response=CoverageOut)
def get_coverage(request, round_id: int, unit: str | None = None):
    """The §8 figures under `unit` (default: the round's unit, or the caller's own unit
    under it); 404 outside the caller's scope."""
    screening_round = round_for_user(request.user, round_id)
    return round_coverage(screening_round, round_area(request.user, screening_round, unit))


@router.get("/rounds/{round_id}/retests", response=list[PersonOut])
def list_retests(request, round_id: int, unit: str | None = None):
    """Members of positive pools under `unit` waiting for their single-tube retest."""
    screening_round = round_for_user(request.user, round_id)
    area = round_area(request.user, screening_round, unit)
    return [
        {
            "name": s.resident.name,
            "id_number_masked": s.resident.id_number_masked,
            "grid": s.resident.grid.code,
            "tube": s.tube.barcode,
        }
        for s in retest_list(request.user, screening_round, area)[:LIST_LIMIT]
    ]


@router.get("/rounds/{round_id}/not-sampled", response=list[PersonOut])
def list_not_sampled(request, round_id: int, unit: str | None = None):
    """未检人员 under `unit`, with the latest reason a worker recorded."""
    screening_round = round_for_user(request.user, round_id)
    area = round_area(request.user, screening_round, unit)
    return [
        {
            "name": t.resident.name,
            "id_number_masked": t.resident.id_number_masked,
            "grid": t.resident.grid.code,
            "reason": t.reason,
        }
        for t in not_sampled_list(request.user, screening_round, area)[:LIST_LIMIT]
    ]


@router.post("/rounds/{round_id}/samples", response={201: SampleOut})
def post_sample(request, round_id: int, payload: SampleIn):
    """Bind one person to a tube, as the collection page does (a scanner app's call)."""
    screening_round = round_for_user(request.user, round_id)
    with _domain_errors():
        sample = sample_collect(
            screening_round=screening_round,
            barcode=payload.barcode,
            id_number=payload.id_number,
            name=payload.name,
            capacity=payload.capacity,
            by=request.user,
        )
    tube = sample.tube
    return 201, {
        "tube": tube.barcode,
        "members": tube.members,
        "capacity": tube.capacity,
        "closed": tube.closed_at is not None,
    }


@router.get("/groups", response=list[GroupOut])
def list_groups(request, as_of: Day | None = None):
    """Key groups kept by units in the caller's scope, with their members' states on
    `as_of` (default today): overdue, due that day, awaiting a result, tested in time."""
    day = as_of or timezone.localdate()
    return [
        {
            "id": f.group.pk,
            "name": f.group.name,
            "unit": f.group.unit.code,
            "kind": f.group.kind,
            "every_days": f.group.every_days,
            "members": f.members,
            "overdue": f.overdue,
            "due": f.due,
            "awaiting": f.awaiting,
            "current": f.current,
        }
        for f in groups_figures(request.user, day)[:LIST_LIMIT]
    ]


@router.get("/groups/{group_id}/members", response=list[MemberOut])
def list_group_members(request, group_id: RecordId, as_of: Day | None = None, state: text(12) = ""):
    """The group's members on `as_of` (default today), overdue first; `state` keeps one of
    overdue, due, awaiting, current. 404 outside the caller's scope."""
    group = group_for_user(request.user, group_id)
    if state and state not in MemberState.values:
        raise HttpError(422, "state: " + ", ".join(MemberState.values))
    rows = group_member_rows(request.user, group, as_of or timezone.localdate(), state)
    return [
        {
            "id": row.member.pk,
            "name": row.member.resident.name,
            "id_number_masked": row.member.resident.id_number_masked,
            "grid": row.member.resident.grid.code,
            "employer": row.member.employer,
            "joined_on": row.member.joined_on,
            "last_negative": row.last_negative,
            "due_on": row.due_on,
            "state": row.state,
        }
        for row in rows[:LIST_LIMIT]
    ]


@router.post("/groups/{group_id}/members", response={201: MemberOut})
def post_group_member(request, group_id: RecordId, payload: MemberIn):
    """Put a resident of the county in the group, as the group's page does."""
    group = group_for_user(request.user, group_id)
    with _domain_errors():
        member = group_member_add(
            group=group, id_number=payload.id_number, employer=payload.employer, by=request.user
        )
    day = timezone.localdate()
    row = next(r for r in group_member_rows(request.user, group, day) if r.member.pk == member.pk)
    return 201, {
        "id": member.pk,
        "name": member.resident.name,
        "id_number_masked": member.resident.id_number_masked,
        "grid": member.resident.grid.code,
        "employer": member.employer,
        "joined_on": member.joined_on,
        "last_negative": row.last_negative,
        "due_on": row.due_on,
        "state": row.state,
    }
