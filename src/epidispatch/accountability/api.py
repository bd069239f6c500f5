"""The reward–penalty record (约谈 · 通报批评 · 问责 · 通报表扬) in the JSON API
(/api/v1/accountability/…): the cases about units of the caller's scope, with their
history, read-only (decisions are taken on the page, where the dispatcher sees the cause).
A case outside the scope is a 404."""

from datetime import date, datetime

from ninja import Field, Query, Router, Schema

from epidispatch.core.bounds import RecordId
from epidispatch.core.paging import CursorQuery, cursor_page

from .models import CaseState, Cause, Kind
from .selectors import case_for_user, cases_visible_to

router = Router(tags=["accountability"])


class CaseOut(Schema):
    id: int
    unit: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    kind: Kind
    state: CaseState
    cause: Cause
    summary: str
    streak: int | None
    persons: str
    decision: str
    decided_at: datetime | None
    pledge: str
    pledge_deadline: date | None
    created_at: datetime


class CasePageOut(Schema):
    items: list[CaseOut]
    next_cursor: int
    has_more: bool


class CaseFilters(CursorQuery):
    state: CaseState | None = None
    kind: Kind | None = None


@router.get("/cases", response=CasePageOut)
def list_cases(request, filters: Query[CaseFilters]):
    """Cases about units of your scope (in `state`, of `kind`), oldest first by id: a page
    of `limit` after `cursor`."""
    cases = cases_visible_to(request.user)
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    return cursor_page(cases, cursor=filters.cursor, limit=filters.limit)


class EventOut(Schema):
    at: datetime
    state: CaseState
    note: str


class CaseDetailOut(CaseOut):
    events: list[EventOut]

    @staticmethod
    def resolve_events(case) -> list:
        return list(case.events.order_by("at", "pk"))


@router.get("/cases/{case_id}", response=CaseDetailOut)
def get_case(request, case_id: RecordId):
    """One case of your scope with its history (proposed, decided, closed …)."""
    return case_for_user(request.user, case_id)
