"""Screening in the JSON API (/api/v1/screening/…): the same scoped selectors and services
as the pages, the same §8 figures as `epidispatch screening_coverage`, and the key groups
tested on a schedule with their members' states."""

import contextlib
from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from epidispatch.core.bounds import Day, Moment, RecordId, UnitCode, text
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.registry.selectors import resident_for_user

from .models import EVERY_DAYS, GroupKind, MissedReason, Result
from .rules import ROUND_KINDS
from .selectors import (
    MemberState,
    group_for_user,
    group_member_for_user,
    group_member_rows,
    groups_figures,
    not_sampled_list,
    retest_list,
    round_area,
    round_coverage,
    round_for_user,
    rounds_visible_to,
    tube_in_round,
)
from .services import (
    group_create,
    group_member_add,
    group_member_remove,
    missed_record,
    round_create,
    sample_collect,
    tube_result_record,
    tubes_receive,
    tubes_send,
)

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
    return Status(
        201,
        {
            "tube": tube.barcode,
            "members": tube.members,
            "capacity": tube.capacity,
            "closed": tube.closed_at is not None,
        },
    )


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
    return Status(
        201,
        {
            "id": member.pk,
            "name": member.resident.name,
            "id_number_masked": member.resident.id_number_masked,
            "grid": member.resident.grid.code,
            "employer": member.employer,
            "joined_on": member.joined_on,
            "last_negative": row.last_negative,
            "due_on": row.due_on,
            "state": row.state,
        },
    )


# The chain's writes (采 → 送 → 检 → 报): the same services as the round's pages.


class RoundIn(Schema):
    unit: UnitCode
    name: text(100)
    day: Day
    #: The round's default tube capacity (1 = single tubes).
    pool: Literal[1, 5, 10, 20] = 10


@router.post("/rounds", response={201: RoundOut})
def post_round(request, payload: RoundIn):
    """Open a round over a unit (a city, county, town or village of yours) and freeze its
    target list (应检尽检): the people registered under the unit who live here that day.
    Screening officers and dispatchers only."""
    unit = unit_for_user(request.user, payload.unit)
    if unit.kind not in ROUND_KINDS:
        raise HttpError(422, _("A round is opened over a city, county, town or village."))
    with _domain_errors():
        created = round_create(
            unit=unit, name=payload.name, day=payload.day, pool_size=payload.pool,
            by=request.user,
        )  # fmt: skip
    return Status(
        201,
        {
            "id": created.pk,
            "name": created.name,
            "unit": unit.code,
            "day": created.day,
            "pool": created.pool_size,
            "target": created.target_size,
        },
    )


Barcodes = Annotated[list[text(40)], Field(min_length=1, max_length=5000)]


class SendIn(Schema):
    barcodes: Barcodes
    courier: text(60)
    box: text(40) = ""


class ReceiveIn(Schema):
    barcodes: Barcodes


class TubesOut(Schema):
    #: The tubes the step changed.
    tubes: int


@router.post("/rounds/{round_id}/tubes/send", response={200: TubesOut})
def post_tubes_send(request, round_id: RecordId, payload: SendIn):
    """Hand a transport box of the round's tubes to a courier (送检); open tubes close with
    it. One unknown or already sent tube refuses the whole box (422)."""
    screening_round = round_for_user(request.user, round_id)
    with _domain_errors():
        count = tubes_send(
            screening_round=screening_round, barcodes=payload.barcodes,
            courier=payload.courier, box=payload.box, by=request.user,
        )  # fmt: skip
    return {"tubes": count}


@router.post("/rounds/{round_id}/tubes/receive", response={200: TubesOut})
def post_tubes_receive(request, round_id: RecordId, payload: ReceiveIn):
    """The lab signs for tubes (接收); tubes received already are not counted again."""
    screening_round = round_for_user(request.user, round_id)
    with _domain_errors():
        count = tubes_receive(
            screening_round=screening_round, barcodes=payload.barcodes, by=request.user
        )
    return {"tubes": count}


