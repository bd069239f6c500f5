"""The dose-import benchmark: a provincial dose extract into PostgreSQL, end to end.

    make bench                                   # the issue's sizes; a few minutes
    make bench BENCH_ARGS="--residents 50000 --doses 100000 --xlsx-rows 10000"
    .venv/bin/python bench/import_doses.py --help

What it does, in one run:

1. Setup (timed, not judged). Drops and recreates the benchmark database (its name must
   contain "bench"), migrates it, loads the demo county's units and `--residents`
   synthetic residents (`epidispatch.demo.generator.synthetic_residents`, inserted with
   COPY). Writes `--doses` rows of dose extract as CSV (the 18 columns of the provincial
   export) and `--xlsx-rows` third doses as `.xlsx`, into the data folder. Most residents
   get doses 1 and 2, a few a third (智飞's 3-dose series, or an early booster), some only
   one; six manufacturers; 2021-03 to 2021-12; a few per cent of rows with a lowercase x
   or spaces in the ID number, a short manufacturer name, "第2剂" or a date without time;
   about 0.1 % of rows name people not in the registry, 0.02 % carry a mistyped ID number
   and 0.05 % are the same dose exported twice.
2. Baseline: a bare PostgreSQL `COPY ... FROM STDIN (FORMAT csv, HEADER true)` of the same
   CSV bytes into a plain (logged) table of 18 text columns without indexes.
3. The import, as the command line and the web run it:
   `import_batch_create(kind="doses", ...)` + `import_batch_run(batch, path)`: read,
   validate, match residents, insert with COPY, recompute their VaccinationStatus, write
   the error report, mark the batch done. Stage timings come from wrappers around the
   importer's functions (microseconds of overhead).
4. The same for the `.xlsx` of third doses (dated six months or more after dose 2).
5. Sanity checks: the importer's counts, the Dose and VaccinationStatus rows and the
   boosters derived must be what the generated files imply; anything else fails loudly.

`--references MODE` measures another way of checking the foreign keys of Dose and
VaccinationStatus (REFERENCE_MODES: the application's set-wise check, or PostgreSQL's
per-row checks deferred or immediate, or the constraints dropped and re-validated); its
results go to a section of their own.

A CHECKPOINT precedes each timed phase. The figures are printed and written to a section of
bench/RESULTS.md named by the sizes (a later run of the same sizes replaces it).

Server: --database-url, else $BENCH_DATABASE_URL, else the server of $DATABASE_URL (the
Makefile passes scripts/ensure-postgres.sh's) with database "bench", else
postgres://postgres@127.0.0.1:5432/bench. `--reuse` keeps the residents and files of an
earlier run with the same options (emptying doses, statuses and batches), to iterate fast.
"""

import argparse
import cProfile
import csv
import json
import os
import platform
import pstats
import random
import re
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
FALLBACK_URL = "postgres://postgres@127.0.0.1:5432/bench"
BENCH_DATABASE = "bench"

GOAL_ROWS_PER_SECOND = 60_000
GOAL_RATIO = 4.0

HEADERS = [
    "序号", "预防接种档案编号", "受种者姓名", "身份证件类别", "身份证件号码", "性别",
    "受种者出生时间", "人群分类", "疫苗接种时间", "疫苗剂次", "疫苗生产企业", "疫苗生产企业代码",
    "疫苗批号", "疫苗追溯码", "接种单位", "接种单位编码", "区县名称", "区县编码",
]  # fmt: skip
COUNTY = ("通渭县", "621121")
#: Product code → (full name, short name seen in files, manufacturer code, lot prefix).
MANUFACTURERS = {
    "bibp": ("北京生物制品研究所有限责任公司", "国药北京", "10001", "2021BJ"),
    "wibp": ("武汉生物制品研究所有限责任公司", "国药武汉", "10002", "2021WH"),
    "coronavac": ("北京科兴中维生物技术有限公司", "科兴", "10003", "A2021"),
    "kconvac": ("深圳康泰生物制品股份有限公司", "康泰", "10004", "KT2021"),
    "ad5-ncov": ("康希诺生物股份公司", "康希诺", "10005", "NCOV2021"),
    "zf2001": ("安徽智飞龙科马生物制药有限公司", "智飞", "10006", "ZF2021"),
}
#: Products of two-dose residents, by share.
TWO_DOSE_SHARES = {"coronavac": 38, "bibp": 35, "wibp": 12, "kconvac": 8, "zf2001": 5}
#: Minimum interval before dose 2 (and 3 of 智飞's series), as the schedules say.
MIN_INTERVAL = {"kconvac": 28, "zf2001": 28}
FIRST_DAY, LAST_DAY = date(2021, 3, 1), date(2021, 12, 31)
BOOSTERS_FROM = date(2021, 10, 1)
#: Shares of the residents with exactly 3 and exactly 1 dose in the CSV.
THREE_DOSE_SHARE, ONE_DOSE_SHARE = 0.02, 0.01
#: Shares of CSV rows that are rejected or dropped, and of spelling variants.
UNKNOWN_PERSON_SHARE, MISTYPED_ID_SHARE, DUPLICATE_SHARE = 0.001, 0.0002, 0.0005
LOWERCASE_X_SHARE, ID_SPACES_SHARE = 0.3, 0.02  # lowercase x: of the numbers ending in X
SHORT_NAME_SHARE, DOSE_WORDS_SHARE, DATE_ONLY_SHARE = 0.04, 0.03, 0.01
RESIDENT_CHUNK = 50_000
#: How the foreign keys of Dose and VaccinationStatus are checked in the timed imports:
#: setwise (the code as it is: the referenced rows locked and counted in one statement per
#: foreign key, the COPY without per-row checks), deferred (PostgreSQL's per-row checks at
#: COMMIT, the constraints as Django creates them), immediate (the constraints altered to NOT
#: DEFERRABLE: the same per-row checks at the end of each COPY), revalidate (the constraints
#: dropped before each COPY, added back NOT VALID after it and then VALIDATEd, in the
#: import's transaction). Only setwise is the application's; the others are measured here.
REFERENCE_MODES = ("setwise", "deferred", "immediate", "revalidate")
#: The day the synthetic residents' ages are drawn from (the same people as earlier runs).
RESIDENTS_AGED_ON = date(2021, 8, 6)


