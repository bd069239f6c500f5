"""Moving polars frames in and out of the database in bulk.

On PostgreSQL: `COPY ... FROM STDIN` to write, and to select or delete by a list of keys
`= ANY(array)`, or for a long list (an import's) the keys copied into a temporary table
and the rows copied out with `COPY (SELECT ...) TO STDOUT`: a handful of statements however
many rows, and no Python object per row. Elsewhere (the SQLite demo) the portable ORM calls
in chunks: slower, same result.

A large COPY checks its foreign keys set-wise (docs/imports.md, "References"): the rows it
refers to are locked FOR KEY SHARE in one statement per foreign key and counted, and only
then are the rows copied with the per-row foreign-key triggers off for that one statement.
PostgreSQL's own check would run one query per row and reference, millions at commit for a
million-row import; the constraints stay declared and validated, and every other write is
checked by them as before.
"""

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import polars as pl
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

#: Keys per query on the portable path (SQLite allows 32,766 parameters).
CHUNK = 10_000
COPY_NULL = r"\N"
#: From this many keys on, PostgreSQL selects and deletes through a temporary key table.
KEY_TABLE_FROM = 10_000
KEY_TABLE = "bulk_keys"
#: Rows formatted per piece of a COPY.
COPY_SLICE = 50_000
#: From this many rows on, a COPY's foreign keys are checked set-wise (below, PostgreSQL's
#: per-row checks cost less than the statements of the set-wise check).
SETWISE_FROM = 5_000
#: `insert_frame(..., rebuild_indexes=fields)`: a COPY of at least this many rows, into a
#: table holding fewer than REBUILD_PER_ROW times as many, drops the table's secondary
#: indexes on those fields and builds them again after it (docs/imports.md, "Indexes").
REBUILD_FROM = 100_000
REBUILD_PER_ROW = 2
#: How long the DROP INDEX may wait for the table's readers before the COPY goes ahead
#: with the indexes in place.
REBUILD_LOCK_TIMEOUT = "2s"
#: maintenance_work_mem for building the indexes again (the transaction's alone).
REBUILD_MEMORY = "256MB"
#: `lock_rows` of at least this many rows remembers them for the rest of the transaction.
LOCK_REMEMBER_FROM = 10_000


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
    if _postgres() and len(values) >= KEY_TABLE_FROM:
        return _copy_select_in(model, key, values, schema)
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


