"""Field work in the JSON API (/api/v1/field/…): the same scoped selectors and services as
the pages. Visits are posted as multipart forms, so a proof photo travels with them:

    curl -H "Authorization: Bearer $TOKEN" -F outcome=refused \\
        http://127.0.0.1:8000/api/v1/field/residents/42/visits
"""

import contextlib
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from epidispatch.core.bounds import MAX_BIGINT, NOTE_MAX, Moment, RecordId, UnitCode, text
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.registry.selectors import resident_for_user, resident_ref_for_user

from .models import CheckpointState, FollowUpOutcome, Severity, VisitOutcome
from .permissions import checkpoint_units, records_visits_for
from .selectors import (
    follow_up_for_user,
    follow_ups_open,
    to_visit_clearance,
    to_visit_due,
    visits_of,
)
from .services import checkpoint_record_create, follow_up_complete, visit_record

router = Router(tags=["field work"])

#: How many rows a list answers at most (the page shows the same).
LIST_LIMIT = 500


@contextlib.contextmanager
def _domain_errors():
    """Domain errors as HTTP answers: refused is 403, invalid is 422 with the message."""
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None


class VisitIn(Schema):
    outcome: VisitOutcome
    reason: text(200) = ""
    note: text(NOTE_MAX) = ""
    #: The latest visit the caller knew of (0: none); omit to skip the check.
    seen_visit: Annotated[int, Field(ge=0, le=MAX_BIGINT)] | None = None
    #: Made by the caller once per form: sending it again stores nothing new.
    submission_id: UUID | None = None


class OtherVisitOut(Schema):
    id: int
    outcome: VisitOutcome
    worker: str
    visited_at: datetime


class VisitOut(Schema):
    id: int
    resident: int
    outcome: VisitOutcome
    visited_at: datetime
    has_proof: bool
    duplicate: bool = False
    #: A visit someone else saved after `seen_visit`: the caller should be told.
    conflict: OtherVisitOut | None = None


def _visit_out(visit, *, duplicate=False, conflict=None) -> dict:
    return {
        "id": visit.pk,
        "resident": visit.resident_id,
        "outcome": visit.outcome,
        "visited_at": visit.visited_at,
        "has_proof": bool(visit.proof),
        "duplicate": duplicate,
        "conflict": (
            {
                "id": conflict.pk,
                "outcome": conflict.outcome,
                "worker": str(conflict.worker),
                "visited_at": conflict.visited_at,
            }
            if conflict
            else None
        ),
    }


@router.post("/residents/{resident_id}/visits", response={200: VisitOut, 201: VisitOut})
def post_visit(
    request, resident_id: RecordId, data: Form[VisitIn], proof: File[UploadedFile | None] = None
):
    """Record a visit of a resident in your scope (404 outside it, 403 for roles that do
    not visit). 201 when stored, 200 when this `submission_id` was stored already."""
    resident = resident_ref_for_user(request.user, resident_id)
    with _domain_errors():
        result = visit_record(
            resident=resident,
            outcome=data.outcome,
            by=request.user,
            reason=data.reason,
            note=data.note,
            proof=proof,
            seen_visit_id=data.seen_visit,
            submission_id=data.submission_id,
        )
    return Status(
        200 if result.duplicate else 201,
        _visit_out(result.visit, duplicate=result.duplicate, conflict=result.conflict),
    )


class VisitListOut(Schema):
    id: int
    outcome: VisitOutcome
    worker: str
    visited_at: datetime
    has_proof: bool


@router.get("/residents/{resident_id}/visits", response=list[VisitListOut])
def list_visits(request, resident_id: RecordId):
    """A resident's visits, newest first."""
    resident = resident_for_user(request.user, resident_id)
    return [
        {
            "id": v.pk,
            "outcome": v.outcome,
            "worker": str(v.worker),
            "visited_at": v.visited_at,
            "has_proof": bool(v.proof),
        }
        for v in visits_of(request.user, resident)[:LIST_LIMIT]
    ]


class ToVisitOut(Schema):
    resident: int
    name: str
    grid: str
    id_number: str
    phone: str
    status: str
    reason: str
    next_dose: int | None = None
    due_by: date | None = None
    overdue: bool = False
    last_outcome: str | None = None