# ---------------------------------------------------------------- options and environment


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the dose import end to end against a bare PostgreSQL COPY.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--residents", type=int, default=500_000, help="residents registered")
    parser.add_argument("--doses", type=int, default=1_000_000, help="rows of the CSV")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="rows of the .xlsx")
    parser.add_argument(
        "--encoding", choices=("utf-8", "gb18030"), default="utf-8", help="of the CSV"
    )
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--database-url", default=None, help="see the module docstring")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO / "var" / "bench", help="EPIDISPATCH_DATA_DIR"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the residents and files of an earlier run"
    )
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the CSV import to this file"
    )
    parser.add_argument("--no-results", action="store_true", help="leave RESULTS.md alone")
    parser.add_argument(
        "--references",
        choices=REFERENCE_MODES,
        default="setwise",
        help="how the COPYs' foreign keys are checked (a choice measured; see REFERENCE_MODES)",
    )
    args = parser.parse_args(argv)
    if min(args.residents, args.doses) < 1 or args.xlsx_rows < 0:
        parser.error("sizes must be positive")
    args.database_url = args.database_url or default_database_url()
    name = urlsplit(args.database_url).path.lstrip("/")
    if "bench" not in name:
        parser.error(f"refusing to drop and recreate database {name!r}: its name lacks 'bench'")
    return args


def default_database_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=BENCH_DATABASE))
    return FALLBACK_URL


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="postgres"))


def configure_django(args) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["EPIDISPATCH_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def say(text: str) -> None:
    print(f"   {text}", flush=True)


@contextmanager
def stopwatch(results: dict, name: str):
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


# ------------------------------------------------------------------------- the database


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)
        ))  # fmt: skip
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]
        ).fetchone()
    return found is not None


def run_sql(*statements: str) -> None:
    """Statements that cannot run in a transaction (VACUUM, CHECKPOINT)."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


#: The server's settings that move a bulk import (scripts/bench-postgres.sh sets them).
SERVER_SETTINGS = (
    "shared_buffers", "fsync", "synchronous_commit", "full_page_writes", "max_wal_size",
    "checkpoint_timeout", "wal_buffers", "wal_compression", "maintenance_work_mem",
    "work_mem", "max_parallel_maintenance_workers", "autovacuum",
)  # fmt: skip


def server_facts() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        facts = {"PostgreSQL": cursor.fetchone()[0]}
        host = connection.settings_dict["HOST"] or "local socket"
        facts["PostgreSQL server"] = f"{host}:{connection.settings_dict['PORT'] or 5432}"
        for setting in SERVER_SETTINGS:
            cursor.execute(f"SHOW {setting}")
            facts[setting] = cursor.fetchone()[0]
    return facts


def server_counters() -> tuple[int, int, int]:
    """Server-wide so far: checkpoints timed, checkpoints requested, bytes of WAL written."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT checkpoints_timed, checkpoints_req, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint FROM pg_stat_bgwriter"
        )
        return tuple(int(value) for value in cursor.fetchone())


def counters_moved(before: tuple[int, int, int], after: tuple[int, int, int]) -> str:
    timed, requested, wal = (b - a for a, b in zip(before, after, strict=True))
    return f"checkpoints timed {timed}, requested {requested}; WAL {wal / 2**20:,.0f} MiB"


# ------------------------------------------------------------------------------ residents


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    birth: date
    sex: str  # "M" or "F"


def create_residents(count: int, seed: int) -> list[Person]:
    """Insert `count` synthetic residents of the demo county; their clear ID numbers."""
    import polars as pl

    from epidispatch.core import bulk, protection
    from epidispatch.demo.generator import COUNTY as DEMO_COUNTY
    from epidispatch.demo.generator import load_units, synthetic_residents
    from epidispatch.orgunits.models import OrgUnit, UnitKind
    from epidispatch.registry.models import Resident

    load_units()
    grids = list(
        OrgUnit.objects.filter(kind=UnitKind.GRID, county_code=DEMO_COUNTY[0]).order_by("code")
    )
    fields = [
        "name", "id_number_digest", "id_number_encrypted", "id_number_masked", "phone_digest",
        "phone_encrypted", "phone_masked", "birth_date", "sex", "grid_id", "county_code",
        "status",
    ]  # fmt: skip
    schema = {name: pl.String for name in fields} | {"birth_date": pl.Date, "grid_id": pl.Int64}
    people: list[Person] = []
    rows: list[tuple] = []

    def flush() -> None:
        bulk.insert_frame(Resident, pl.DataFrame(rows, schema=schema, orient="row"))
        rows.clear()
        say(f"{len(people):,} residents")

    for resident in synthetic_residents(count, grids, RESIDENTS_AGED_ON, seed):
        number = protection.decrypt(resident.id_number_encrypted)
        people.append(Person(number, resident.name, resident.birth_date, resident.sex))
        rows.append(tuple(str(getattr(resident, f)) if f in ("sex", "status") else
                          getattr(resident, f) for f in fields))  # fmt: skip
        if len(rows) == RESIDENT_CHUNK:
            flush()
    if rows:
        flush()
    return people


