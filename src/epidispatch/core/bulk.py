"""Moving polars frames in and out of the database in bulk.

On PostgreSQL: `COPY ... FROM STDIN` to write and `= ANY(array)` to select by a long list
of keys, each one statement however many rows. Elsewhere (the SQLite demo) the portable
ORM calls in chunks: slower, same result.
"""

import io
from collections.abc import Iterable

import polars as pl
from django.db import connection
from django.utils import timezone

#: Keys per query on the portable path (SQLite allows 32,766 parameters).
CHUNK = 10_000
COPY_NULL = r"\N"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _column(model, field: str) -> str:
    return model._meta.get_field(field).column


def select_in(model, key: str, values: Iterable, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The `schema` fields (attribute names) of `model`'s rows whose `key` is in `values`."""
    values = list(values)
    fields = list(schema)
    if not values:
        return pl.DataFrame(schema=schema)
    if _postgres():
        columns = ", ".join(connection.ops.quote_name(_column(model, f)) for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)} "
                f"WHERE {connection.ops.quote_name(_column(model, key))} = ANY(%s)",
                [values],
            )
            rows = cursor.fetchall()
    else:
        rows = []
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            rows.extend(model.objects.filter(**{f"{key}__in": chunk}).values_list(*fields))
    return pl.DataFrame(rows, schema=schema, orient="row")


def insert_frame(model, frame: pl.DataFrame) -> None:
    """Insert every row of `frame`, whose columns are field attribute names of `model`."""
    if frame.is_empty():
        return
    if not _postgres():
        model.objects.bulk_create(
            (model(**row) for row in frame.iter_rows(named=True)), batch_size=1000
        )
        return
    frame = _with_defaults(model, frame)
    columns = ", ".join(connection.ops.quote_name(_column(model, f)) for f in frame.columns)
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value=COPY_NULL)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, NULL '{COPY_NULL}')"
        with cursor.cursor.copy(sql) as copy:
            copy.write(buffer.getvalue())


def _with_defaults(model, frame: pl.DataFrame) -> pl.DataFrame:
    """COPY bypasses the model, so the fields a frame leaves out get their defaults here."""
    now = timezone.now()
    missing = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in frame.columns:
            continue
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        missing[field.attname] = now if auto_now else field.get_default()
    return frame.with_columns(pl.lit(value).alias(name) for name, value in missing.items())


def delete_in(model, key: str, values: Iterable) -> None:
    values = list(values)
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} "
                f"WHERE {connection.ops.quote_name(_column(model, key))} = ANY(%s)",
                [values],
            )
        return
    for start in range(0, len(values), CHUNK):
        model.objects.filter(**{f"{key}__in": values[start : start + CHUNK]}).delete()


def update_frame(model, frame: pl.DataFrame) -> None:
    """Set the fields of `frame` on the rows named by its `id` column."""
    if frame.is_empty():
        return
    fields = [name for name in frame.columns if name != "id"]
    model.objects.bulk_update(
        [model(**row) for row in frame.iter_rows(named=True)], fields, batch_size=1000
    )
