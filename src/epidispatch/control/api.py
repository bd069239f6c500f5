"""Key-population control in the JSON API (/api/v1/control/…): the same scoped selectors
and services as the pages. The board answers the §8 figures and what the page shows
beside them; a unit or case outside the caller's scope is a 404."""

import contextlib
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from epidispatch.core.bounds import Day, Moment, RecordId, UnitCode, text
from epidispatch.orgunits.selectors import unit_for_user

from .models import (
    AreaLevel,
    CandidateReason,
    CandidateState,
    Category,
    ControlArea,
    ControlCase,
    PositiveCase,
    ReadinessItem,
    ResponseStep,
    Source,
    TestResult,
)
from .schemas import KeyPersonCaseOut
from .selectors import (
    area_for_user,
    area_summary,
    candidates_of,
    case_for_user,
    control_board,
    grid_named,
    persons_under_measures,
    positive_for_user,
)
from .services import (
    Stop,
    area_create,
    area_lift,
    area_update,
    case_extend,
    case_register,
    case_release,
    case_test_record,
    case_transfer,
    contacts_confirm,
    health_check_record,
    key_person_resolve,
    plan_item_check,
    positive_record,
    response_step_done,
)

router = Router(tags=["key persons"])


@contextlib.contextmanager
def _domain_errors():
    """Refused is 403, invalid is 422 with the message."""
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None


class FlagOut(Schema):
    kind: str
    name: str
    id_number_masked: str
    grid: str
    unit: str
    ends_on: date
    days: int


class AreaOut(Schema):
    name: str
    unit: str
    level: str | None


class BoardOut(Schema):
    centralized_isolation: int
    home_isolation: int
    home_monitoring: int
    ending_today: int
    ended: int
    checked_in: int
    missed_checkins: int
    tests_due: int
    tests_missing: int
    flags: list[FlagOut]
    areas: list[AreaOut]


@router.get("/units/{code}/board", response=BoardOut)
def get_board(request, code: str, as_of: date | None = None):
    """The 底清数明 board of a unit on `as_of` (default today): the figures of
    `epidispatch control_board`, then check-ins, tests, flags and control areas."""
    unit = unit_for_user(request.user, code)
    board = control_board(request.user, unit, as_of or timezone.localdate())
    return {
        **board.figures(),
        "checked_in": board.checked_in,
        "missed_checkins": board.missed_checkins,
        "tests_due": board.tests_due,
        "tests_missing": board.tests_missing,
        "flags": [
            {
                "kind": flag.kind,
                "name": flag.case.person.name,
                "id_number_masked": flag.case.person.id_number_masked,
                "grid": flag.case.grid.code,
                "unit": flag.unit,
                "ends_on": flag.case.ends_on,
                "days": flag.days,
            }
            for flag in board.flags
        ],
        "areas": [
            {"name": row.area.name, "unit": row.area.unit.code, "level": row.level}
            for row in board.areas
        ],
    }


class KeyPersonOut(Schema):
    case: int
    name: str
    id_number_masked: str
    phone_masked: str
    grid: str
    category: str
    measure: str
    phase_day: int
    ends_on: date
    test_due: bool
    tested: bool
    checked_in: bool


@router.get("/units/{code}/persons", response=list[KeyPersonOut])
def list_persons(request, code: str, day: date | None = None):
    """People under the unit under measures on `day` (default today), with what is due."""
    unit = unit_for_user(request.user, code)
    return [
        {
            "case": row.case.pk,
            "name": row.case.person.name,
            "id_number_masked": row.case.person.id_number_masked,
            "phone_masked": row.case.person.phone_masked,
            "grid": row.case.grid.code,
            "category": row.case.category,
            "measure": row.measure,
            "phase_day": row.phase_day,
            "ends_on": row.case.ends_on,
            "test_due": row.test_due,
            "tested": row.tested,
            "checked_in": row.checked_in,
        }
        for row in persons_under_measures(request.user, unit, day or timezone.localdate())
    ]


class CheckInIn(Schema):
    temperature: Decimal = Field(max_digits=3, decimal_places=1)
    symptoms: str = Field("", max_length=200)


class CheckInOut(Schema):
    id: int
    day: date


@router.post("/cases/{case_id}/check-ins", response={201: CheckInOut})
def post_check_in(request, case_id: int, payload: CheckInIn):
    """Today's health check-in of a person under measures (once a day)."""
    case = case_for_user(request.user, case_id)
    with _domain_errors():
        check = health_check_record(
            case=case, day=timezone.localdate(), temperature=payload.temperature,
            symptoms=payload.symptoms, by=request.user,
        )  # fmt: skip
    return Status(201, {"id": check.pk, "day": check.day})


