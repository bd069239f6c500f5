"""The screening benchmark (issue 22): one round over a city of N residents in pooled tubes.

    make bench-screening                                  # 1,000,000 residents, 10 per tube
    .venv/bin/python bench/screening.py --residents 100000
    .venv/bin/python bench/screening.py --help

What it does, in one run:

1. Setup (timed, not judged). Drops and recreates the database (its name must contain
   "bench": --database-url's, else "bench_screening" on the server of $DATABASE_URL),
   migrates it, builds a city of 4 counties × 10 towns × 10 villages × 3 grids and writes
   N residents with COPY (valid ID numbers and their lookup digests; the encrypted copy is
   a placeholder, as no benchmarked path decrypts). 97 % are present, 3 % away (off the
   target list). Opens the round over the city (`round_create`: freezes the target list, timed).
2. Samples: a CSV of every present resident in tubes of 10 (grid by grid, the last tube
   of a grid partly filled). Times `samples_import` (read, check, match, store with COPY,
   mark the target list) against a bare `COPY` of the same file into a text table.
3. Results: a CSV with one row per tube (1 % positive). Times `results_import` against a
   bare `COPY` of the same file.
4. Coverage: `round_coverage` of the city and of one town, `--requests` times each after
   a warm-up, against a GROUP BY over the raw sample rows (samples joined to their tubes,
   residents and grids) giving the same person and tube figures; p50 / p95.

The figures of both ways are compared (they must agree). Results go to a section at the
end of bench/RESULTS.md (replaced by a later run).
"""

import argparse
import math
import os
import platform
import random
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import import_doses  # bench/, the script's folder: its server counters

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
BENCH_DATABASE = "bench_screening"
FALLBACK_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
SECTION_START = "<!-- bench:screening -->"
SECTION_END = "<!-- /bench:screening -->"
#: What the figures mean, written after profiling a run (kept in the section on a re-run).
NOTES = """
Run as `/work/notes/b .venv/bin/python bench/screening.py --residents 1000000` (what the
make target runs). The stage tables time each function of the importer where it is looked
up (the stage clock of bench/import_doses.py); ↳ rows are inside the stage above them.
`_mark_sampled` runs before the COPY since round 3 (it locks the target rows whose
residents the COPY then need not lock again).

**Why 50,000 sample rows/s is out of reach here.** 969,954 rows at 50,000 rows/s is 19.4 s
for everything. In the run above (round 3, 12:07 UTC) PostgreSQL's share alone is about
31 s: the COPY into `screening_sample` 21.3 s (bare COPY of the same file into a text
table: 1.16 s), marking the target list 9.3 s, writing the 100,000 tubes 2.1 s. The COPY
maintains the primary key, the unique (tube, digest), the (round, digest_key) and the
resident indexes and writes ~200-byte rows; marking is a million HOT updates. Python's
share is about 12 s: reading and checking the file 5.1 s (HMAC of the ID numbers 1.5 s,
the ID checks 1.1 s), matching against the stored rows 2.2 s, reading the target list
with its digests 4.8 s. Compare runs by their ratio to the bare COPY and by the stages:
before round 3, 57.5 s at 11:40 UTC on the same machine (43×; COPY 27.1 s, resident lock
2.6 s, checks 7.2 s). See "Screening, round 3" at the end of this file for what changed
and what the floor is.

Coverage reads per-place figures (`RoundArea`: people per grid, tubes per the deepest unit
holding all their people), so the city sums about 2,400 rows whatever the population; the
GROUP BY over the raw sample rows grows with it.
"""
GOAL_SAMPLE_ROWS_PER_SECOND = 50_000
GOAL_COVERAGE_P95_MS = 50
COUNTIES, TOWNS, VILLAGES, GRIDS = 4, 10, 10, 3
DAY = date(2022, 4, 2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50, help="timed coverage reads each")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-results", action="store_true", help="leave RESULTS.md alone")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {text}", flush=True)


def bench_url(args) -> str:
    if args.database_url:
        return args.database_url
    parts = urlsplit(os.environ.get("DATABASE_URL") or FALLBACK_URL)
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name lacks 'bench'")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000


