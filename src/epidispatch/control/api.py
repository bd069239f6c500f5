"""Key-population control in the JSON API (/api/v1/control/…): the same scoped selectors
and services as the pages. The board answers the §8 figures and what the page shows
beside them; a unit or case outside the caller's scope is a 404."""

import contextlib
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from epidispatch.orgunits.selectors import unit_for_user

from .selectors import area_summary, case_for_user, control_board, persons_under_measures
from .services import health_check_record

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


class PersonOut(Schema):
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


@router.get("/units/{code}/persons", response=list[PersonOut])
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