class PlanCheckIn(Schema):
    ready: bool
    note: text(200) = ""


class PlanCheckOut(Schema):
    unit: str
    item: ReadinessItem
    ready: bool
    note: str
    checked_on: date


@router.post("/units/{code}/plan/{item}", response={200: PlanCheckOut})
def post_plan_check(request, code: UnitCode, item: ReadinessItem, payload: PlanCheckIn):
    """Record one item of the unit's emergency plan (五个到位) as checked today, in place
    or not, as the board's form does (the control group and the town's officials)."""
    unit = unit_for_user(request.user, code)
    with _domain_errors():
        row = plan_item_check(
            unit=unit, item=item, ready=payload.ready, note=payload.note,
            on=timezone.localdate(), by=request.user,
        )  # fmt: skip
    return {
        "unit": unit.code,
        "item": row.item,
        "ready": row.ready,
        "note": row.note,
        "checked_on": row.checked_on,
    }


class AreaRowOut(Schema):
    id: int
    name: str
    unit: str
    addresses: list[str]
    policy: str
    level_at_start: str
    level: str | None
    started_on: date
    last_case_on: date
    ended_on: date | None
    residents: int
    under_measures: int


class AreaCountsOut(Schema):
    high: int
    medium: int
    low: int


class AreasOut(Schema):
    day: date
    counts: AreaCountsOut
    areas: list[AreaRowOut]


@router.get("/units/{code}/areas", response=AreasOut)
def list_areas(request, code: str, as_of: date | None = None, lifted: bool = False):
    """The control areas (管控区) on, below or above a unit on `as_of` (default today): the
    areas in force by level, and each area with its level that day (null once lifted, listed
    only with `lifted=true`), the residents living in it and the people under measures."""
    unit = unit_for_user(request.user, code)
    summary = area_summary(request.user, unit, as_of or timezone.localdate(), lifted=lifted)
    return {
        "day": summary.day,
        "counts": summary.counts(),
        "areas": [
            {
                "id": row.area.pk,
                "name": row.area.name,
                "unit": row.area.unit.code,
                "addresses": row.area.address_list(),
                "policy": row.area.policy.name,
                "level_at_start": row.area.level,
                "level": row.level,
                "started_on": row.area.started_on,
                "last_case_on": row.area.last_case_on,
                "ended_on": row.area.ended_on,
                "residents": row.residents,
                "under_measures": row.under_measures,
            }
            for row in summary.rows
        ],
    }


# Writes: the same services as the pages (permissions, rules, audit), answered with the
# case or the area as it stands after the write.


class ControlCaseOut(KeyPersonCaseOut):
    id: int
    transferred_on: date | None
    isolation_place: str
    extra_days: int
    local_decision: str
    released_on: date | None


def _case_out(case: ControlCase) -> dict:
    person = case.person
    return {
        "id": case.pk,
        "person": person.pk,
        "name": person.name,
        "id_number_masked": person.id_number_masked,
        "phone_masked": person.phone_masked,
        "grid": case.grid.code,
        "category": case.category,
        "source": case.source,
        "reference_date": case.reference_date,
        "registered_on": case.registered_on,
        "policy": case.policy.name,
        "phases": case.plan,
        "ends_on": case.ends_on,
        "transferred_on": case.transferred_on,
        "isolation_place": case.isolation_place,
        "extra_days": case.extra_days,
        "local_decision": case.local_decision,
        "released_on": case.released_on,
    }


class KeyPersonIn(Schema):
    name: text(60)
    id_number: text(30)
    phone: text(20) = ""
    category: Category
    reference_date: Day
    source: Source
    #: Where the person stays, needed when they are not a registered resident.
    grid: text(20) = ""
    address: text(200) = ""


@router.post("/key-persons", response={200: ControlCaseOut, 201: ControlCaseOut})
def post_key_person(request, payload: KeyPersonIn):
    """Put one person under the measures of the version in force today (a self-report, a
    checkpoint, tracing), as the registration page does: 201 with the new case, 200 with
    the stored one when the same person, category and reference date is registered
    already. A non-resident needs `grid`, a grid within your units (422 otherwise)."""
    with _domain_errors(), transaction.atomic():
        grid = grid_named(request.user, payload.grid)
        person = key_person_resolve(
            name=payload.name, id_number=payload.id_number, phone=payload.phone, grid=grid,
            address=payload.address,
        )  # fmt: skip
        registration = case_register(
            person=person, category=payload.category, reference_date=payload.reference_date,
            registered_on=timezone.localdate(), source=payload.source, by=request.user,
        )  # fmt: skip
    case = case_for_user(request.user, registration.case.pk)
    return Status(201 if registration.created else 200, _case_out(case))