def build_city():
    from epidispatch.orgunits.models import OrgUnit, UnitKind

    levels: dict[int, list] = {}

    def add(code, name, kind, parent):
        unit = OrgUnit(code=code, name=name, kind=kind)
        unit.place_under(parent)
        levels.setdefault(unit.depth, []).append(unit)
        return unit

    city = add("370200", "青岛市", UnitKind.CITY, None)
    for c in range(1, COUNTIES + 1):
        county = add(f"3702{c:02d}", f"第{c}区", UnitKind.COUNTY, city)
        for t in range(1, TOWNS + 1):
            town = add(f"{county.code}{t:03d}000", f"第{c}区第{t}街道", UnitKind.TOWN, county)
            for v in range(1, VILLAGES + 1):
                village = add(
                    f"{county.code}{t:03d}{v:03d}", f"{town.name}第{v}社区", "village", town
                )
                for g in range(1, GRIDS + 1):
                    add(
                        f"{village.code}{g:03d}", f"{village.name}第{g}网格", UnitKind.GRID, village
                    )
    for depth in sorted(levels):
        for unit in levels[depth]:
            unit.parent_id = unit.parent.pk if unit.parent else None
        OrgUnit.objects.bulk_create(levels[depth], batch_size=2000)
    grids = list(OrgUnit.objects.filter(kind=UnitKind.GRID).order_by("code"))
    return OrgUnit.objects.get(code=city.code), grids


def id_numbers(count: int) -> list[str]:
    from stdnum.cn import ric

    numbers, day, sequence = [], date(1960, 1, 1), 0
    while len(numbers) < count:
        body = f"110101{day:%Y%m%d}{sequence:03d}"
        numbers.append(body + ric.calc_check_digit(body + "0"))
        sequence += 1
        if sequence == 1000:
            sequence, day = 0, day + timedelta(days=1)
    return numbers