# ------------------------------------------------------------------------ the dose files


@dataclass
class PlannedDose:
    person: Person
    number: int
    product: str  # product code
    given_at: datetime


@dataclass
class Plan:
    """The doses the files hold and what importing them must give."""

    csv: list[PlannedDose] = field(default_factory=list)
    unknown: list[PlannedDose] = field(default_factory=list)  # people not registered
    mistyped: list[PlannedDose] = field(default_factory=list)  # wrong check digit
    duplicates: int = 0
    xlsx: list[PlannedDose] = field(default_factory=list)
    vaccinated: int = 0  # residents with at least one dose stored

    def expected(self) -> dict[str, int]:
        return {
            "csv_rows": len(self.csv) + len(self.unknown) + len(self.mistyped) + self.duplicates,
            "csv_stored": len(self.csv),
            "csv_duplicates": self.duplicates,
            "csv_rejected": len(self.unknown) + len(self.mistyped),
            "xlsx_rows": len(self.xlsx),
            "vaccinated": self.vaccinated,
        }


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _at(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randrange(60),
                    rng.randrange(60))  # fmt: skip


def _series(rng, person, product, first, count) -> list[PlannedDose]:
    """`count` doses of a series of `product` from day `first`, at the schedule's intervals."""
    doses, day = [], first
    for number in range(1, count + 1):
        if number > 1:
            day += timedelta(days=rng.randint(MIN_INTERVAL.get(product, 21), 56))
        doses.append(PlannedDose(person, number, product, _at(rng, min(day, LAST_DAY))))
    return doses


def _weighted(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), list(shares.values()))[0]


def plan_doses(people: list[Person], rows: int, xlsx_rows: int, seed: int) -> Plan:
    """Decide every dose of the two files: exactly `rows` CSV rows, `xlsx_rows` third doses."""
    rng = random.Random(seed + 1)
    plan = Plan()
    unknown = round(rows * UNKNOWN_PERSON_SHARE)
    mistyped = round(rows * MISTYPED_ID_SHARE)
    plan.duplicates = round(rows * DUPLICATE_SHARE)
    valid = rows - unknown - mistyped - plan.duplicates
    three = min(round(len(people) * THREE_DOSE_SHARE), valid // 3)
    one = min(round(len(people) * ONE_DOSE_SHARE), valid - 3 * three)
    two, odd = divmod(valid - 3 * three - one, 2)
    one += odd
    if three + two + one > len(people):
        raise SystemExit(
            f"{rows:,} rows need more than {len(people):,} residents (about 2 doses each)."
        )
    if xlsx_rows > two:
        raise SystemExit(f"--xlsx-rows is at most {two:,} (the residents with 2 doses).")
    order = list(range(len(people)))
    rng.shuffle(order)
    threes = order[:three]
    ones = order[three : three + one]
    twos = order[three + one : three + one + two]
    plan.vaccinated = three + one + two

    for position, index in enumerate(threes):
        person = people[index]
        if position % 2:  # 智飞's three-dose series
            plan.csv += _series(rng, person, "zf2001", _day(rng, FIRST_DAY, date(2021, 9, 30)), 3)
        else:  # an early booster, six months after an inactivated series
            product = _weighted(rng, {"coronavac": 5, "bibp": 4, "wibp": 1})
            doses = _series(rng, person, product, _day(rng, FIRST_DAY, date(2021, 4, 30)), 2)
            earliest = max(BOOSTERS_FROM, doses[1].given_at.date() + timedelta(days=180))
            booster = product if rng.random() < 0.8 else rng.choice(("zf2001", "ad5-ncov"))
            day = min(_day(rng, earliest, earliest + timedelta(days=45)), LAST_DAY)
            plan.csv += [*doses, PlannedDose(person, 3, booster, _at(rng, day))]
    for index in ones:
        product = "ad5-ncov" if rng.random() < 0.5 else _weighted(rng, TWO_DOSE_SHARES)
        plan.csv += _series(rng, people[index], product, _day(rng, FIRST_DAY, LAST_DAY), 1)
    for index in twos:
        first = _day(rng, FIRST_DAY, date(2021, 10, 31))
        plan.csv += _series(rng, people[index], _weighted(rng, TWO_DOSE_SHARES), first, 2)

    for _n in range(mistyped):
        dose = rng.choice(plan.csv)
        number = dose.person.id_number
        wrong = rng.choice([c for c in "0123456789X" if c != number[-1]])
        person = Person(number[:-1] + wrong, dose.person.name, dose.person.birth, dose.person.sex)
        plan.mistyped.append(PlannedDose(person, dose.number, dose.product, dose.given_at))
    registered = {person.id_number for person in people}
    for person in _strangers(rng, unknown, registered):
        plan.unknown += _series(rng, person, "bibp", _day(rng, FIRST_DAY, LAST_DAY), 1)

    # The .xlsx: third doses of two-dose residents, six months or more after dose 2.
    second = {d.person.id_number: d for d in plan.csv if d.number == 2}
    for index in twos[:xlsx_rows]:
        dose = second[people[index].id_number]
        day = dose.given_at.date() + timedelta(days=rng.randint(183, 300))
        product = dose.product if rng.random() < 0.75 else rng.choice(("zf2001", "ad5-ncov"))
        plan.xlsx.append(PlannedDose(dose.person, 3, product, _at(rng, day)))
    return plan


def _strangers(rng: random.Random, count: int, registered: set[str]) -> list[Person]:
    """People with valid ID numbers of a neighbouring county, none of them registered."""
    from stdnum.cn import ric

    from epidispatch.demo.generator import REGION_CODE_CHANGE_YEAR

    strangers: list[Person] = []
    while len(strangers) < count:
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20_000))
        region = "622425" if birth.year < REGION_CODE_CHANGE_YEAR else "621122"  # 陇西县
        body = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in registered:
            registered.add(number)
            sex = "M" if int(number[16]) % 2 else "F"
            strangers.append(Person(number, "外县" + rng.choice("甲乙丙丁"), birth, sex))
    return strangers


