"""Keeping the live figures (Rollup: grid × age band) current in every write's transaction.

Every write that moves a figure (a dose recorded, imported, corrected or deleted; a
resident added, moved or given another status) runs inside `rollups_track(ids)`, reached
through `core.live.figures_track`: the touched residents are locked and their figures
counted before the change, by the rows a full `rollups_recount` sums, and after it one
statement counts them again and adds the difference to their leaves. So the incremental
figures equal a recount by construction, and a test holds them to an independent count.

A write of a few residents (a visit, a dose at a site) costs two statements: the lock that
reads the figures before, and the upsert that computes the figures after and the delta
in SQL. A bulk write (an import) counts by leaf instead, in chunks.
"""

import threading
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from epidispatch.core import bulk
from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import EXCUSED_STATUSES, Resident, ResidentStatus
from epidispatch.vaccination.models import Dose

from .models import BAND_AGES, FIGURES, AgeBand, Rollup, RollupState

#: Residents per figures query (each query's figures add up: the sets are disjoint).
CHUNK = 10_000
#: Up to this many residents a write is counted resident by resident (two statements);
#: beyond it, by leaf in chunks (the import path).
ROW_TRACKING_LIMIT = 1_000
#: Statuses that take a resident out of the target population.
GONE_STATUSES = (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)

Leaf = tuple[int, str, str, str]  # grid id, band, grid path, county code
LEAF_COLUMNS = ("grid_id", "band", "path", "county_code")


def leaf_figures(
    resident_ids: Iterable[int] | None, *, banded_on: date, as_of: date | None = None
) -> dict[Leaf, list[int]]:
    """FIGURES per leaf of the given residents (None: everyone), their ages taken on
    `banded_on`, counting the doses given on or before `as_of` (None: every dose)."""
    if resident_ids is None:
        return _figures_query(None, banded_on, as_of)
    ids = sorted(set(resident_ids))
    if connection.vendor == "postgresql" and len(ids) > CHUNK:
        with bulk.key_table(ids) as table:
            return _figures_query(f"SELECT key FROM {table}", banded_on, as_of)
    totals: dict[Leaf, list[int]] = {}
    for start in range(0, len(ids), CHUNK):
        _add(totals, _figures_query(ids[start : start + CHUNK], banded_on, as_of))
    return totals