class ResultIn(Schema):
    barcode: text(40)
    result: Result
    tested_at: Moment
    lab: text(100)


class TubeOut(Schema):
    barcode: str
    capacity: int
    members: int
    status: str
    result: Result | None
    tested_at: datetime | None
    lab: str
    #: False when the same result was stored already.
    stored: bool


@router.post("/rounds/{round_id}/results", response={200: TubeOut})
def post_result(request, round_id: RecordId, payload: ResultIn):
    """A lab result for one tube (检 → 报): a pooled tube's, or a single tube's, which for
    a member of a positive pool is the retest (复核) result. The same result again stores
    nothing (`stored` false); a different one is refused and the stored one stays."""
    screening_round = round_for_user(request.user, round_id)
    try:
        tube = tube_in_round(screening_round, payload.barcode)
    except Http404 as error:
        raise HttpError(404, str(error)) from None
    tested_at = payload.tested_at
    if timezone.is_naive(tested_at):
        tested_at = timezone.make_aware(tested_at)
    with _domain_errors():
        stored = tube_result_record(
            tube=tube, result=payload.result, tested_at=tested_at, lab=payload.lab,
            by=request.user,
        )  # fmt: skip
    tube.refresh_from_db()
    return {
        "barcode": tube.barcode,
        "capacity": tube.capacity,
        "members": tube.members,
        "status": tube.status,
        "result": tube.result or None,
        "tested_at": tube.tested_at,
        "lab": tube.lab,
        "stored": stored,
    }


class MissedIn(Schema):
    resident_id: RecordId
    reason: MissedReason
    note: text(200) = ""


class MissedOut(Schema):
    id: int
    reason: MissedReason


@router.post("/rounds/{round_id}/missed", response={201: MissedOut})
def post_missed(request, round_id: RecordId, payload: MissedIn):
    """A worker's note on why a resident of your units on the round's 未检 list was not
    sampled (404 for a resident outside your units, 422 off the list)."""
    screening_round = round_for_user(request.user, round_id)
    resident = resident_for_user(request.user, payload.resident_id)
    with _domain_errors():
        missed = missed_record(
            screening_round=screening_round, resident=resident, reason=payload.reason,
            note=payload.note, by=request.user,
        )  # fmt: skip
    return Status(201, {"id": missed.pk, "reason": missed.reason})


class GroupIn(Schema):
    unit: UnitCode
    name: text(100)
    kind: GroupKind
    every_days: int = Field(ge=EVERY_DAYS[0], le=EVERY_DAYS[1])


class GroupCreatedOut(Schema):
    id: int
    name: str
    unit: str
    kind: GroupKind
    every_days: int


@router.post("/groups", response={201: GroupCreatedOut})
def post_group(request, payload: GroupIn):
    """Open a key group tested every `every_days` days, kept by an industry grid, a town or
    a county of yours (screening officers and dispatchers)."""
    unit = unit_for_user(request.user, payload.unit)
    with _domain_errors():
        group = group_create(
            unit=unit, name=payload.name, kind=payload.kind, every_days=payload.every_days,
            by=request.user,
        )  # fmt: skip
    return Status(
        201,
        {
            "id": group.pk,
            "name": group.name,
            "unit": unit.code,
            "kind": group.kind,
            "every_days": group.every_days,
        },
    )


class MemberLeftOut(Schema):
    id: int
    left_on: date


@router.post("/groups/{group_id}/members/{member_id}/leave", response={200: MemberLeftOut})
def post_group_member_leave(request, group_id: RecordId, member_id: RecordId):
    """Take a member off the group today (they changed jobs); the row stays with the day,
    as on the group's page."""
    group = group_for_user(request.user, group_id)
    member = group_member_for_user(request.user, group, member_id)
    with _domain_errors():
        member = group_member_remove(member=member, by=request.user)
    return {"id": member.pk, "left_on": member.left_on}