class TestIn(Schema):
    result: TestResult


@router.post("/cases/{case_id}/tests", response={201: ControlCaseOut})
def post_case_test(request, case_id: RecordId, payload: TestIn):
    """Today's nucleic-acid result of a person under measures, entered by hand (the same
    result again changes nothing; a different one for the day is refused)."""
    case = case_for_user(request.user, case_id)
    with _domain_errors():
        case_test_record(
            case=case, day=timezone.localdate(), result=payload.result, by=request.user,
            source=_("entered by hand"),
        )  # fmt: skip
    return Status(201, _case_out(case))


@router.post("/cases/{case_id}/release", response={200: ControlCaseOut})
def post_case_release(request, case_id: RecordId):
    """Release (解除管控) today, once the last phase has ended and every required test is
    negative; 422 saying what is missing otherwise."""
    case = case_for_user(request.user, case_id)
    with _domain_errors():
        case = case_release(case=case, on=timezone.localdate(), by=request.user)
    return _case_out(case_for_user(request.user, case.pk))


class IsolationTransferIn(Schema):
    place: text(100)


@router.post("/cases/{case_id}/transfer", response={200: ControlCaseOut})
def post_case_transfer(request, case_id: RecordId, payload: IsolationTransferIn):
    """Transfer to centralized isolation at `place` from today until the end of the
    current phase."""
    case = case_for_user(request.user, case_id)
    with _domain_errors():
        case_transfer(case=case, on=timezone.localdate(), place=payload.place, by=request.user)
    return _case_out(case_for_user(request.user, case.pk))


class ExtendIn(Schema):
    days: int = Field(ge=1, le=14)
    decision: text(150)


@router.post("/cases/{case_id}/extend", response={200: ControlCaseOut})
def post_case_extend(request, case_id: RecordId, payload: ExtendIn):
    """Keep a person longer than their version says, as a recorded local decision of
    today (the control group only)."""
    case = case_for_user(request.user, case_id)
    with _domain_errors():
        case_extend(
            case=case, days=payload.days, decision=payload.decision,
            decided_on=timezone.localdate(), by=request.user,
        )  # fmt: skip
    return _case_out(case_for_user(request.user, case.pk))


class AreaWrittenOut(Schema):
    id: int
    name: str
    unit: str
    addresses: list[str]
    policy: str
    level_at_start: AreaLevel
    started_on: date
    last_case_on: date
    ended_on: date | None


def _area_out(area: ControlArea) -> dict:
    return {
        "id": area.pk,
        "name": area.name,
        "unit": area.unit.code,
        "addresses": area.address_list(),
        "policy": area.policy.name,
        "level_at_start": area.level,
        "started_on": area.started_on,
        "last_case_on": area.last_case_on,
        "ended_on": area.ended_on,
    }


class AreaIn(Schema):
    name: text(100)
    level: AreaLevel
    started_on: Day
    #: The day of the last new case; the start when absent.
    last_case_on: Day | None = None
    #: One address a line (at most 200); empty: the whole unit.
    addresses: text(20_000) = ""


@router.post("/units/{code}/areas", response={201: AreaWrittenOut})
def post_area(request, code: UnitCode, payload: AreaIn):
    """Draw a control area (划定管控区) on a unit, or on addresses in it, at a level of the
    version in force on `started_on` (the control group only)."""
    unit = unit_for_user(request.user, code)
    with _domain_errors():
        area = area_create(
            unit=unit, name=payload.name, level=payload.level, started_on=payload.started_on,
            last_case_on=payload.last_case_on, addresses=payload.addresses, by=request.user,
        )  # fmt: skip
    return Status(201, _area_out(area))


class AreaUpdateIn(Schema):
    name: text(100)
    level: AreaLevel
    last_case_on: Day
    addresses: text(20_000) = ""


@router.post("/areas/{area_id}", response={200: AreaWrittenOut})
def post_area_update(request, area_id: RecordId, payload: AreaUpdateIn):
    """Change an area in force: its name and addresses, and after a new case its level
    and the day of that case (the downgrade counts again from it)."""
    area = area_for_user(request.user, area_id)
    with _domain_errors():
        area = area_update(
            area=area, name=payload.name, level=payload.level,
            last_case_on=payload.last_case_on, addresses=payload.addresses, by=request.user,
        )  # fmt: skip
    return _area_out(area)


class LiftIn(Schema):
    on: Day


@router.post("/areas/{area_id}/lift", response={200: AreaWrittenOut})
def post_area_lift(request, area_id: RecordId, payload: LiftIn):
    """Lift an area (解除管控区) from `on`; it stays in the history."""
    area = area_for_user(request.user, area_id)
    with _domain_errors():
        area = area_lift(area=area, on=payload.on, by=request.user)
    return _area_out(area)