class RowWriter:
    """The 18 cells of a dose row, as the provincial system exports them, with the
    spelling variants real files carry."""

    def __init__(self, seed: int, sites: list[tuple[str, str]]):
        self.rng = random.Random(seed + 2)
        self.sites = sites

    def id_text(self, number: str) -> str:
        rng = self.rng
        if number.endswith("X") and rng.random() < LOWERCASE_X_SHARE:
            number = number[:-1] + "x"
        if rng.random() < ID_SPACES_SHARE:
            number = rng.choice(
                (f"{number[:6]} {number[6:14]} {number[14:]}", f" {number}", f"{number} ")
            )
        return number

    def cells(self, dose: PlannedDose, serial: int, *, spreadsheet: bool = False) -> list:
        rng, person = self.rng, dose.person
        full, short, code, lot_prefix = MANUFACTURERS[dose.product]
        site_name, site_code = rng.choice(self.sites)
        age = (dose.given_at.date() - person.birth).days // 365
        group = "3-17岁" if age < 18 else "18-59岁" if age < 60 else "60岁及以上"
        if spreadsheet:
            given, number = dose.given_at, dose.number
        else:
            given = (
                f"{dose.given_at:%Y-%m-%d}"
                if rng.random() < DATE_ONLY_SHARE
                else f"{dose.given_at:%Y-%m-%d %H:%M:%S}"
            )
            number = f"第{dose.number}剂" if rng.random() < DOSE_WORDS_SHARE else str(dose.number)
        return [
            serial,
            f"{COUNTY[1]}{person.id_number[6:14]}{serial % 10**6:06d}",
            person.name,
            "居民身份证",
            self.id_text(person.id_number),
            "男" if person.sex == "M" else "女",
            f"{person.birth:%Y-%m-%d}",
            group,
            given,
            number,
            short if rng.random() < SHORT_NAME_SHARE else full,
            code,
            f"{lot_prefix}{dose.given_at:%m}{rng.randrange(100):02d}",
            f"8{rng.randrange(10**19):019d}",
            site_name,
            site_code,
            *COUNTY,
        ]


def demo_sites() -> list[tuple[str, str]]:
    from epidispatch.demo.generator import unit_specs
    from epidispatch.orgunits.models import UnitKind

    return [(spec.name, spec.code) for spec in unit_specs() if spec.kind == UnitKind.SITE]


def write_csv(path: Path, plan: Plan, writer: RowWriter, encoding: str, seed: int) -> None:
    """The CSV in export order (by vaccination time); a dose exported twice repeats its
    cells under a new serial number."""
    rng = random.Random(seed + 3)
    repeated = [rng.choice(plan.csv) for _n in range(plan.duplicates)]
    doses = sorted(plan.csv + plan.unknown + plan.mistyped + repeated, key=lambda d: d.given_at)
    first_cells = {id(dose): None for dose in repeated}
    with path.open("w", encoding=encoding, newline="") as handle:
        output = csv.writer(handle, lineterminator="\r\n")
        output.writerow(HEADERS)
        for serial, dose in enumerate(doses, start=1):
            cells = first_cells.get(id(dose))
            if cells is None:
                cells = writer.cells(dose, serial)
                if id(dose) in first_cells:
                    first_cells[id(dose)] = cells
            output.writerow([serial, *cells[1:]])


def write_xlsx(path: Path, plan: Plan, writer: RowWriter) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("接种记录")
    sheet.append(HEADERS)
    doses = sorted(plan.xlsx, key=lambda dose: dose.given_at)
    for serial, dose in enumerate(doses, start=1):
        sheet.append(writer.cells(dose, serial, spreadsheet=True))
    workbook.save(path)


# ----------------------------------------------------------------------- timed phases


def copy_baseline(path: Path, encoding: str, expected_rows: int) -> float:
    """Seconds to COPY the file's bytes into a plain table of 18 text columns."""
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(1, len(HEADERS) + 1))
    run_sql(
        "DROP TABLE IF EXISTS bench_copy_baseline",
        f"CREATE TABLE bench_copy_baseline ({columns})",
    )
    run_sql("CHECKPOINT")
    options = "FORMAT csv, HEADER true" + (", ENCODING 'GB18030'" if encoding == "gb18030" else "")
    start = time.perf_counter()
    data = path.read_bytes()
    sql = f"COPY bench_copy_baseline FROM STDIN ({options})"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(data)
    seconds = time.perf_counter() - start  # autocommit: the COPY has committed
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy_baseline")
        copied = cursor.fetchone()[0]
    run_sql("DROP TABLE bench_copy_baseline")
    check(copied == expected_rows, f"COPY stored {copied:,} rows, not {expected_rows:,}")
    return seconds


