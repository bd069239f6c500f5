"""Supply in the JSON API (/api/v1/supply/…): stock on hand and a lot's trace, scoped to
the caller's units like every read."""

from datetime import date

from ninja import Field, Router, Schema

from .selectors import lot_trace_for, stock_on_hand

router = Router(tags=["supply"])

#: How many rows a list answers at most.
LIST_LIMIT = 1000


class BalanceOut(Schema):
    holder: str = Field(alias="holder.code")
    item: str = Field(alias="lot.item.name")
    lot: str = Field(alias="lot.number")
    expires_on: date = Field(alias="lot.expires_on")
    on_hand: int


class SiteDosesOut(Schema):
    code: str | None
    doses: int


class TraceOut(Schema):
    lot: str
    product: str | None
    doses: int
    residents: int
    sites: list[SiteDosesOut]
    received: int
    on_hand: int


@router.get("/stock", response=list[BalanceOut])
def list_stock(request):
    """Stock on hand of every store and site in your units, the first to expire first."""
    return stock_on_hand(request.user)[:LIST_LIMIT]


@router.get("/lots/{number}/trace", response=TraceOut)
def get_lot_trace(request, number: str):
    """`trace_lot`'s figures within your units: doses, people, sites, receipts, on hand."""
    return lot_trace_for(request.user, number[:40])