def load_residents(count: int, grids) -> "object":
    import polars as pl

    from epidispatch.core import bulk, protection
    from epidispatch.core.ids import mask_id_number
    from epidispatch.registry.models import Resident

    numbers = id_numbers(count)
    rng = random.Random(2022)
    grid_of = [grids[i * len(grids) // count] for i in range(count)]
    frame = pl.DataFrame(
        {
            "name": [f"居民{i}" for i in range(count)],
            "id_number_digest": protection.lookup_digests(numbers),
            "id_number_encrypted": ["bench"] * count,
            "id_number_masked": [mask_id_number(n) for n in numbers],
            "phone_digest": [""] * count,
            "phone_encrypted": [""] * count,
            "phone_masked": [""] * count,
            "birth_date": [date(int(n[6:10]), int(n[10:12]), int(n[12:14])) for n in numbers],
            "sex": ["M" if int(n[16]) % 2 else "F" for n in numbers],
            "grid_id": [g.pk for g in grid_of],
            "county_code": [g.county_code for g in grid_of],
            "status": ["away" if rng.random() < 0.03 else "present" for _ in range(count)],
            "unvaccinated_reason": [""] * count,
        }
    )
    bulk.insert_frame(Resident, frame)
    return frame.with_columns(id_number=pl.Series(numbers))


def write_files(residents, folder: Path, pool: int):
    """The sample list (present people, grid by grid, in tubes of `pool`) and the lab's
    result file (one row per tube, 1 % positive)."""
    import polars as pl

    present = residents.filter(pl.col("status") == "present").sort("grid_id")
    present = present.with_columns(
        slot=pl.int_range(pl.len()).over("grid_id") // pool,
    ).with_columns(barcode=pl.format("T{}-{}", pl.col("grid_id"), pl.col("slot")))
    samples = present.select(
        pl.col("barcode").alias("试管编号"),
        pl.col("id_number").alias("身份证件号码"),
        pl.col("name").alias("姓名"),
        pl.lit("2022-04-02 08:30").alias("采样时间"),
        pl.lit("采样点").alias("采样点"),
        pl.lit(str(pool)).alias("混采人数"),
    )
    samples_path = folder / "samples.csv"
    samples.write_csv(samples_path)
    tubes = samples.get_column("试管编号").unique(maintain_order=True)
    rng = random.Random(7)
    results = pl.DataFrame(
        {
            "试管编号": tubes,
            "检测结果": ["阳性" if rng.random() < 0.01 else "阴性" for _ in range(len(tubes))],
            "检测时间": ["2022-04-02 14:00"] * len(tubes),
            "检测机构": ["青岛市疾控中心"] * len(tubes),
        }
    )
    results_path = folder / "results.csv"
    results.write_csv(results_path)
    return samples_path, samples.height, results_path, results.height


def bare_copy(path: Path, columns: int) -> float:
    """COPY the file into a text table of its width: the floor any import stands on."""
    from django.db import connection, transaction

    names = ", ".join(f"c{i} text" for i in range(columns))
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bare ({names}) ON COMMIT DROP")
        sql = "COPY bare FROM STDIN (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(sql) as copy, path.open("rb") as handle:
            while block := handle.read(1 << 20):
                copy.write(block)
    return time.perf_counter() - start


def raw_group_by(screening_round, unit) -> dict:
    """The person and tube figures from the raw rows: the baseline of `round_coverage`."""
    from django.db import connection

    sql = """
        SELECT g.path,
               count(DISTINCT s.resident_id),
               count(DISTINCT s.tube_id),
               count(DISTINCT s.tube_id) FILTER (WHERE t.result <> ''),
               count(DISTINCT s.tube_id) FILTER (WHERE t.result = 'positive')
        FROM screening_sample s
        JOIN screening_tube t ON t.id = s.tube_id
        JOIN screening_roundtarget rt ON rt.round_id = s.round_id AND rt.resident_id = s.resident_id
        JOIN orgunits_orgunit g ON g.path = rt.grid_path
        WHERE s.round_id = %s AND g.path LIKE %s
        GROUP BY g.path
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [screening_round.pk, f"{unit.path}%"])
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM screening_roundtarget WHERE round_id = %s AND grid_path LIKE %s",
            [screening_round.pk, f"{unit.path}%"],
        )
        target = cursor.fetchone()[0]
    return {"target": target, "sampled": sum(r[1] for r in rows), "grids": len(rows)}


#: (stage, depth) of the two imports in the order they run; depth 1 is inside the stage
#: above (the stage clock of bench/import_doses.py wraps each where it is looked up).
SAMPLE_STAGES = [
    ("import_batch_create", 0),
    ("read_file", 0),
    ("_checked_cells", 0),
    ("_samples_check", 0),
    ("check_id_numbers", 1),
    ("lookup_digests", 1),
    ("_drop_rejected", 0),
    ("_samples_write", 0),
    ("_samples_against_stored", 1),
    ("_stored_tubes", 1),
    ("_stored_samples", 1),
    ("_once_per_round", 1),
    ("_samples_store", 1),
    ("_with_residents", 1),
    ("_tubes_store", 1),
    ("insert_frame(Tube)", 1),
    ("insert_frame(Sample)", 1),
    ("references_lock(Sample)", 1),
    ("_mark_sampled", 1),
    ("areas_refresh", 1),
    ("_common_paths_refresh", 1),
    ("_analyze", 1),
    ("_finish", 0),
    ("commit", 0),
]
RESULT_STAGES = [
    ("import_batch_create", 0),
    ("read_file", 0),
    ("_checked_cells", 0),
    ("_results_check", 0),
    ("_drop_rejected", 0),
    ("_results_write", 0),
    ("_locked_tubes", 1),
    ("results_store", 1),
    ("_tubes_update", 1),
    ("areas_refresh", 1),
    ("targets_refresh", 1),
    ("test_results_reported", 1),
    ("_finish", 0),
    ("commit", 0),
]


def instrument():
    """A stage clock around the screening imports' functions (bench/import_doses.py's)."""
    from django.db import transaction

    from epidispatch.core import bulk, protection
    from epidispatch.imports import services as framework
    from epidispatch.screening import imports, services

    sys.path.insert(0, str(REPO / "bench"))
    from import_doses import StageClock, _TransactionProxy

    clock = StageClock()
    by_model = lambda name: lambda model, *a, **k: f"{name}({model.__name__})"  # noqa: E731
    for attribute in (
        "_samples_check", "check_id_numbers", "_samples_against_stored", "_stored_tubes",
        "_stored_samples", "_once_per_round", "_samples_store", "_with_residents",
        "_tubes_store", "_mark_sampled", "areas_refresh", "_common_paths_refresh", "_analyze",
        "_results_check", "_results_write", "_locked_tubes", "results_store",
    ):  # fmt: skip
        clock.wrap(imports, attribute)
    # the file kinds hold their check and write functions themselves (frozen dataclasses)
    for kind, attribute, name in (
        (imports.SAMPLES, "check_frame", "_samples_check"),
        (imports.SAMPLES, "write", "_samples_write"),
        (imports.RESULTS, "check_frame", "_results_check"),
        (imports.RESULTS, "write", "_results_write"),
    ):
        holder = SimpleNamespace(function=getattr(kind, attribute))
        clock.wrap(holder, "function", lambda *a, name=name, **k: name)
        object.__setattr__(kind, attribute, holder.function)
    for attribute in ("_tubes_update", "areas_refresh", "targets_refresh"):
        clock.wrap(services, attribute)
    clock.wrap(services.test_results_reported, "send", lambda *a, **k: "test_results_reported")
    for attribute in (
        "read_file", "_checked_cells", "_drop_rejected", "_finish", "import_batch_create",
    ):  # fmt: skip
        clock.wrap(framework, attribute)
    clock.wrap(protection, "lookup_digests")
    for name in ("insert_frame", "references_lock"):
        clock.wrap(bulk, name, by_model(name))

    original_atomic = framework.transaction.atomic

    @contextmanager
    def timed_atomic(*args, **kwargs):
        outermost = not transaction.get_connection().in_atomic_block
        with original_atomic(*args, **kwargs):
            yield
            exiting = time.perf_counter()
        if outermost:
            clock.seconds["commit"] += time.perf_counter() - exiting
            clock.calls["commit"] += 1

    framework.transaction = _TransactionProxy(timed_atomic)
    return clock


def stage_table(stages, seconds: dict, calls: dict, total: float) -> list[str]:
    lines = ["| stage | s | share | calls |", "|---|---:|---:|---:|"]
    counted = 0.0
    for name, depth in stages:
        if name not in calls:
            continue
        if depth == 0:
            counted += seconds[name]
        label = ("&nbsp;&nbsp;↳ " if depth else "") + f"`{name}`"
        lines.append(
            f"| {label} | {seconds[name]:.2f} | {seconds[name] / total:.0%} | {calls[name]} |"
        )
    lines.append(f"| other (outside the stages) | {total - counted:.2f} | "
                 f"{(total - counted) / total:.0%} | |")  # fmt: skip
    return lines


def timed(function, requests: int) -> list[float]:
    for _ in range(3):
        function()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def main(argv=None) -> int:
    args = parse_args(argv)
    url = bench_url(args)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("EPIDISPATCH_DATA_DIR", str(REPO / "var" / "bench-screening"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
    say(f"database {url}, {args.residents:,} residents, tubes of {args.pool}")
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from epidispatch.orgunits.models import OrgUnit
    from epidispatch.screening.imports import results_import, samples_import
    from epidispatch.screening.selectors import round_coverage
    from epidispatch.screening.services import round_create

    load_before = os.getloadavg()[0]
    setup = time.perf_counter()
    call_command("migrate", verbosity=0)
    city, grids = build_city()
    residents = load_residents(args.residents, grids)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    setup = time.perf_counter() - setup
    say(f"setup {setup:.1f} s")
    start = time.perf_counter()
    screening_round = round_create(unit=city, name="全员核酸", day=DAY, pool_size=args.pool)
    create_s = time.perf_counter() - start
    say(f"round_create: {screening_round.target_size:,} targets in {create_s:.1f} s")
    folder = Path(os.environ["EPIDISPATCH_DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    samples_path, sample_rows, results_path, result_rows = write_files(residents, folder, args.pool)
    clock = instrument()
    copy_samples = bare_copy(samples_path, 6)
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # the setup's writes are not the import's to flush
    before = import_doses.server_counters()
    clock.reset()
    start = time.perf_counter()
    summary = samples_import(screening_round, samples_path)
    samples_s = time.perf_counter() - start
    server = import_doses.counters_moved(before, import_doses.server_counters())
    sample_stages = stage_table(SAMPLE_STAGES, clock.seconds, clock.calls, samples_s)
    assert summary.stored == sample_rows, summary.counts()
    say(f"samples: {sample_rows:,} rows in {samples_s:.1f} s (bare COPY {copy_samples:.2f} s)")
    say(f"server during the sample import: {server}")
    print("\n".join(sample_stages), flush=True)
    copy_results = bare_copy(results_path, 4)
    clock.reset()
    start = time.perf_counter()
    summary = results_import(screening_round, results_path)
    results_s = time.perf_counter() - start
    result_stages = stage_table(RESULT_STAGES, clock.seconds, clock.calls, results_s)
    assert summary.stored == result_rows, summary.counts()
    say(f"results: {result_rows:,} rows in {results_s:.1f} s (bare COPY {copy_results:.2f} s)")
    print("\n".join(result_stages), flush=True)
    start = time.perf_counter()
    again = samples_import(screening_round, samples_path)
    again_s = time.perf_counter() - start
    assert again.stored == 0 and again.unchanged == sample_rows, again.counts()
    say(f"samples again: {sample_rows:,} rows unchanged in {again_s:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    town = OrgUnit.objects.filter(kind="town").order_by("code").first()
    reads = {}
    for label, unit in (("city", city), ("town", town)):
        figures = round_coverage(screening_round, unit)
        raw = raw_group_by(screening_round, unit)
        assert (figures["target"], figures["sampled"]) == (raw["target"], raw["sampled"]), (
            figures,
            raw,
        )
        reads[label] = (
            timed(lambda u=unit: round_coverage(screening_round, u), args.requests),
            timed(lambda u=unit: raw_group_by(screening_round, u), max(5, args.requests // 10)),
            figures,
        )
        say(
            f"coverage {label}: p95 {percentile(reads[label][0], 0.95):.1f} ms, "
            f"GROUP BY p95 {percentile(reads[label][1], 0.95):.1f} ms"
        )
    report = render(
        args, sample_rows, result_rows, samples_s, copy_samples, results_s, copy_results,
        create_s, screening_round.target_size, reads, load_before, setup,
        sample_stages, result_stages, again_s,
    )  # fmt: skip
    print(report)
    if not args.no_results:
        write_section(report)
    return 0


def render(args, sample_rows, result_rows, samples_s, copy_samples, results_s, copy_results,
           create_s, target, reads, load_before, setup, sample_stages, result_stages,
           again_s) -> str:  # fmt: skip
    rate = sample_rows / samples_s
    lines = [
        SECTION_START,
        "## Screening: a round over a city (issue 22)",
        "",
        f'`make bench-screening BENCH_SCREENING_ARGS="--residents {args.residents}"` '
        f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {platform.node()}, "
        f"{os.cpu_count()} cores shared "
        f"with other engineers' work, 1-minute load before the run {load_before:.1f}; setup "
        f"{setup:.0f} s). {args.residents:,} residents in {COUNTIES * TOWNS * VILLAGES * GRIDS:,} "
        f"grids of one city; round over the city, target list {target:,} "
        f"(frozen by `round_create` in {create_s:.1f} s); tubes of {args.pool}.",
        "",
        "| import | rows | platform s | rows/s | bare COPY s | ratio |",
        "|---|---|---|---|---|---|",
        f"| samples | {sample_rows:,} | {samples_s:.1f} | {rate:,.0f} | {copy_samples:.2f} | "
        f"{samples_s / copy_samples:.0f}× |",
        f"| results | {result_rows:,} | {results_s:.1f} | {result_rows / results_s:,.0f} | "
        f"{copy_results:.2f} | {results_s / copy_results:.0f}× |",
        "",
        f"The same sample file imported again: every row unchanged, nothing written, in "
        f"{again_s:.1f} s ({sample_rows / again_s:,.0f} rows/s).",
        "",
        "Stages of the sample import (wall seconds; ↳ inside the stage above):",
        "",
        *sample_stages,
        "",
        "Stages of the result import:",
        "",
        *result_stages,
        "",
        "| coverage of | n | p50 ms | p95 ms | GROUP BY p50 ms | GROUP BY p95 ms | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, (platform_samples, raw_samples, _figures) in reads.items():
        p95, raw95 = percentile(platform_samples, 0.95), percentile(raw_samples, 0.95)
        lines.append(
            f"| {label} | {len(platform_samples)} | {percentile(platform_samples, 0.5):.1f} | "
            f"{p95:.1f} | {percentile(raw_samples, 0.5):.1f} | {raw95:.1f} | {raw95 / p95:.1f}× |"
        )
    city95 = percentile(reads["city"][0], 0.95)
    lines += [
        "",
        f"Goals: ≥ {GOAL_SAMPLE_ROWS_PER_SECOND:,} sample rows/s — "
        f"{'met' if rate >= GOAL_SAMPLE_ROWS_PER_SECOND else 'missed'} ({rate:,.0f}); "
        f"coverage p95 ≤ {GOAL_COVERAGE_P95_MS} ms — "
        f"{'met' if city95 <= GOAL_COVERAGE_P95_MS else 'missed'} for the city ({city95:.1f} ms).",
        NOTES,
        SECTION_END,
    ]
    return "\n".join(lines)


def write_section(report: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if SECTION_START in text:
        head, rest = text.split(SECTION_START, 1)
        tail = rest.split(SECTION_END, 1)[1] if SECTION_END in rest else ""
        text = head + report + tail
    else:
        text = text.rstrip("\n") + "\n\n" + report + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
