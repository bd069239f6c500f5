"""Keeping the live figures (Rollup: grid × age band) current in every write's transaction.

Every write that moves a figure (a dose recorded, imported, corrected or deleted; a
resident added, moved or given another status) runs inside `rollups_track(ids)`: the
figures of the touched residents are counted before and after the change, by the same
query a full `rollups_recount` uses, and the difference is added to their leaves. So the
incremental figures equal a recount by construction, and a test holds them to it.
"""

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
#: Statuses that take a resident out of the target population.
GONE_STATUSES = (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)

Leaf = tuple[int, str, str, str]  # grid id, band, grid path, county code


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
    """The figures query; `ids` is a list of residents, a subquery selecting them, or
    None for everyone."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datefield_value
    resident, dose, unit = (quote(m._meta.db_table) for m in (Resident, Dose, OrgUnit))
    band_cases = " ".join(
        f"WHEN r.birth_date <= %s THEN '{band.value}'" for band, _age in BAND_AGES[:-1]
    )
    band_params = [adapt(latest_birth_date_for_age(banded_on, age)) for _b, age in BAND_AGES[:-1]]
    band = f"CASE {band_cases} ELSE '{AgeBand.UNDER_3.value}' END"
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
        SELECT g.id, ({band}) AS band, g.path, g.county_code,
            COUNT(*),
            SUM(CASE WHEN {eligible} AND r.status NOT IN ({gone}) THEN 1 ELSE 0 END),
            COALESCE(SUM(d.doses), 0),
            SUM(CASE WHEN d.doses > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN d.series > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN d.boosters > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN d.sequential > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN {eligible} AND d.doses IS NULL AND r.status NOT IN ({excused})
                THEN 1 ELSE 0 END)
        FROM {resident} r
        JOIN {unit} g ON g.id = r.grid_id
        LEFT JOIN (
            SELECT resident_id, COUNT(*) AS doses,
                MAX(CASE WHEN completes_series THEN 1 ELSE 0 END) AS series,
                MAX(CASE WHEN booster_number >= 1 THEN 1 ELSE 0 END) AS boosters,
                MAX(CASE WHEN sequential THEN 1 ELSE 0 END) AS sequential
            FROM {dose} WHERE {" AND ".join(dose_where)} GROUP BY resident_id
        ) d ON d.resident_id = r.id
        WHERE {" AND ".join(resident_where)}
        GROUP BY g.id, 2, g.path, g.county_code
    """
    params = [
        *band_params,  # band in SELECT
        *band_params,  # band in target's eligibility
        *GONE_STATUSES,
        *band_params,  # band in to_clear's eligibility
        *EXCUSED_STATUSES,
        *dose_params,
        *resident_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(p) if isinstance(p, ResidentStatus) else p for p in params])
        return {tuple(row[:4]): [int(value) for value in row[4:]] for row in cursor.fetchall()}


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


@contextmanager
def rollups_track(resident_ids: Iterable[int]):
    """Run the block's changes to these (existing) residents and their doses, then move
    the live figures by what the changes moved, in the same transaction."""
    ids = sorted(set(resident_ids))
    with transaction.atomic():
        bulk.lock_rows(Resident, ids)
        day = banded_on()
        before = leaf_figures(ids, banded_on=day)
        yield
        after = leaf_figures(ids, banded_on=day)
        _apply(_add(after, before, sign=-1))


def rollups_count_new(resident_ids: Iterable[int]) -> None:
    """Add residents just created (with their doses, if any) to the live figures."""
    with transaction.atomic():
        _apply(leaf_figures(resident_ids, banded_on=banded_on()))


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
