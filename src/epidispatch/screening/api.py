"""Screening in the JSON API (/api/v1/screening/…): the same scoped selectors and services
as the pages, the same §8 figures as `epidispatch screening_coverage`."""

import contextlib
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Router, Schema
from ninja.errors import HttpError

from .selectors import (
    not_sampled_list,
    retest_list,
    round_area,
    round_coverage,
    round_for_user,
    rounds_visible_to,
)
from .services import sample_collect

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