@contextmanager
def key_table(values: list, db_type: str = "bigint") -> Iterator[str]:
    """A temporary table of `values` in a column `key`, loaded with one COPY and analysed
    (PostgreSQL only); yields its quoted name. Dropped when the block or the transaction
    ends."""
    table = connection.ops.quote_name(KEY_TABLE)
    buffer = io.BytesIO()
    pl.DataFrame({"key": values}).write_csv(buffer, include_header=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (key {db_type}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(f"ANALYZE {table}")
        yield table
        cursor.execute(f"DROP TABLE {table}")


@contextmanager
def _key_table(model, key: str, values: list) -> Iterator[str]:
    """`key_table` typed as `model`'s `key`; yields the SQL condition on `model`'s table
    that selects by it."""
    field = model._meta.get_field(key)
    with key_table(values, field.db_type(connection)) as table:
        yield f"{connection.ops.quote_name(field.column)} IN (SELECT key FROM {table})"


def _copy_select_in(model, key: str, values: list, schema: dict[str, pl.DataType]):
    """`select_in` for a long list: the rows leave PostgreSQL as CSV, straight into polars."""
    columns = ", ".join(_as_csv_text(_column(model, f), dtype) for f, dtype in schema.items())
    table = connection.ops.quote_name(model._meta.db_table)
    output = io.BytesIO()
    with _key_table(model, key, values) as condition, connection.cursor() as cursor:
        sql = f"COPY (SELECT {columns} FROM {table} WHERE {condition}) TO STDOUT (FORMAT csv)"
        with cursor.cursor.copy(sql) as copy:
            for block in copy:
                output.write(block)
    if not output.getbuffer().nbytes:
        return pl.DataFrame(schema=schema)
    output.seek(0)
    return pl.read_csv(output, has_header=False, schema=schema)


def _as_csv_text(column: str, dtype: pl.DataType) -> str:
    """A column as polars reads it back from CSV (unquoted empty: null; "": empty text)."""
    column = connection.ops.quote_name(column)
    if dtype == pl.Boolean:
        return f"{column}::text"  # true / false
    if dtype == pl.Date:
        return f"to_char({column}, 'YYYY-MM-DD')"  # whatever the DateStyle
    if dtype.is_integer() or dtype == pl.String:
        return column
    raise TypeError(f"select_in cannot copy a {dtype} column out of PostgreSQL")


def insert_frame(
    model,
    frame: pl.DataFrame,
    *,
    rebuild_indexes: Iterable[str] = (),
    held: dict[str, pl.Series] | None = None,
) -> None:
    """Insert every row of `frame`, whose columns are field attribute names of `model`.

    `rebuild_indexes`: fields whose secondary indexes a large COPY into a table not much
    larger than itself drops first and builds again after the rows are in, in the same
    transaction (`_indexes_dropped`).

    `held`: per foreign key (attribute name), the keys whose rows the caller already keeps
    from being deleted or re-keyed until the commit (see `references_lock`)."""
    if frame.is_empty():
        return
    if not _postgres():
        model.objects.bulk_create(
            (model(**row) for row in frame.iter_rows(named=True)), batch_size=1000
        )
        return
    frame = _with_defaults(model, frame)
    columns = ", ".join(connection.ops.quote_name(_column(model, f)) for f in frame.columns)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, NULL '{COPY_NULL}')"
    setwise = frame.height >= SETWISE_FROM and references_setwise(model)
    with transaction.atomic(), connection.cursor() as cursor:
        if setwise:
            if held:
                references_lock(model, frame, held=held)
            else:
                references_lock(model, frame)
            # Only the foreign-key triggers exist on the table (references_setwise), and
            # every reference is locked and counted: the COPY skips the per-row checks.
            # SET LOCAL ends with the block's savepoint or transaction if the COPY fails.
            cursor.execute("SET LOCAL session_replication_role = replica")
        dropped = _indexes_dropped(model, frame.height, rebuild_indexes) if rebuild_indexes else []
        # A thread sends each slice while the next one is formatted.
        writer = QueuedLibpqWriter(cursor.cursor)
        with cursor.cursor.copy(sql, writer=writer) as copy:
            for rows in frame.iter_slices(COPY_SLICE):
                buffer = io.BytesIO()
                rows.write_csv(buffer, include_header=False, null_value=COPY_NULL)
                copy.write(buffer.getvalue())
        if setwise:
            cursor.execute("SET LOCAL session_replication_role = origin")
        if dropped:
            _indexes_build(dropped)


def _indexes_dropped(model, rows: int, fields: Iterable[str]) -> list[str]:
    """Before a COPY of `rows` rows into `model`'s table: when the COPY is large
    (REBUILD_FROM) and the table holds fewer than REBUILD_PER_ROW rows per row copied,
    drop its secondary indexes that begin with one of `fields` (B-tree or hash, neither
    unique nor backing a constraint) and return their definitions, to build them again
    after the COPY. Else drop nothing. Each build reads the whole table, so only the
    indexes whose upkeep costs more are worth it (not, say, one on a column of a few
    values, whose new rows go to a few pages).

    A B-tree on random values (supply's trace codes) takes a random page per row: a
    million-row COPY spends more time in such indexes than building them from the sorted
    rows takes (bench/RESULTS.md). The price is the lock: DROP INDEX takes ACCESS
    EXCLUSIVE on the table until the transaction ends, so every reader of the table waits
    for the rest of the import. It waits for the table's readers at most
    REBUILD_LOCK_TIMEOUT; then the COPY goes ahead with the indexes in place. Uniqueness
    and every constraint stay enforced throughout; a failed or killed import rolls the
    DROP back with everything else."""
    if rows < REBUILD_FROM or not _postgres() or not connection.in_atomic_block:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    limit = rows * REBUILD_PER_ROW
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.reltuples < %s AND pg_has_role(c.relowner, 'USAGE')
            FROM pg_class c WHERE c.oid = %s::regclass
            """,
            [limit * 10, table],
        )
        if not cursor.fetchone()[0]:
            return []  # far larger by the planner's estimate, or not ours to alter
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t", [limit])
        if cursor.fetchone()[0] >= limit:
            return []
        cursor.execute(
            """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_am am ON am.oid = c.relam
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass AND i.indisvalid AND NOT i.indisunique
              AND am.amname IN ('btree', 'hash') AND a.attname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname
            """,
            [table, [_column(model, field) for field in fields]],
        )
        indexes = cursor.fetchall()
        if not indexes:
            return []
        timeout = _setting("lock_timeout")
        try:
            with transaction.atomic():
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [REBUILD_LOCK_TIMEOUT]
                )
                cursor.execute(f"DROP INDEX {', '.join(name for name, _ in indexes)}")
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
        except OperationalError:
            return []  # readers held the table: the COPY keeps the indexes up to date
    return [definition for _name, definition in indexes]


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def _indexes_build(definitions: list[str]) -> None:
    """Build the indexes `_indexes_dropped` dropped (with REBUILD_MEMORY to sort in)."""
    with connection.cursor() as cursor:
        memory = _setting("maintenance_work_mem")
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [REBUILD_MEMORY])
        for definition in definitions:
            cursor.execute(definition)
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [memory])


def _foreign_keys(model) -> list:
    """`model`'s fields whose column has a foreign-key constraint in the database."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.many_to_one or field.one_to_one
        if field.db_constraint
    ]