class StageClock:
    """Time spent in the importer's functions, by wrapping them where they are looked up."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, module, attribute: str, label=None) -> None:
        original = getattr(module, attribute)

        @wraps(original)
        def timed(*args, **kwargs):
            name = label(*args, **kwargs) if label else attribute
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1

        setattr(module, attribute, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


#: (stage, depth) in the order the importer runs them; depth 1 is inside the stage above
#: of depth 0, depth 2 inside the one of depth 1 above.
STAGES = [
    ("import_batch_create", 0),
    ("read_file", 0),
    ("_checked_cells", 0),
    ("_checked", 0),
    ("check_id_numbers", 1),
    ("_file_duplicates", 0),
    ("_match_residents", 0),
    ("lookup_digests", 1),
    ("select_in(Resident)", 1),
    ("_against_stored", 0),
    ("stored_doses", 1),
    ("_dose_rows", 0),
    ("doses_settle", 0),
    ("lock_rows(Resident)", 1),
    ("leaf_figures", 1),
    ("_add_added", 1),
    ("derive", 1),
    ("insert_frame(Dose)", 1),
    ("_indexes_dropped", 2),
    ("_indexes_build", 2),
    ("references_lock(Dose)", 1),
    ("update_frame(Dose)", 1),
    ("delete_in(VaccinationStatus)", 1),
    ("insert_frame(VaccinationStatus)", 1),
    ("references_lock(VaccinationStatus)", 1),
    ("_end_refusals", 1),
    ("_apply", 1),
    ("doses_imported", 0),
    ("write_error_report", 0),
    ("commit", 0),
]


def instrument() -> StageClock:
    from django.db import transaction

    from epidispatch.core import bulk, protection
    from epidispatch.figures import rollups
    from epidispatch.imports import services as framework
    from epidispatch.vaccination import imports, services, signals

    clock = StageClock()
    by_model = lambda name: lambda model, *a, **k: f"{name}({model.__name__})"  # noqa: E731
    for attribute in (
        "_checked", "check_id_numbers", "_file_duplicates", "_match_residents",
        "_against_stored", "stored_doses", "_dose_rows", "doses_settle",
    ):  # fmt: skip
        clock.wrap(imports, attribute)
    for attribute in ("read_file", "_checked_cells", "write_error_report", "import_batch_create"):
        clock.wrap(framework, attribute)
    clock.wrap(protection, "lookup_digests")
    clock.wrap(services, "derive")
    for name in (
        "select_in", "insert_frame", "update_frame", "delete_in", "lock_rows", "references_lock",
    ):  # fmt: skip
        clock.wrap(bulk, name, by_model(name))
    clock.wrap(bulk, "_indexes_dropped")  # within insert_frame(Dose): a first load's
    clock.wrap(bulk, "_indexes_build")  # secondary indexes dropped, then built again
    clock.wrap(services, "_end_refusals")
    clock.wrap(rollups, "leaf_figures")
    clock.wrap(rollups, "_add_added")  # an import that only adds doses: the figures' delta
    clock.wrap(rollups, "_apply")
    clock.wrap(signals.doses_imported, "send", lambda *a, **k: "doses_imported")

    # The commit: time from leaving the importer's outermost atomic block to its end.
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


class _TransactionProxy:
    """`transaction` with `atomic` timed (only the import framework's module sees it)."""

    def __init__(self, atomic):
        self.atomic = atomic

    def __getattr__(self, name):
        from django.db import transaction

        return getattr(transaction, name)


def timed_import(path: Path, clock: StageClock, profile: Path | None = None):
    """(seconds, summary, batch, the server's checkpoints and WAL during it) of the
    end-to-end import of one dose file."""
    from epidispatch.imports.services import import_batch_create, import_batch_run

    run_sql("CHECKPOINT")
    before = server_counters()  # after the CHECKPOINT, which counts as a requested one
    clock.reset()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    batch = import_batch_create(kind="doses", path=path, file_name=path.name)
    summary = import_batch_run(batch, path)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    server = counters_moved(before, server_counters())
    if profiler:
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    batch.refresh_from_db()
    return seconds, summary, batch, server


# ------------------------------------------------------------ how references are checked


def _foreign_key_constraints(model) -> list[tuple[str, str]]:
    """(name, definition) of the foreign-key constraints on `model`'s table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [model._meta.db_table],
        )
        return cursor.fetchall()


def reference_mode(mode: str) -> None:
    """Set the foreign keys of Dose and VaccinationStatus and the COPY path up for `mode`
    (REFERENCE_MODES). The constraints go back to Django's DEFERRABLE INITIALLY DEFERRED
    first, so a run after another mode (--reuse) starts from the migrated schema."""
    from django.db import connection

    from epidispatch.core import bulk
    from epidispatch.vaccination.models import Dose, VaccinationStatus

    models = (Dose, VaccinationStatus)
    timing = "NOT DEFERRABLE" if mode == "immediate" else "DEFERRABLE INITIALLY DEFERRED"
    with connection.cursor() as cursor:
        for model in models:
            for name, _definition in _foreign_key_constraints(model):
                cursor.execute(f'ALTER TABLE "{model._meta.db_table}" ALTER CONSTRAINT "{name}" '
                               f"{timing}")  # fmt: skip
    if mode == "setwise":
        return
    bulk.SETWISE_FROM = float("inf")  # PostgreSQL's per-row checks
    if mode != "revalidate":
        return
    original = bulk.insert_frame

    def insert_frame_revalidating(model, frame):
        if model not in models:
            return original(model, frame)
        constraints = _foreign_key_constraints(model)
        table = model._meta.db_table
        with connection.cursor() as cursor:
            for name, _definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            original(model, frame)
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} '
                               "NOT VALID")  # fmt: skip
                cursor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')

    bulk.insert_frame = insert_frame_revalidating


# ------------------------------------------------------------------------------- checks


class BenchFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchFailure(message)


def check_summary(summary, expected: dict[str, int], label: str) -> None:
    got = summary.counts()
    for name, value in expected.items():
        check(got[name] == value, f"{label}: {name} = {got[name]:,}, expected {value:,} ({got})")


def check_database(plan: Plan, *, with_xlsx: bool) -> dict[str, int]:
    """Doses, statuses and boosters as the files imply; returns the counts found."""
    from django.db.models import Sum

    from epidispatch.vaccination.models import Dose, Schedule, VaccinationStatus, VaccineProduct

    doses = Dose.objects.count()
    statuses = VaccinationStatus.objects.count()
    status_doses = VaccinationStatus.objects.aggregate(total=Sum("doses"))["total"] or 0
    expected_doses = len(plan.csv) + (len(plan.xlsx) if with_xlsx else 0)
    check(doses == expected_doses, f"{doses:,} Dose rows stored, expected {expected_doses:,}")
    check(
        statuses == plan.vaccinated,
        f"{statuses:,} VaccinationStatus rows, expected {plan.vaccinated:,} (residents with doses)",
    )
    check(status_doses == doses, f"statuses count {status_doses:,} doses, Dose has {doses:,}")
    # A third dose is booster 1 when the series product has a two-dose series.
    codes = dict(VaccineProduct.objects.values_list("code", "id"))
    length = dict(Schedule.objects.values_list("product_id", "series_doses"))
    first = {d.person.id_number: d.product for d in plan.csv if d.number == 1}
    thirds = [d for d in plan.csv if d.number == 3] + (plan.xlsx if with_xlsx else [])
    expected_boosters = sum(length[codes[first[d.person.id_number]]] == 2 for d in thirds)
    boosters = Dose.objects.filter(dose_number=3, booster_number=1).count()
    check(
        boosters == expected_boosters,
        f"{boosters:,} boosters derived, expected {expected_boosters:,}",
    )
    return {"doses": doses, "statuses": statuses, "boosters": boosters}


# ----------------------------------------------------------------------------- results


def machine_facts() -> dict[str, str]:
    facts = {"CPU cores": str(os.cpu_count())}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if model:
            facts["CPU"] = model.group(1).strip()
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if total:
            facts["RAM"] = f"{int(total.group(1)) / 2**20:.1f} GiB"
    facts["OS"] = platform.platform()
    loads = " ".join(f"{load:.2f}" for load in os.getloadavg())
    facts["Load average (1, 5, 15 min) at start"] = loads
    return facts


def software_facts() -> dict[str, str]:
    import django
    import polars

    return {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "polars": polars.__version__,
    }


def git_commit() -> str:
    """HEAD, and whether the code measured differs from it (read-only git calls)."""
    environment = os.environ | {"GIT_OPTIONAL_LOCKS": "0"}

    def git(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", *arguments], cwd=REPO, capture_output=True, text=True, env=environment
        )

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("diff", "--quiet", "HEAD", "--", "src", "pyproject.toml")
    except OSError:
        return "unknown"
    if head.returncode:
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes in src/" if changed.returncode else "")


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds else "n/a"


def stage_table(clock_seconds: dict[str, float], calls: dict[str, int], total: float) -> list[str]:
    lines = ["| Stage | Seconds | Share | Calls |", "|---|---:|---:|---:|"]
    accounted = 0.0
    for name, depth in STAGES:
        if name not in clock_seconds:
            continue
        seconds = clock_seconds[name]
        if depth == 0:
            accounted += seconds
        label = ("&nbsp;&nbsp;" * depth + "↳ " if depth else "") + f"`{name}`"
        lines.append(f"| {label} | {seconds:.2f} | {seconds / total:.0%} | {calls[name]} |")
    other = total - accounted
    lines.append(f"| other (batch ledger, progress) | {other:.2f} | {other / total:.0%} | |")
    lines.append(f"| **total** | **{total:.2f}** | 100% | |")
    return lines


def section_marker(args) -> str:
    references = "" if args.references == "setwise" else f" references={args.references}"
    return (
        f"<!-- bench:import_doses residents={args.residents} doses={args.doses} "
        f"xlsx={args.xlsx_rows} encoding={args.encoding}{references} -->"
    )


END_MARKER = "<!-- /bench:import_doses -->"


def results_section(args, run: dict) -> str:
    csv_seconds, copy_seconds = run["csv_seconds"], run["copy_seconds"]
    rows_per_second = args.doses / csv_seconds
    ratio = csv_seconds / copy_seconds
    meets = rows_per_second >= GOAL_ROWS_PER_SECOND and ratio <= GOAL_RATIO
    verdict = "met" if meets else "**missed**"
    tick = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    lines = [
        section_marker(args),
        f"## {args.doses:,} dose rows against {args.residents:,} residents "
        f"({args.encoding} CSV) and a {args.xlsx_rows:,}-row .xlsx"
        + ("" if args.references == "setwise" else f", references checked {args.references}"),
        "",
        f"Run {run['when']}, commit `{run['commit']}`; goal {verdict}.",
        "",
        "Command:",
        "",
        "```sh",
        run["command"],
        "```",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in run["machine"].items()),
        "",
        "| Figure | Value | Goal | Met |",
        "|---|---|---|---|",
        f"| CSV import, end to end | {args.doses:,} rows in {csv_seconds:.2f} s = "
        f"**{rows_per_second:,.0f} rows/s** | ≥ {GOAL_ROWS_PER_SECOND:,} rows/s | "
        f"{tick(rows_per_second >= GOAL_ROWS_PER_SECOND)} |",
        f"| Bare `COPY` of the same file (unindexed 18-text-column table) | "
        f"{copy_seconds:.2f} s = {rate(args.doses, copy_seconds)} | | |",
        f"| Ratio import / COPY | **{ratio:.2f}** | ≤ {GOAL_RATIO:g} | "
        f"{tick(ratio <= GOAL_RATIO)} |",
    ]
    if args.xlsx_rows:
        lines.append(
            f"| .xlsx import, end to end | {args.xlsx_rows:,} rows in "
            f"{run['xlsx_seconds']:.2f} s = {rate(args.xlsx_rows, run['xlsx_seconds'])} | | |"
        )
    csv_counts = run["csv_counts"]
    lines += [
        "",
        "CSV import summary: " + ", ".join(f"{k} {v:,}" for k, v in csv_counts.items()) + ".",
        f"Server during the CSV import: {run['csv_server']}.",
        ("After both imports: " if args.xlsx_rows else "After the import: ")
        + ", ".join(f"{k} {v:,}" for k, v in run["database"].items())
        + " (all as expected).",
        "",
        f"Stage timings of the CSV import ({args.doses:,} rows):",
        "",
        *stage_table(run["csv_stages"], run["csv_calls"], csv_seconds),
    ]
    if args.xlsx_rows:
        lines += [
            "",
            f"Stage timings of the .xlsx import ({args.xlsx_rows:,} rows):",
            "",
            *stage_table(run["xlsx_stages"], run["xlsx_calls"], run["xlsx_seconds"]),
        ]
    lines += [
        "",
        "Setup (not measured against the goal): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run["setup"].items())
        + ".",
        END_MARKER,
    ]
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """# Benchmarks

Written by `bench/import_doses.py` (`make bench`); each section is replaced when the same
sizes are run again. See the script's docstring for what is measured and how.

"""


def write_results(args, run: dict) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else RESULTS_HEADER
    new = results_section(args, run)
    marker = section_marker(args)
    if marker in text:
        start = text.index(marker)
        end = text.index(END_MARKER, start) + len(END_MARKER)
        text = text[:start] + new.rstrip("\n") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + new
    RESULTS.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------- main


def prepare(args, setup: dict) -> tuple[Plan, Path, Path]:
    """The database with its residents and the two files, made or (--reuse) found."""
    csv_path = args.data_dir / f"doses-{args.doses}.csv"
    xlsx_path = args.data_dir / f"doses-{args.xlsx_rows}-third.xlsx"
    manifest_path = args.data_dir / "bench-manifest.json"
    wanted = {
        "database": args.database_url,
        "residents": args.residents,
        "doses": args.doses,
        "xlsx_rows": args.xlsx_rows,
        "encoding": args.encoding,
        "seed": args.seed,
    }
    if args.reuse and _reusable(manifest_path, wanted, args, csv_path, xlsx_path):
        section("Setup: reusing the residents and files of an earlier run (--reuse)")
        configure_django(args)
        from django.core.management import call_command

        plan = _load_plan(args.data_dir / "bench-plan.json")
        with stopwatch(setup, "migrations, emptying doses, statuses and batches"):
            call_command("migrate", verbosity=0)
            _empty_imports()
        return plan, csv_path, xlsx_path

    section(f"Setup: database {database_name(args.database_url)}")
    with stopwatch(setup, "database and migrations"):
        recreate_database(args.database_url)
        configure_django(args)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    with stopwatch(setup, f"{args.residents:,} residents"):
        people = create_residents(args.residents, args.seed)
        run_sql("VACUUM ANALYZE")
    with stopwatch(setup, "planning doses"):
        plan = plan_doses(people, args.doses, args.xlsx_rows, args.seed)
        del people
    writer = RowWriter(args.seed, demo_sites())
    with stopwatch(setup, f"writing the {args.doses:,}-row CSV"):
        write_csv(csv_path, plan, writer, args.encoding, args.seed)
    say(f"{csv_path} ({csv_path.stat().st_size / 2**20:.0f} MiB)")
    if args.xlsx_rows:
        with stopwatch(setup, f"writing the {args.xlsx_rows:,}-row .xlsx"):
            write_xlsx(xlsx_path, plan, writer)
        say(f"{xlsx_path} ({xlsx_path.stat().st_size / 2**20:.0f} MiB)")
    _save_plan(args.data_dir / "bench-plan.json", plan)
    manifest_path.write_text(json.dumps(wanted))
    return plan, csv_path, xlsx_path


def _reusable(manifest_path: Path, wanted: dict, args, *paths: Path) -> bool:
    if not manifest_path.exists() or json.loads(manifest_path.read_text()) != wanted:
        return False
    needed = paths if args.xlsx_rows else paths[:1]
    return all(path.exists() for path in needed) and database_exists(args.database_url)


def _empty_imports() -> None:
    from django.db import connection

    from epidispatch.imports.models import ImportBatch
    from epidispatch.vaccination.models import Dose, VaccinationStatus

    tables = ", ".join(m._meta.db_table for m in (Dose, VaccinationStatus, ImportBatch))
    with connection.cursor() as cursor:
        # CASCADE: what refers to doses (follow-ups) goes with them.
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    run_sql("VACUUM ANALYZE")


def _save_plan(path: Path, plan: Plan) -> None:
    """The plan (for --reuse), without the people's repetition."""

    def rows(doses):
        return [[d.person.id_number, d.number, d.product, d.given_at.isoformat()] for d in doses]

    path.write_text(
        json.dumps(
            {
                "csv": rows(plan.csv),
                "unknown": rows(plan.unknown),
                "mistyped": rows(plan.mistyped),
                "xlsx": rows(plan.xlsx),
                "duplicates": plan.duplicates,
                "vaccinated": plan.vaccinated,
            }
        )
    )


def _load_plan(path: Path) -> Plan:
    data = json.loads(path.read_text())
    people: dict[str, Person] = {}

    def doses(rows):
        return [
            PlannedDose(
                people.setdefault(number, Person(number, "", date.min, "")),
                dose_number,
                product,
                datetime.fromisoformat(given_at),
            )
            for number, dose_number, product, given_at in rows
        ]

    return Plan(
        csv=doses(data["csv"]),
        unknown=doses(data["unknown"]),
        mistyped=doses(data["mistyped"]),
        duplicates=data["duplicates"],
        xlsx=doses(data["xlsx"]),
        vaccinated=data["vaccinated"],
    )


def effective_command(args) -> str:
    """The command line that repeats this run, every size spelled out."""
    options = [
        "--residents", str(args.residents), "--doses", str(args.doses),
        "--xlsx-rows", str(args.xlsx_rows), "--encoding", args.encoding, "--seed", str(args.seed),
    ]  # fmt: skip
    defaults = parse_args([])
    if args.database_url != defaults.database_url:
        options += ["--database-url", args.database_url]
    if args.data_dir.resolve() != defaults.data_dir.resolve():
        options += ["--data-dir", str(args.data_dir)]
    if args.profile:
        options += ["--profile", str(args.profile)]
    python = Path(sys.executable)
    python = python.relative_to(REPO) if python.is_relative_to(REPO) else python
    script = Path(__file__).resolve().relative_to(REPO)
    if args.references != defaults.references:
        options += ["--references", args.references]
    command = shlex.join([str(python), str(script), *options])
    sized = (
        "residents", "doses", "xlsx_rows", "encoding", "seed", "database_url", "data_dir",
        "references",
    )  # fmt: skip
    if all(getattr(args, name) == getattr(defaults, name) for name in sized) and not args.profile:
        command = f"make bench   # = {command}"
    return command


def main(argv=None) -> int:
    args = parse_args(argv)
    command = effective_command(args)
    setup: dict[str, float] = {}
    machine = machine_facts()  # the load average before this run adds to it
    plan, csv_path, xlsx_path = prepare(args, setup)
    expected = plan.expected()
    run = {
        "command": command,
        "when": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": git_commit(),
        "machine": machine | server_facts() | software_facts(),
        "setup": setup,
    }
    for name, value in run["machine"].items():
        say(f"{name}: {value}")

    section(f"Baseline: bare COPY of {csv_path.name} into an unindexed table")
    run["copy_seconds"] = copy_baseline(csv_path, args.encoding, expected["csv_rows"])
    say(f"{run['copy_seconds']:.2f} s = {rate(args.doses, run['copy_seconds'])}")

    reference_mode(args.references)
    clock = instrument()
    section(f"Import: {csv_path.name}, end to end (references: {args.references})")
    seconds, summary, batch, run["csv_server"] = timed_import(csv_path, clock, args.profile)
    run.update(csv_seconds=seconds, csv_stages=dict(clock.seconds), csv_calls=dict(clock.calls))
    run["csv_counts"] = summary.counts()
    say(f"{seconds:.2f} s = {rate(args.doses, seconds)}; summary {summary.counts()}")
    say(f"server during the import: {run['csv_server']}")
    check(batch.state == "done", f"batch {batch.pk} is {batch.state}: {batch.message}")
    check_summary(
        summary,
        {
            "rows": expected["csv_rows"],
            "stored": expected["csv_stored"],
            "unchanged": 0,
            "duplicates": expected["csv_duplicates"],
            "rejected": expected["csv_rejected"],
        },
        "CSV import",
    )
    run["database"] = check_database(plan, with_xlsx=False)

    if args.xlsx_rows:
        section(f"Import: {xlsx_path.name}, end to end")
        seconds, summary, batch, _server = timed_import(xlsx_path, clock)
        run.update(
            xlsx_seconds=seconds, xlsx_stages=dict(clock.seconds), xlsx_calls=dict(clock.calls)
        )
        say(f"{seconds:.2f} s = {rate(args.xlsx_rows, seconds)}; summary {summary.counts()}")
        check(batch.state == "done", f"batch {batch.pk} is {batch.state}: {batch.message}")
        rows = expected["xlsx_rows"]
        check_summary(
            summary,
            {"rows": rows, "stored": rows, "unchanged": 0, "duplicates": 0, "rejected": 0},
            ".xlsx import",
        )
        run["database"] = check_database(plan, with_xlsx=True)
    say("sanity checks passed: " + ", ".join(f"{k} {v:,}" for k, v in run["database"].items()))

    section("Results")
    ratio = run["csv_seconds"] / run["copy_seconds"]
    say(f"CSV import:   {rate(args.doses, run['csv_seconds'])} ({run['csv_seconds']:.2f} s)")
    say(f"COPY:         {rate(args.doses, run['copy_seconds'])} ({run['copy_seconds']:.2f} s)")
    say(f"ratio:        {ratio:.2f} (goal ≤ {GOAL_RATIO:g})")
    if args.xlsx_rows:
        say(f".xlsx import: {rate(args.xlsx_rows, run['xlsx_seconds'])} "
            f"({run['xlsx_seconds']:.2f} s for {args.xlsx_rows:,} rows)")  # fmt: skip
    for line in stage_table(run["csv_stages"], run["csv_calls"], run["csv_seconds"]):
        say(line)
    if not args.no_results:
        write_results(args, run)
        say(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchFailure as failure:
        print(f"\nBENCHMARK FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