class VisitRoundOut(Schema):
    clearance: list[ToVisitOut]
    due: list[ToVisitOut]


@router.get("/units/{code}/round", response=VisitRoundOut)
def get_round(request, code: str):
    """The round of a unit: its 清零 list, then next doses due (the overdue first), with
    masked ID numbers and phones. At most 500 of each."""
    unit = unit_for_user(request.user, code)
    return {
        "clearance": [
            {
                "resident": r.pk,
                "name": r.name,
                "grid": r.grid.code,
                "id_number": r.id_number_masked,
                "phone": r.phone_masked,
                "status": r.status,
                "reason": r.unvaccinated_reason,
                "last_outcome": r.last_outcome,
            }
            for r in to_visit_clearance(request.user, unit)[:LIST_LIMIT]
        ],
        "due": [
            {
                "resident": s.resident_id,
                "name": s.resident.name,
                "grid": s.resident.grid.code,
                "id_number": s.resident.id_number_masked,
                "phone": s.resident.phone_masked,
                "status": s.resident.status,
                "reason": s.resident.unvaccinated_reason,
                "next_dose": s.next_dose_number,
                "due_by": s.next_due_by,
                "overdue": s.overdue,
                "last_outcome": s.last_outcome,
            }
            for s in to_visit_due(request.user, unit)[:LIST_LIMIT]
        ],
    }


class CheckpointIn(Schema):
    unit: UnitCode
    place: text(100)
    seen_at: Moment
    id_number: text(24) = ""
    phone: text(20) = ""
    name: text(60) = ""


class CheckpointOut(Schema):
    id: int
    matched: bool
    state: CheckpointState


@router.post("/checkpoint-records", response={201: CheckpointOut})
def post_checkpoint_record(request, data: CheckpointIn):
    """二码联查: a person seen unvaccinated. `matched` says whether they are a resident of
    the county (their grid worker then has the task); nothing else about them is told."""
    unit = checkpoint_units(request.user).filter(code=data.unit).first()
    if unit is None:
        raise HttpError(403, "Forbidden")
    with _domain_errors():
        record = checkpoint_record_create(
            unit=unit,
            place=data.place,
            seen_at=data.seen_at,
            id_number=data.id_number,
            phone=data.phone,
            name=data.name,
            by=request.user,
        )
    return Status(
        201, {"id": record.pk, "matched": record.resident_id is not None, "state": record.state}
    )


class FollowUpOut(Schema):
    id: int
    resident: int
    name: str
    product: str
    given_on: date
    due_by: date


@router.get("/units/{code}/follow-ups", response=list[FollowUpOut])
def list_follow_ups(request, code: str):
    """Open 60+ follow-ups under a unit, the most urgent first."""
    unit = unit_for_user(request.user, code)
    return [
        {
            "id": f.pk,
            "resident": f.resident_id,
            "name": f.resident.name,
            "product": f.dose.product.name,
            "given_on": f.dose.given_on,
            "due_by": f.due_by,
        }
        for f in follow_ups_open(request.user, unit)[:LIST_LIMIT]
    ]


class FollowUpIn(Schema):
    outcome: FollowUpOutcome
    note: text(NOTE_MAX) = ""
    severity: Severity | None = None
    description: text(NOTE_MAX) = ""


@router.post("/follow-ups/{follow_up_id}", response=FollowUpOut)
def post_follow_up(request, follow_up_id: RecordId, data: FollowUpIn):
    """Record a follow-up; a suspected adverse reaction opens a report."""
    item = follow_up_for_user(request.user, follow_up_id)
    if not records_visits_for(request.user, item.grid):
        raise HttpError(403, "Forbidden")
    with _domain_errors():
        follow_up_complete(
            follow_up=item,
            outcome=data.outcome,
            note=data.note,
            severity=data.severity or "",
            description=data.description,
            by=request.user,
        )
    return {
        "id": item.pk,
        "resident": item.resident_id,
        "name": item.resident.name,
        "product": item.dose.product.name,
        "given_on": item.dose.given_on,
        "due_by": item.due_by,
    }