def _figures_query(ids: list[int] | str | None, banded_on: date, as_of: date | None):
    """The figures by leaf; `ids` is a list of residents, a subquery selecting them, or
    None for everyone."""
    rows, params = _resident_rows(ids, banded_on, as_of)
    sums = ", ".join(f"SUM({name})" for name in FIGURES)
    leaf = ", ".join(LEAF_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {leaf}, {sums} FROM ({rows}) t GROUP BY {leaf}", params)
        return {tuple(row[:4]): [int(value) for value in row[4:]] for row in cursor.fetchall()}


def _resident_rows(
    ids: list[int] | str | None,
    banded_on: date,
    as_of: date | None = None,
    *,
    extra_select: str = "",
    extra_from: str = "",
) -> tuple[str, list]:
    """The figures of each resident, one row each (leaf, then FIGURES as 0/1 flags and
    the dose count): what every count of the live figures sums."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datefield_value
    resident, dose, unit = (quote(m._meta.db_table) for m in (Resident, Dose, OrgUnit))
    band, band_params = _band(banded_on)
    gone = ", ".join(["%s"] * len(GONE_STATUSES))
    excused = ", ".join(["%s"] * len(EXCUSED_STATUSES))
    dose_where, dose_params = ["1 = 1"], []
    resident_where, resident_params = ["1 = 1"], []
    if as_of is not None:
        dose_where.append("given_on <= %s")
        dose_params.append(adapt(as_of))
    if ids is not None:
        condition, params = _in("resident_id", ids)
        dose_where.append(condition)
        dose_params += params
        condition, params = _in("r.id", ids)
        resident_where.append(condition)
        resident_params += params
    eligible = f"({band}) <> '{AgeBand.UNDER_3.value}'"
    sql = f"""
        SELECT g.id AS grid_id, ({band}) AS band, g.path AS path,
            g.county_code AS county_code,
            1 AS residents,
            CASE WHEN {eligible} AND r.status NOT IN ({gone}) THEN 1 ELSE 0 END AS target,
            {", ".join(f"{flag} AS {name}" for name, flag in _dose_flags("d", eligible, excused))}
            {extra_select}
        FROM {resident} r
        JOIN {unit} g ON g.id = r.grid_id
        {extra_from}
        LEFT JOIN (
            SELECT resident_id, {_dose_aggregates()}
            FROM {dose} WHERE {" AND ".join(dose_where)} GROUP BY resident_id
        ) d ON d.resident_id = r.id
        WHERE {" AND ".join(resident_where)}
    """
    params = [
        *band_params,  # band
        *band_params,  # band in target's eligibility
        *(str(status) for status in GONE_STATUSES),
        *band_params,  # band in to_clear's eligibility
        *(str(status) for status in EXCUSED_STATUSES),
        *dose_params,
        *resident_params,
    ]
    return sql, params


def _band(banded_on: date) -> tuple[str, list]:
    """A resident's (r) age band on `banded_on` in SQL, and its parameters."""
    adapt = connection.ops.adapt_datefield_value
    cases = " ".join(
        f"WHEN r.birth_date <= %s THEN '{band.value}'" for band, _age in BAND_AGES[:-1]
    )
    params = [adapt(latest_birth_date_for_age(banded_on, age)) for _b, age in BAND_AGES[:-1]]
    return f"CASE {cases} ELSE '{AgeBand.UNDER_3.value}' END", params


def _added_rows(ids: list[int] | str, banded_on: date, mark: int) -> tuple[str, list]:
    """What the doses above id `mark` moved, per resident among `ids` who has some: one
    row each (leaf, then FIGURES), the figures with all of their doses less the figures
    without those (the same flags as `_resident_rows`). Residents and target do not
    depend on doses: 0."""
    quote = connection.ops.quote_name
    resident, dose, unit = (quote(m._meta.db_table) for m in (Resident, Dose, OrgUnit))
    band, band_params = _band(banded_on)
    excused = ", ".join(["%s"] * len(EXCUSED_STATUSES))
    eligible = f"({band}) <> '{AgeBand.UNDER_3.value}'"
    after = _dose_flags("d", eligible, excused)
    before = dict(_dose_flags("d", eligible, excused, suffix="_before"))
    moved = ", ".join(f"({flag}) - ({before[name]}) AS {name}" for name, flag in after)
    condition, id_params = _in("resident_id", ids)
    resident_condition, resident_params = _in("r.id", ids)
    mark = int(mark)
    # From the residents, as `_resident_rows`: the doses' statistics may still describe
    # the table before the import's COPY, and a plan driven by their estimate (a few
    # residents) probed the residents' index once per resident (10 s for 500,000).
    # A resident without added doses has the same flags both ways: 0.
    sql = f"""
        SELECT g.id AS grid_id, ({band}) AS band, g.path AS path,
            g.county_code AS county_code, 0 AS residents, 0 AS target, {moved}
        FROM {resident} r
        JOIN {unit} g ON g.id = r.grid_id
        LEFT JOIN (
            SELECT resident_id, {_dose_aggregates()},
                {_dose_aggregates(f"id <= {mark}", "_before")}
            FROM {dose} WHERE {condition} GROUP BY resident_id
            HAVING COUNT(*) FILTER (WHERE id > {mark}) > 0
        ) d ON d.resident_id = r.id
        WHERE {resident_condition}
    """
    excused_params = [str(status) for status in EXCUSED_STATUSES]
    params = [
        *band_params,  # band
        *band_params,  # band in to_clear's eligibility, with all doses
        *excused_params,
        *band_params,  # the same without the added doses
        *excused_params,
        *id_params,
        *resident_params,
    ]
    return sql, params


def _dose_aggregates(condition: str = "", suffix: str = "") -> str:
    """A resident's doses summed for `_dose_flags` (over the doses that meet `condition`,
    an SQL condition, if given): NULL doses when there are none."""
    only = f" FILTER (WHERE {condition})" if condition else ""
    return (
        f"NULLIF(COUNT(*){only}, 0) AS doses{suffix}, "
        f"MAX(CASE WHEN completes_series THEN 1 ELSE 0 END){only} AS series{suffix}, "
        f"MAX(CASE WHEN booster_number >= 1 THEN 1 ELSE 0 END){only} AS boosters{suffix}, "
        f"MAX(CASE WHEN sequential THEN 1 ELSE 0 END){only} AS sequential{suffix}"
    )


def _dose_flags(alias: str, eligible: str, excused: str, suffix: str = "") -> list[tuple[str, str]]:
    """(figure, SQL) of the figures that a resident's doses move, from the aggregates
    `_dose_aggregates` named with `suffix` in `alias` (residents and target do not)."""
    d = f"{alias}.%s{suffix}"
    return [
        ("doses", f"COALESCE({d % 'doses'}, 0)"),
        ("first_dose", f"CASE WHEN {d % 'doses'} > 0 THEN 1 ELSE 0 END"),
        ("series_complete", f"CASE WHEN {d % 'series'} > 0 THEN 1 ELSE 0 END"),
        ("booster", f"CASE WHEN {d % 'boosters'} > 0 THEN 1 ELSE 0 END"),
        ("sequential_booster", f"CASE WHEN {d % 'sequential'} > 0 THEN 1 ELSE 0 END"),
        (
            "to_clear",
            f"CASE WHEN {eligible} AND {d % 'doses'} IS NULL AND r.status NOT IN ({excused})"
            " THEN 1 ELSE 0 END",
        ),
    ]


def _in(column: str, ids: list[int] | str) -> tuple[str, list]:
    if isinstance(ids, str):
        return f"{column} IN ({ids})", []
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _add(totals: dict, figures: dict, sign: int = 1) -> dict:
    for leaf, values in figures.items():
        current = totals.setdefault(leaf, [0] * len(FIGURES))
        for index, value in enumerate(values):
            current[index] += sign * value
    return totals


def banded_on() -> date:
    """The day the live figures are banded by, read under a shared lock that a
    re-banding waits for (and that waits for a re-banding in progress)."""
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    table = connection.ops.quote_name(RollupState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT banded_on FROM {table} WHERE id = 1{lock}")
        row = cursor.fetchone()
    if row is None:
        RollupState.objects.bulk_create(
            [RollupState(pk=1, banded_on=timezone.localdate())], ignore_conflicts=True
        )
        return banded_on()
    return row[0] if isinstance(row[0], date) else date.fromisoformat(row[0])


class _Tracking:
    """The block's handle: the residents it creates join the count with `add_new`."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = frozenset(ids)
        self.new: list[int] = []

    def add_new(self, resident_ids: Iterable[int]) -> None:
        self.new.extend(resident_ids)


@contextmanager
def rollups_track(resident_ids: Iterable[int] = (), *, adds_doses: bool = False):
    """Run the block's changes to these (existing) residents and their doses, and to the
    residents it creates (`add_new`), then move the live figures by what the changes
    moved, in the caller's transaction. Writers call it as `core.live.figures_track`.

    `adds_doses`: the caller promises that the block only inserts doses of these
    residents (and rows the figures do not count): no dose of theirs changes or goes,
    and neither their birth date, grid nor any status the figures tell apart. A bulk
    write (an import) is then counted once, after the block, from the doses it added
    (`_added_rows`) instead of counting the residents before and after it.

    No savepoint: nothing here is retried, and a failing block fails the transaction.

    Inside a block that tracks these residents already (a visit tracks its resident,
    then changes the status through `resident_status_change`, which tracks it too), the
    enclosing block counts the change: nothing is locked or counted twice."""
    ids = sorted(set(resident_ids))
    enclosing = getattr(_open, "tracking", None)
    if enclosing is not None and enclosing.ids.issuperset(ids):
        yield enclosing
        return
    tracking = _Tracking(ids)
    added_only = adds_doses and len(ids) > ROW_TRACKING_LIMIT
    with transaction.atomic(savepoint=False):
        if added_only:
            day, mark = _lock_and_mark(ids)
            before: dict[Leaf, list[int]] = {}
        else:
            day, before = _lock_and_count(ids)
        _open.tracking = tracking
        try:
            yield tracking
        finally:
            _open.tracking = enclosing
        touched = sorted(set(ids).union(tracking.new))
        if added_only:
            _add_added(ids, day, mark)
            if tracking.new:  # they had no figures before the block
                _apply(leaf_figures(sorted(set(tracking.new) - set(ids)), banded_on=day))
        elif len(touched) <= ROW_TRACKING_LIMIT:
            _add_changes(touched, day, before)
        else:
            _apply(_add(leaf_figures(touched, banded_on=day), before, sign=-1))


#: The innermost open `rollups_track` block of this thread (Django's connection is the
#: thread's too), whose residents a block nested in it leaves to it.
_open = threading.local()


#: The banding day the last write found: the lock statement counts with it, and counts
#: again only on the day it changed (after the nightly re-banding).
_day_seen: date | None = None


def _lock_and_count(ids: list[int]) -> tuple[date, dict[Leaf, list[int]]]:
    """Lock the residents (and, shared, the banding day) and count their figures by leaf:
    one statement for a write of a few residents."""
    global _day_seen
    if not ids:
        day = _day_seen = banded_on()
        return day, {}
    if len(ids) > ROW_TRACKING_LIMIT or _day_seen is None:
        bulk.lock_rows(Resident, ids)
        day = _day_seen = banded_on()
        return day, leaf_figures(ids, banded_on=day)
    state = connection.ops.quote_name(RollupState._meta.db_table)
    lock = " ORDER BY r.id FOR NO KEY UPDATE OF r FOR SHARE OF s"
    if connection.vendor != "postgresql":
        lock = ""  # SQLite writers are serialised by the database lock already.
    day = _day_seen
    for _attempt in range(2):
        rows, params = _resident_rows(
            ids, day, extra_select=", s.banded_on", extra_from=f"JOIN {state} s ON s.id = 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(rows + lock, params)
            found = cursor.fetchall()
        if not found:  # no state row yet, or none of these residents exists
            day = _day_seen = banded_on()
            return day, leaf_figures(ids, banded_on=day)
        stored = found[0][-1]
        stored = stored if isinstance(stored, date) else date.fromisoformat(stored)
        if stored == day:
            before: dict[Leaf, list[int]] = {}
            for row in found:
                _add(before, {tuple(row[:4]): [int(value) for value in row[4:-1]]})
            return day, before
        day = _day_seen = stored  # re-banded since: count again by the stored day
    raise AssertionError("the banding day changed under a shared lock")


def _lock_and_mark(ids: list[int]) -> tuple[date, int]:
    """Lock the residents (and, shared, the banding day) and return the highest dose id
    now: every dose the block inserts for them comes after it (ids come from a sequence,
    and no other writer adds a dose of a locked resident), every dose they had before
    does not."""
    global _day_seen
    bulk.lock_rows(Resident, ids)
    day = _day_seen = banded_on()
    table = connection.ops.quote_name(Dose._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return day, int(cursor.fetchone()[0])


def _add_changes(ids: list[int], day: date, before: dict[Leaf, list[int]]) -> None:
    """One statement: count the residents' figures now, subtract `before` and add the
    difference to their leaves (in key order, so concurrent writers never deadlock)."""
    columns = (*LEAF_COLUMNS, *FIGURES)
    rows, params = _resident_rows(ids, day)
    if before:
        values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(before))
        rows += f" UNION ALL SELECT * FROM (VALUES {values}) AS before_change"
        params += [v for leaf, figures in before.items() for v in (*leaf, *(-f for f in figures))]
    _upsert(rows, params)


def _add_added(ids: list[int], day: date, mark: int) -> None:
    """Add to their leaves what the doses above id `mark` of these residents moved: one
    statement (through a key table for many residents)."""
    if connection.vendor == "postgresql" and len(ids) > CHUNK:
        with bulk.key_table(ids) as table:
            _upsert(*_added_rows(f"SELECT key FROM {table}", day, mark))
        return
    for start in range(0, len(ids), CHUNK):
        _upsert(*_added_rows(ids[start : start + CHUNK], day, mark))


def _upsert(rows: str, params: list) -> None:
    """Add the sums of `rows` (leaf, then FIGURES) to their leaves, in key order so that
    concurrent writers lock the leaves they share in the same order and never deadlock."""
    quote = connection.ops.quote_name
    table = quote(Rollup._meta.db_table)
    columns = (*LEAF_COLUMNS, *FIGURES)
    leaf = ", ".join(LEAF_COLUMNS)
    sums = ", ".join(f"SUM({name})" for name in FIGURES)
    moved = " OR ".join(f"SUM({name}) <> 0" for name in FIGURES)
    updates = ", ".join(f"{quote(f)} = {table}.{quote(f)} + excluded.{quote(f)}" for f in FIGURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {leaf}, {sums} FROM ({rows}) t WHERE 1 = 1 GROUP BY {leaf} "
            f"HAVING {moved} ORDER BY grid_id, band "
            f"ON CONFLICT (grid_id, band) DO UPDATE SET {updates}",
            params,
        )


def _apply(delta: dict[Leaf, list[int]]) -> None:
    """Add `delta` to the leaves, in key order so that concurrent writers lock the rows
    they share in the same order and never deadlock."""
    rows = sorted((leaf, values) for leaf, values in delta.items() if any(values))
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Rollup._meta.db_table)
    columns = ["grid_id", "band", "path", "county_code", *FIGURES]
    updates = ", ".join(f"{quote(f)} = {table}.{quote(f)} + excluded.{quote(f)}" for f in FIGURES)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT (grid_id, band) DO UPDATE SET {updates}",
                [value for leaf, values in chunk for value in (*leaf, *values)],
            )


@transaction.atomic
def rollups_recount(*, day: date | None = None) -> int:
    """Rebuild every live figure from the residents and doses (banded by `day`, default
    today); returns the number of leaves. Writers wait until it is done."""
    day = day or timezone.localdate()
    _lock_state(day)
    Rollup.objects.all().delete()
    leaves = leaf_figures(None, banded_on=day)
    Rollup.objects.bulk_create(
        (
            Rollup(
                grid_id=grid,
                band=band,
                path=path,
                county_code=county,
                **dict(zip(FIGURES, v, strict=True)),
            )
            for (grid, band, path, county), v in sorted(leaves.items())
        ),
        batch_size=2000,
    )
    RollupState.objects.filter(pk=1).update(banded_on=day)
    return len(leaves)


@transaction.atomic
def rollups_reband(*, day: date | None = None) -> int:
    """Move the residents whose age band changed between the banding day and `day`
    (birthdays at 3, 12, 18, 60, 80) to their new band; returns how many moved."""
    day = day or timezone.localdate()
    old = _lock_state(day)
    if old >= day:
        return 0
    crossed = Resident.objects.none()
    for _band, age in BAND_AGES[:-1]:
        crossed |= Resident.objects.filter(
            birth_date__gt=latest_birth_date_for_age(old, age),
            birth_date__lte=latest_birth_date_for_age(day, age),
        )
    ids = list(crossed.values_list("pk", flat=True))
    delta = _add(leaf_figures(ids, banded_on=day), leaf_figures(ids, banded_on=old), sign=-1)
    _apply(delta)
    RollupState.objects.filter(pk=1).update(banded_on=day)
    return len(ids)


def _lock_state(day: date) -> date:
    """Lock the state row against every writer and return its banding day."""
    RollupState.objects.bulk_create([RollupState(pk=1, banded_on=day)], ignore_conflicts=True)
    return RollupState.objects.select_for_update().get(pk=1).banded_on
