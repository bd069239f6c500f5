"""Inspections in the JSON API (/api/v1/inspection/…): key places, inspections, problems
and rectifications, through the same scoped selectors and services as the pages. A
rectification is posted as a multipart form, so its photos travel with it:

    curl -H "Authorization: Bearer $TOKEN" -F note=已整改 -F evidence=@photo.jpg \\
        http://127.0.0.1:8000/api/v1/inspection/problems/42/rectifications
"""

import contextlib
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from epidispatch.core.ids import mask_phone
from epidispatch.orgunits.selectors import unit_for_user

from .models import InspectionKind, ProblemState, RectificationOutcome
from .selectors import (
    inspections_visible_to,
    places_of_unit,
    places_visible_to,
    problem_for_user,
    problems_visible_to,
    rectifications_visible_to,
)
from .services import rectification_review, rectification_submit

router = Router(tags=["inspection"])

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


class PlaceOut(Schema):
    id: int
    name: str
    category: str
    address: str
    grid: str | None
    responsible_unit: str
    contact_name: str
    contact_phone: str  # masked


@router.get("/places", response=list[PlaceOut])
def list_places(request, unit: str | None = None):
    """Key places in your scope (or assigned to your team), optionally under `unit`."""
    places = places_visible_to(request.user)
    if unit:
        places = places_of_unit(request.user, unit_for_user(request.user, unit))
    return [
        {
            "id": p.pk,
            "name": p.name,
            "category": p.category.name,
            "address": p.address,
            "grid": p.grid.code if p.grid_id else None,
            "responsible_unit": p.responsible_unit.code,
            "contact_name": p.contact_name,
            "contact_phone": mask_phone(p.contact_phone),
        }
        for p in places[:LIST_LIMIT]
    ]


class InspectionOut(Schema):
    id: int
    place: int
    kind: InspectionKind
    team: str | None
    inspector: str
    done_at: datetime
    problems: int


@router.get("/inspections", response=list[InspectionOut])
def list_inspections(request, place: int | None = None):
    """Inspections of places in your scope, newest first."""
    inspections = inspections_visible_to(request.user)
    if place is not None:
        inspections = inspections.filter(place_id=place)
    return [
        {
            "id": i.pk,
            "place": i.place_id,
            "kind": i.kind,
            "team": i.team.name if i.team_id else None,
            "inspector": str(i.inspector),
            "done_at": i.done_at,
            "problems": i.problem_count,
        }
        for i in inspections[:LIST_LIMIT]
    ]


class ProblemOut(Schema):
    id: int
    place: int
    place_name: str
    category: str
    description: str
    responsible_unit: str
    person_on_duty: str
    found_at: datetime
    deadline: datetime
    state: ProblemState
    escalated_at: datetime | None
    verified_at: datetime | None


def _problem_out(p) -> dict:
    return {
        "id": p.pk,
        "place": p.place_id,
        "place_name": p.place.name,
        "category": p.place.category.name,
        "description": p.description,
        "responsible_unit": p.responsible_unit.code,
        "person_on_duty": p.person_on_duty,
        "found_at": p.found_at,
        "deadline": p.deadline,
        "state": p.state,
        "escalated_at": p.escalated_at,
        "verified_at": p.verified_at,
    }


@router.get("/problems", response=list[ProblemOut])
def list_problems(request, state: ProblemState | None = None):
    """Problems of units in your scope (or found by your team), by deadline."""
    problems = problems_visible_to(request.user)
    if state:
        problems = problems.filter(state=state)
    return [_problem_out(p) for p in problems[:LIST_LIMIT]]


@router.get("/problems/{problem_id}", response=ProblemOut)
def get_problem(request, problem_id: int):
    return _problem_out(problem_for_user(request.user, problem_id))


class RectificationOut(Schema):
    id: int
    problem: int
    note: str
    submitted_by: str
    submitted_at: datetime
    outcome: RectificationOutcome
    reviewed_by: str | None
    reviewed_at: datetime | None
    reason: str
    evidence: int


def _rectification_out(r, evidence: int) -> dict:
    return {
        "id": r.pk,
        "problem": r.problem_id,
        "note": r.note,
        "submitted_by": str(r.submitted_by),
        "submitted_at": r.submitted_at,
        "outcome": r.outcome,
        "reviewed_by": str(r.reviewed_by) if r.reviewed_by_id else None,
        "reviewed_at": r.reviewed_at,
        "reason": r.reason,
        "evidence": evidence,
    }


@router.get("/problems/{problem_id}/rectifications", response=list[RectificationOut])
def list_rectifications(request, problem_id: int):
    problem = problem_for_user(request.user, problem_id)
    rows = rectifications_visible_to(request.user).filter(problem=problem)
    return [_rectification_out(r, r.evidence.count()) for r in rows.prefetch_related("evidence")]


class RectificationIn(Schema):
    note: str


@router.post("/problems/{problem_id}/rectifications", response={201: RectificationOut})
def post_rectification(
    request,
    problem_id: int,
    data: Form[RectificationIn],
    evidence: File[list[UploadedFile]] = None,
):
    """The responsible unit submits a rectification with its photos or videos."""
    problem = problem_for_user(request.user, problem_id)
    with _domain_errors():
        rectification = rectification_submit(
            problem=problem, note=data.note, evidence=list(evidence or []), by=request.user
        )
    return Status(201, _rectification_out(rectification, rectification.evidence.count()))


class ReviewIn(Schema):
    verify: bool
    reason: str = ""


@router.post("/rectifications/{rectification_id}/review", response=RectificationOut)
def post_review(request, rectification_id: int, data: ReviewIn):
    """The inspection team or the office verifies a rectification or sends it back."""
    rectification = get_object_or_404(rectifications_visible_to(request.user), pk=rectification_id)
    with _domain_errors():
        reviewed = rectification_review(
            rectification=rectification, verify=data.verify, reason=data.reason, by=request.user
        )
    return _rectification_out(reviewed, reviewed.evidence.count())