def references_setwise(model) -> bool:
    """Whether a COPY into `model`'s table may check its references set-wise: PostgreSQL,
    inside a transaction (the locks must last until the commit), a role allowed to set
    session_replication_role (a superuser, or on PostgreSQL 15 and later a role granted
    `SET ON PARAMETER session_replication_role`), and no trigger or rule on the table but
    the foreign keys' triggers (which the set-wise check replaces; any other would be
    skipped)."""
    if not _postgres() or not connection.in_atomic_block or not _foreign_keys(model):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT CASE WHEN current_setting('server_version_num')::int >= 150000
                        THEN has_parameter_privilege('session_replication_role', 'SET')
                        ELSE current_setting('is_superuser') = 'on' END,
                   NOT EXISTS (SELECT 1 FROM pg_trigger
                               WHERE tgrelid = %s::regclass AND tgconstraint = 0)
                   AND NOT EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = %s::regclass)
            """,
            [connection.ops.quote_name(model._meta.db_table)] * 2,
        )
        allowed, only_foreign_keys = cursor.fetchone()
    return bool(allowed and only_foreign_keys)


def references_lock(model, frame: pl.DataFrame, *, held: dict | None = None) -> None:
    """Lock every row the frame's foreign keys refer to FOR KEY SHARE (what PostgreSQL's
    own per-row check takes), one statement per foreign key, and count them: a reference to
    a row that does not exist raises IntegrityError, naming the column and a few keys.
    Callers resolve their references first (an import rejects the rows with unknown ones,
    naming row and column), so this only fails when a referenced row vanished meanwhile.

    `held` (foreign key attribute name → keys) leaves out the keys the caller vouches for:
    rows it inserted in this transaction (no other transaction sees them), or rows kept
    by a lock it holds on rows referring to them (a round's target rows, locked by the
    UPDATE that marks them sampled: deleting or re-keying the resident they refer to fails
    their own foreign key's check, and deleting them waits for this transaction)."""
    quote = connection.ops.quote_name
    for field in _foreign_keys(model):
        if field.attname not in frame.columns:
            continue
        keys = frame.get_column(field.attname).drop_nulls().unique()
        if held and field.attname in held:
            keys = keys.filter(~keys.is_in(held[field.attname].drop_nulls().unique().implode()))
        keys = keys.sort().to_list()
        if not keys:
            continue
        parent, target = field.related_model, field.target_field
        if target.primary_key and _locked_already(parent, keys, existing=True):
            # lock_rows found and locked every one of them FOR NO KEY UPDATE in this
            # transaction (an import's residents): stronger than FOR KEY SHARE, no other
            # transaction can delete them or change their key until the commit.
            continue
        parent_table, parent_key = quote(parent._meta.db_table), quote(target.column)
        with _keys_source(keys, target) as (source, params), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {parent_table} "
                f"WHERE {parent_key} IN (SELECT k.key FROM {source}) "
                f"ORDER BY {parent_key} FOR KEY SHARE) AS locked",
                params,
            )
            if cursor.fetchone()[0] == len(keys):
                continue
            cursor.execute(
                f"SELECT k.key FROM {source} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parent_table} p WHERE p.{parent_key} = k.key) "
                "ORDER BY k.key LIMIT 5",
                params,
            )
            examples = [row[0] for row in cursor.fetchall()]
        raise IntegrityError(
            f"{model._meta.db_table}.{field.column} refers to rows missing from "
            f"{parent._meta.db_table}, e.g. {examples}"
        )


