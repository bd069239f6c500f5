"""Change feeds that never skip a row (issue 28): rows are paged by the transaction that
wrote them, not by their id alone.

Ids come from a sequence when a row is inserted, but transactions commit in another order:
a follower that read past id 6 would never see id 5 committed a moment later. On
PostgreSQL each feed row carries `txid`, the id of the transaction that wrote it
(`pg_current_xact_id()`, a column default, so COPY fills it too), and a feed pages by
(txid, id) and gives only the rows whose transaction is below
`pg_snapshot_xmin(pg_current_snapshot())`: every transaction below it has ended, so no
row can appear before the cursor later. The cursor is the opaque string "<txid>.<id>".

On SQLite (the demo, one writer at a time) `txid` stays NULL and ids commit in order:
the feed pages by id and the cursor is "0.<id>". A bare "<id>" (the cursors the feeds
answered before) reads as "0.<id>": the rows written before the upgrade carry txid 0."""

import re

from django.db import connection
from django.db.models import BigIntegerField, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

from epidispatch.core.bounds import MAX_BIGINT

#: A feed cursor as a query parameter: "<txid>.<id>" or a bare "<id>".
CURSOR_PATTERN = r"^[0-9]{1,19}(\.[0-9]{1,19})?$"
_CURSOR = re.compile(CURSOR_PATTERN)


class CurrentTxid(Func):
    """The id of the writing transaction as a bigint on PostgreSQL (NULL elsewhere): the
    `txid` columns' default, and what an update that must reappear in a feed sets."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = BigIntegerField()

    def __init__(self):
        super().__init__(output_field=BigIntegerField())

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            return "NULL", []
        return self.template, []


def parse_cursor(value: str) -> tuple[int, int]:
    """(txid, id) of a cursor; ValueError if it is not one (or out of bigint range)."""
    if not _CURSOR.match(value or ""):
        raise ValueError("cursor")
    txid, _, pk = value.rpartition(".") if "." in value else ("0", "", value)
    txid_int, pk_int = int(txid), int(pk)
    if txid_int > MAX_BIGINT or pk_int > MAX_BIGINT:
        raise ValueError("cursor")
    return txid_int, pk_int


def format_cursor(txid: int | None, pk: int) -> str:
    return f"{txid or 0}.{pk}"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def settled(queryset: QuerySet) -> QuerySet:
    """The rows whose writing transaction has ended, and every transaction before it: below
    the current snapshot's xmin. The rows of the asking transaction itself count too (it
    sees them; a follower's read writes no feed row, a test's transaction does)."""
    if not _postgres():
        return queryset
    return queryset.filter(
        Q(txid__lt=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", []))
        | Q(txid=RawSQL("pg_current_xact_id_if_assigned()::text::bigint", []))
    )


def after(queryset: QuerySet, cursor: tuple[int, int], *, key: str = "pk") -> QuerySet:
    """The settled rows after `cursor`, in feed order ((txid, key) on PostgreSQL, key
    else); `key` the row's feed id (a tombstone's: the id of what it replaces)."""
    txid, pk = cursor
    if not _postgres():
        return queryset.filter(**{f"{key}__gt": pk}).order_by(key)
    return settled(
        queryset.filter(Q(txid__gt=txid) | Q(txid=txid, **{f"{key}__gt": pk})).order_by("txid", key)
    )


def page(queryset: QuerySet, *, cursor: tuple[int, int], limit: int) -> dict:
    """At most `limit` rows after `cursor`: {"items", "next_cursor", "has_more"}. One query."""
    rows = list(after(queryset, cursor)[: limit + 1])
    items = rows[:limit]
    last = items[-1] if items else None
    return {
        "items": items,
        "next_cursor": format_cursor(last.txid, last.pk) if last else format_cursor(*cursor),
        "has_more": len(rows) > limit,
    }
