"""Cursor pagination for the API's long lists: the caller keeps `next_cursor` and asks
again with it while `has_more`, so a script walks a county's residents or ledger without
offsets that shift under inserts (DHIS2 and OpenLMIS page their lists the same way)."""

from typing import Annotated

from ninja import Schema
from pydantic import Field

from epidispatch.core.bounds import MAX_BIGINT

#: Rows a page holds unless the caller asks for fewer (or more, up to MAX_LIMIT).
DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Cursor = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]


class CursorQuery(Schema):
    """`cursor`: the `next_cursor` of the previous page (0 for the first); `limit`: rows."""

    cursor: Cursor = 0
    limit: Limit = DEFAULT_LIMIT


def cursor_page(queryset, *, cursor: int, limit: int, key: str = "pk") -> dict:
    """The rows of `queryset` after `cursor` by `key` (ascending, unique), at most `limit`:
    `{"items", "next_cursor", "has_more"}`. One query."""
    rows = list(queryset.filter(**{f"{key}__gt": cursor}).order_by(key)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": rows,
        "next_cursor": getattr(rows[-1], key) if rows else cursor,
        "has_more": has_more,
    }