@contextmanager
def _keys_source(keys: list, target) -> Iterator[tuple[str, list]]:
    """A FROM item `k` with the keys in a column `key`, and its parameters: an array for a
    few keys, a temporary table for many."""
    db_type = target.db_type(connection)
    if len(keys) >= KEY_TABLE_FROM:
        with key_table(keys, db_type) as table:
            yield f"{table} AS k", []
    else:
        yield f"unnest(%s::{db_type}[]) AS k (key)", [keys]


def _with_defaults(model, frame: pl.DataFrame) -> pl.DataFrame:
    """COPY bypasses the model, so the fields a frame leaves out get their defaults here."""
    now = timezone.now()
    missing = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in frame.columns:
            continue
        if field.db_default is not NOT_PROVIDED:
            continue  # the column's own default fills it (a feed's txid, core.feeds)
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        missing[field.attname] = now if auto_now else field.get_default()
    return frame.with_columns(pl.lit(value).alias(name) for name, value in missing.items())


def delete_in(model, key: str, values: Iterable) -> None:
    values = list(values)
    if _postgres():
        table = connection.ops.quote_name(model._meta.db_table)
        if len(values) >= KEY_TABLE_FROM:
            with _key_table(model, key, values) as condition, connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE {condition}")
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} "
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


def lock_rows(model, ids: Iterable[int]) -> None:
    """Lock `model`'s rows with these primary keys until the transaction ends, in key
    order (so that two lockers of overlapping sets never deadlock).

    A change computed from what a row's dependants looked like (a resident's doses, their
    figures) must not interleave with another such change: the second waits here.

    Locking rows this transaction already locked (an import locks its residents before
    comparing with their doses, and the live figures lock them again) is skipped for a
    large set: locking 500,000 residents a second time cost 1.5 s (bench/RESULTS.md)."""
    ids = sorted(set(ids))
    strength = "FOR NO KEY UPDATE" if _postgres() else ""
    if not strength or not ids:
        return  # SQLite writers are serialised by the database lock already.
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    remember = len(ids) >= LOCK_REMEMBER_FROM and connection.in_atomic_block
    if remember and _locked_already(model, ids):
        return
    found = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), KEY_TABLE_FROM * 10):
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {pk} = ANY(%s) "
                f"ORDER BY {pk} {strength}) AS locked",
                [ids[start : start + KEY_TABLE_FROM * 10]],
            )
            found += cursor.fetchone()[0]
        if remember:
            cursor.execute("SELECT pg_current_xact_id()::text")
            connection.bulk_locked = (
                cursor.fetchone()[0],
                list(connection.savepoint_ids),
                model._meta.label,
                frozenset(ids),
                found == len(ids),
            )


def _locked_already(model, ids: list, *, existing: bool = False) -> bool:
    """Whether `lock_rows` locked all of `ids` in this transaction, at this savepoint or
    one enclosing it (a lock taken in a savepoint rolled back since is released, and a
    savepoint's id is never reused, so its lock is not taken for held). `existing`: and
    every one of them was found (so each exists until the transaction ends)."""
    memo = getattr(connection, "bulk_locked", None)
    if memo is None or not _postgres():
        return False
    transaction_id, savepoints, label, locked, complete = memo
    if label != model._meta.label or connection.savepoint_ids[: len(savepoints)] != savepoints:
        return False
    if (existing and not complete) or not locked.issuperset(ids):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned()::text")
        return cursor.fetchone()[0] == transaction_id