# First response (第一时间第一落点): a positive person, the first-hour checklist, and the
# contacts the platform proposes, confirmed as 密接 or 次密接.


class StopIn(Schema):
    place: text(100) = Field(min_length=1)
    started_at: Moment
    ended_at: Moment


class PositiveIn(Schema):
    name: text(60)
    id_number: text(30)
    #: Where the person stays, needed when they are not a registered resident.
    grid: text(20) = ""
    address: text(200) = ""
    found_on: Day
    trajectory: list[StopIn] = Field(default_factory=list, max_length=100)


class StepOut(Schema):
    step: ResponseStep
    done_at: datetime


class ContactCandidateOut(Schema):
    id: int
    name: str
    id_number_masked: str
    grid: str
    reason: CandidateReason
    detail: str
    exposed_on: date
    state: CandidateState
    case: int | None


class PositiveOut(Schema):
    id: int
    name: str
    id_number_masked: str
    grid: str
    found_on: date
    steps: list[StepOut]
    candidates: list[ContactCandidateOut]


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _positive_out(request, positive: PositiveCase) -> dict:
    return {
        "id": positive.pk,
        "name": positive.person.name,
        "id_number_masked": positive.person.id_number_masked,
        "grid": positive.grid.code,
        "found_on": positive.found_on,
        "steps": [
            {"step": check.step, "done_at": check.done_at}
            for check in positive.steps.order_by("done_at", "pk")
        ],
        "candidates": [
            {
                "id": candidate.pk,
                "name": candidate.name,
                "id_number_masked": candidate.id_number_masked,
                "grid": candidate.grid.code,
                "reason": candidate.reason,
                "detail": candidate.detail,
                "exposed_on": candidate.exposed_on,
                "state": candidate.state,
                "case": candidate.case_id,
            }
            for candidate in candidates_of(request.user, positive)
        ],
    }


@router.post("/positives", response={201: PositiveOut})
def post_positive(request, payload: PositiveIn):
    """Record a positive person with their trajectory (the control group): "report" is
    ticked on the first-hour checklist and the contacts the platform's data gives are
    proposed as candidates, answered here."""
    with _domain_errors(), transaction.atomic():
        grid = grid_named(request.user, payload.grid)
        person = key_person_resolve(
            name=payload.name, id_number=payload.id_number, grid=grid, address=payload.address
        )
        positive = positive_record(
            person=person,
            found_on=payload.found_on,
            trajectory=[
                Stop(stop.place, _aware(stop.started_at), _aware(stop.ended_at))
                for stop in payload.trajectory
            ],
            by=request.user,
        )
    return Status(201, _positive_out(request, positive_for_user(request.user, positive.pk)))


@router.get("/positives/{positive_id}", response=PositiveOut)
def get_positive(request, positive_id: RecordId):
    """A positive case of your units: the checklist's ticked steps and the candidates
    (masked) you may see, the proposed first."""
    return _positive_out(request, positive_for_user(request.user, positive_id))


@router.post("/positives/{positive_id}/steps/{step}", response={200: PositiveOut})
def post_positive_step(request, positive_id: RecordId, step: ResponseStep):
    """Tick a step of the first-hour checklist (report, trace, control, test) with the
    time it was done; ticked once."""
    positive = positive_for_user(request.user, positive_id)
    with _domain_errors():
        response_step_done(positive=positive, step=step, by=request.user)
    return _positive_out(request, positive)


class ContactIn(Schema):
    candidate: RecordId
    category: Literal["close_contact", "secondary_contact"]


class ContactsIn(Schema):
    contacts: list[ContactIn] = Field(min_length=1, max_length=1000)


class ContactsOut(Schema):
    cases: list[ControlCaseOut]


@router.post("/positives/{positive_id}/contacts", response={201: ContactsOut})
def post_contacts(request, positive_id: RecordId, payload: ContactsIn):
    """Confirm proposed candidates as 密接 or 次密接 in one step (the control group): each
    is put under the measures of the version in force today, counted from their last
    exposure. All or nothing; a candidate you may not see is no candidate (422)."""
    positive = positive_for_user(request.user, positive_id)
    visible = set(candidates_of(request.user, positive).values_list("pk", flat=True))
    choices = {c.candidate: c.category for c in payload.contacts if c.candidate in visible}
    with _domain_errors():
        cases = contacts_confirm(
            positive=positive, choices=choices, on=timezone.localdate(), by=request.user
        )
    return Status(201, {"cases": [_case_out(case) for case in cases]})
