"""The collection points' sample lists and the labs' result files (DESIGN.md §8), declared
as two file kinds of the shared import framework (`epidispatch.imports`): it reads the file,
matches the headers, rejects empty and over-long cells, keeps the ledger and the error
report and runs the writer in one transaction. The kinds add the screening rules. Checks
run on polars columns, so a round of a million people validates in seconds; rows land
with COPY; importing the same file again finds every row unchanged. The round comes in the
run's options: the `ROUND` option, chosen on the upload page among the rounds the user
sees, given as `round` to the API and in front of the file on the command line
(`epidispatch import_samples ROUND FILE`).
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.core import bulk, protection
from epidispatch.core.ids import ascii_digits, check_id_numbers, mask_id_number, parse_id_number
from epidispatch.core.scoping import scope_paths
from epidispatch.imports.kinds import ROW, Column, FileKind, Option, RowProblem, register
from epidispatch.imports.reports import ImportSummary
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.imports.tables import UnreadableFile
from epidispatch.orgunits.models import PATH_SEPARATOR
from epidispatch.registry.models import Resident

from .models import (
    CAPACITIES,
    DIGEST_KEY_HEX,
    AreaPart,
    GroupMember,
    RoundArea,
    RoundTarget,
    Sample,
    ScreeningRound,
    TestingGroup,
    Tube,
)
from .permissions import keeps_group
from .rules import GROUP_KEEPER_ROLES, OFFICER_ROLES, RESULT_SPELLINGS, Prior, binding_problem
from .selectors import groups_visible_to, rounds_visible_to
from .services import (
    CHUNK,
    MAX_TEXT,
    areas_refresh,
    common_path,
    result_problem,
    results_store,
)

SAMPLE_COLUMNS = {
    "barcode": ("试管编号", "试管条码", "采样管编号", "试管号", "管码", "条码"),
    "id_number": ("身份证件号码", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "name": ("姓名", "受检者姓名", "被采样人姓名", "被检者姓名"),
    "collected": ("采样时间", "采集时间", "采样日期"),
    "point": ("采样点", "采样点名称", "采样地点"),
    "capacity": ("混采人数", "混采数", "混管人数", "混采比例"),
}
RESULT_COLUMNS = {
    "barcode": ("试管编号", "试管条码", "采样管编号", "试管号", "管码", "条码"),
    "result": ("检测结果", "结果"),
    "tested": ("检测时间", "检测日期", "报告时间"),
    "lab": ("检测机构", "检测机构名称", "实验室"),
}
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
)
#: A time this far past the import is a typing error (a lab's clock may run a little fast).
FUTURE_SLACK = timedelta(hours=1)


def _text(field: str) -> pl.Expr:
    """A field's cells as the framework hands them: trimmed text, "" when absent."""
    return pl.col(field).fill_null("").str.strip_chars()


def _parse_time(column: pl.Expr) -> pl.Expr:
    """The cells as times: the first of DATETIME_FORMATS that reads each, null if none."""
    text = ascii_digits(column).str.replace_all(r"\s+", " ")
    return text.map_batches(_parse_times, return_dtype=pl.Datetime("us")).dt.replace_time_zone(
        timezone.get_current_timezone_name()
    )


def _parse_times(text: pl.Series) -> pl.Series:
    """What coalescing every format's parse gives, but each format is tried only on the
    cells the formats before it could not read: a file written in one format (a million
    cells) is parsed once instead of once per format."""
    parsed = text.str.to_datetime(DATETIME_FORMATS[0], time_unit="us", strict=False)
    for pattern in DATETIME_FORMATS[1:]:
        missing = (parsed.is_null() & text.is_not_null()).arg_true()
        if missing.is_empty():
            break
        again = text.gather(missing).str.to_datetime(pattern, time_unit="us", strict=False)
        parsed = parsed.scatter(missing, again)
    return parsed


def _latest_time() -> pl.Expr:
    """The latest believable time in a file, in the zone the parsed times carry."""
    zone = timezone.get_current_timezone_name()
    return pl.lit(timezone.now() + FUTURE_SLACK).dt.convert_time_zone(zone)


def _first_problem(cases: list[tuple[pl.Expr, str, object]]):
    """(problem column, problem reason) of the first case that holds, else nulls."""
    field = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    reason = pl.when(cases[0][0]).then(_lit(cases[0][2]))
    for condition, name, message in cases[1:]:
        field = field.when(condition).then(pl.lit(name))
        reason = reason.when(condition).then(_lit(message))
    return field.otherwise(None).alias("problem_field"), reason.otherwise(None).alias("problem")


def _lit(message) -> pl.Expr:
    return message if isinstance(message, pl.Expr) else pl.lit(str(message))


def _reject(run, frame: pl.DataFrame) -> None:
    for row in frame.iter_rows(named=True):
        run.reject(
            row[ROW],
            row["problem_field"],
            row["problem"],
            name="".join(ch for ch in row.get("name") or "" if ch.isprintable()),
            id_number=row.get("id_number") or "",
        )


def _round(run) -> ScreeningRound:
    """The round the file belongs to, from the run's options (resolved by `ROUND`)."""
    screening_round = run.options.get("round")
    if screening_round is None:
        raise UnreadableFile(_("Choose the screening round the file belongs to."))
    return screening_round


def _in_reach(path: str, roots) -> bool:
    """A round's unit lies in (or above) one of the importer's units."""
    return roots is None or any(path.startswith(r) or r.startswith(path) for r in roots)


def _round_choices(user) -> list[tuple[str, str]]:
    """The latest rounds the user may import files into, for the upload page."""
    rounds = rounds_visible_to(user)[:ROUND_CHOICES]
    return [(str(r.pk), f"{r.name} · {r.unit.name} · {r.day:%Y-%m-%d}") for r in rounds]


def _round_resolve(value: str, user) -> ScreeningRound:
    """The round a batch names; it must lie in (or above) the importer's units."""
    screening_round = (
        ScreeningRound.objects.select_related("unit").filter(pk=int(value)).first()
        if value.isascii() and value.isdigit() and len(value) < 12
        else None
    )
    if screening_round is None:
        raise UnreadableFile(_("No screening round %(round)s.") % {"round": value})
    if not _in_reach(screening_round.unit.path, scope_paths(user) if user else None):
        raise UnreadableFile(_("This screening round is outside your units."))
    return screening_round


#: How many rounds the upload page offers (the newest first).
ROUND_CHOICES = 50
ROUND = Option(
    name="round",
    label=gettext_lazy("Screening round"),
    choices=_round_choices,
    resolve=_round_resolve,
)


def _mark(frame: pl.DataFrame, condition: pl.Expr, field: str, message) -> pl.DataFrame:
    """Give the rows still valid that meet `condition` this problem."""
    hit = pl.col("problem").is_null() & condition
    return frame.with_columns(
        problem_field=pl.when(hit).then(pl.lit(field)).otherwise("problem_field"),
        problem=pl.when(hit).then(_lit(message)).otherwise("problem"),
    )


# Samples ---------------------------------------------------------------------------------


def samples_import(screening_round: ScreeningRound, path, *, by=None) -> ImportSummary:
    """Import a sample list into the round through the framework (ledger, report, one
    transaction). Raises UnreadableFile when the file cannot be read."""
    return _run(SAMPLES, screening_round, path, by)


def _run(kind: FileKind, screening_round, path, by) -> ImportSummary:
    path = Path(path)
    batch = import_batch_create(
        kind=kind.name,
        path=path,
        file_name=path.name,
        user=by,
        options={"round": str(screening_round.pk)},
    )
    return import_batch_run(batch, path)


def _samples_check(data: pl.DataFrame, run) -> pl.DataFrame:
    return _sample_rows(data, _round(run))


def _samples_write(run, rows: pl.DataFrame) -> None:
    screening_round = _round(run)
    rows = rows.with_columns(
        problem_field=pl.lit(None, dtype=pl.String), problem=pl.lit(None, dtype=pl.String)
    )
    rows = _samples_against_stored(rows, screening_round, run.summary)
    _reject(run, rows.filter(pl.col("problem").is_not_null()))
    good = rows.filter(pl.col("problem").is_null())
    _samples_store(good, screening_round, run.user)
    run.summary.stored = good.height
    run.touch([screening_round.unit.path])


def _sample_rows(data: pl.DataFrame, screening_round) -> pl.DataFrame:
    text = {field: _text(field) for field in SAMPLE_COLUMNS}
    rows = data.select(
        pl.col(ROW),
        text["barcode"].str.replace_all(r"\s", "").alias("barcode"),
        text["name"].alias("name"),
        text["id_number"].alias("id_text"),
        text["collected"].alias("collected_text"),
        _parse_time(text["collected"]).alias("collected_at"),
        text["point"].alias("point"),
        text["capacity"].alias("capacity_text"),
        ascii_digits(text["capacity"])
        .str.extract(r"^(\d+)(?:\.0+)?(?:混1|人)?$")
        .cast(pl.Int64, strict=False)
        .alias("capacity"),
    )
    rows = check_id_numbers(rows, "id_text")
    latest = _latest_time()
    field, reason = _first_problem(
        [
            (pl.col("barcode") == "", "barcode", _("This cell is empty.")),
            (
                pl.col("barcode").str.len_chars() > MAX_TEXT["barcode"],
                "barcode",
                _("A tube barcode has at most %(max)d characters.") % {"max": MAX_TEXT["barcode"]},
            ),
            (pl.col("id_problem").is_not_null(), "id_number", pl.col("id_problem")),
            (pl.col("name") == "", "name", _("This cell is empty.")),
            (pl.col("name").str.len_chars() > 60, "name", _("A name has at most 60 characters.")),
            (
                pl.col("name").str.contains(r"[\x00-\x1f\x7f]"),
                "name",
                _("The name holds control characters."),
            ),
            (pl.col("collected_text") == "", "collected", _("This cell is empty.")),
            (
                pl.col("collected_at").is_null(),
                "collected",
                _("Not a time; write it as 2022-04-01 08:30."),
            ),
            (pl.col("collected_at") > latest, "collected", _("The time is in the future.")),
            (
                (pl.col("capacity_text") != "") & ~pl.col("capacity").is_in(list(CAPACITIES)),
                "capacity",
                _("A tube holds 1, 5, 10 or 20 people."),
            ),
        ]
    )
    rows = rows.with_columns(field, reason).with_columns(
        # what the error report shows of a rejected name: never a control character
        pl.col("name").str.replace_all(r"[\x00-\x1f\x7f]", ""),
        pl.col("point").str.replace_all(r"[\x00-\x1f\x7f]", "").str.slice(0, MAX_TEXT["point"]),
        pl.col("capacity").fill_null(screening_round.pool_size),
        pl.col("capacity_text") != "",
    )
    rows = rows.rename({"capacity_text": "capacity_given"})
    valid = rows.filter(pl.col("problem").is_null())
    numbers = valid.get_column("id_number").unique()
    digests = pl.DataFrame(
        {"id_number": numbers, "digest": protection.lookup_digests(numbers.to_list())},
        schema={"id_number": pl.String, "digest": pl.String},
    )
    return rows.join(digests, on="id_number", how="left", maintain_order="left").drop(
        "id_text", "collected_text", "id_problem"
    )


def _samples_against_stored(rows: pl.DataFrame, screening_round, summary) -> pl.DataFrame:
    """Duplicates, unchanged rows, tube capacities, the once-per-round rule and full
    tubes, in that order; returns the rows left to store or reject."""
    rows = rows.sort(ROW)
    valid = pl.col("problem").is_null()
    key = ["barcode", "digest"]
    repeated = valid & pl.col(ROW).ne(pl.col(ROW).first().over(key))
    summary.duplicates = rows.filter(repeated & valid).height
    rows = rows.filter(~(repeated & valid))

    barcodes = rows.filter(valid).get_column("barcode").unique().to_list()
    tubes = _stored_tubes(screening_round, barcodes)
    rows = rows.join(tubes, on="barcode", how="left").sort(ROW)
    first_capacity = pl.col("capacity").first().over("barcode")
    rows = rows.with_columns(
        tube_capacity=pl.coalesce(pl.col("stored_capacity"), first_capacity),
    )
    stored = _stored_samples(screening_round, rows.filter(valid).get_column("digest").unique())
    same = stored.select("digest", "barcode", pl.lit(True).alias("unchanged"))
    rows = rows.join(same, on=["digest", "barcode"], how="left")
    summary.unchanged = rows.filter(valid & pl.col("unchanged").is_not_null()).height
    rows = rows.filter(~(valid & pl.col("unchanged").is_not_null())).drop("unchanged")

    rows = _mark(
        rows,
        pl.col("capacity_given") & (pl.col("capacity") != pl.col("tube_capacity")),
        "capacity",
        pl.format(_("Tube {} holds {} people."), pl.col("barcode"), pl.col("tube_capacity")),
    )
    rows = _mark(
        rows,
        pl.col("stored_result").fill_null("") != "",
        "barcode",
        pl.format(_("Tube {} already has its result."), pl.col("barcode")),
    )
    rows = _once_per_round(rows, stored).sort(ROW)
    rows = rows.with_columns(
        _slot=pl.when(pl.col("problem").is_null()).then(1).otherwise(0).cum_sum().over("barcode")
    )
    full = pl.col("stored_members").fill_null(0) + pl.col("_slot") > pl.col("tube_capacity")
    return _mark(
        rows,
        full,
        "barcode",
        pl.format(_("Tube {} is full ({} people)."), pl.col("barcode"), pl.col("tube_capacity")),
    ).drop("_slot")


def _stored_tubes(screening_round, barcodes: list[str]) -> pl.DataFrame:
    schema = {
        "barcode": pl.String,
        "tube_id": pl.Int64,
        "stored_capacity": pl.Int64,
        "stored_members": pl.Int64,
        "stored_result": pl.String,
    }
    tubes = Tube.objects.filter(round=screening_round)
    fields = ("barcode", "id", "capacity", "members", "result")
    return _by_keys(tubes, "barcode", barcodes, fields, schema)


def _stored_samples(screening_round, digests: pl.Series) -> pl.DataFrame:
    """The round's samples of these people: digest, barcode, capacity, result."""
    schema = {"digest": pl.String, "barcode": pl.String, "capacity": pl.Int64, "result": pl.String}
    samples = Sample.objects.filter(round=screening_round).order_by("id")
    if len(digests) < bulk.KEY_TABLE_FROM:
        # a few people (one query): through the (round, digest_key) index, then the digests
        keys = digests.str.slice(0, DIGEST_KEY_HEX).str.to_integer(base=16).unique()
        samples = samples.filter(digest_key__in=keys.to_list())
    fields = ("id_number_digest", "tube__barcode", "tube__capacity", "tube__result")
    return _by_keys(samples, "id_number_digest", digests, fields, schema)


def _by_keys(queryset, key: str, values, fields: tuple, schema) -> pl.DataFrame:
    """`fields` of the rows of `queryset` whose `key` is one of `values`. On PostgreSQL a
    long list is either answered from the whole queryset copied out and filtered here
    (when the queryset is no bigger than the list: a new round's first file, where it is
    empty), or through a temporary key table (one query, no giant IN list). `values`: a
    list or a polars Series (a million digests stay out of Python objects)."""
    values = pl.Series(values) if isinstance(values, list) else values
    if connection.vendor == "postgresql" and len(values) >= bulk.KEY_TABLE_FROM:
        if queryset.count() <= len(values):
            found = copy_out(queryset, fields, schema)
            return found.filter(pl.col(next(iter(schema))).is_in(values.implode()))
        with bulk.key_table(values, "text") as keys:
            condition = RawSQL(f"SELECT key FROM {keys}", [])
            return copy_out(queryset.filter(**{f"{key}__in": condition}), fields, schema)
    rows = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK].to_list()
        rows.extend(queryset.filter(**{f"{key}__in": chunk}).values_list(*fields))
    return pl.DataFrame(rows, schema=schema, orient="row")


def copy_out(queryset, fields: tuple, schema) -> pl.DataFrame:
    """`fields` (integers and text) of every row of `queryset`, as a frame: on PostgreSQL
    with `COPY (SELECT …) TO STDOUT`, straight into polars without a Python object per
    row (a round's million target rows in a fraction of a second)."""
    values = queryset.order_by().values_list(*fields)
    if connection.vendor != "postgresql":
        return pl.DataFrame(list(values), schema=schema, orient="row")
    sql, params = values.query.sql_with_params()
    output = io.BytesIO()
    statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            output.write(block)
    if not output.getbuffer().nbytes:
        return pl.DataFrame(schema=schema)
    output.seek(0)
    return pl.read_csv(output, has_header=False, schema=schema)


def _once_per_round(rows: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """A person goes into one tube per round, except a single retest tube after a positive
    pool (rules.binding_problem). Only people already sampled, or in several tubes of the
    file, need the rule; everyone else passes without a Python loop."""
    valid = rows.filter(pl.col("problem").is_null())
    before = stored.get_column("digest").unique()
    several = (
        valid.group_by("digest")
        .len()
        .filter((pl.col("len") > 1) | pl.col("digest").is_in(before.implode()))
        .get_column("digest")
    )
    if several.is_empty():
        return rows
    priors: dict[str, list[Prior]] = {}
    for digest, barcode, capacity, result in stored.iter_rows():
        priors.setdefault(digest, []).append(Prior(barcode, capacity, result or ""))
    problems: dict[int, str] = {}
    checked = valid.filter(pl.col("digest").is_in(several.implode())).sort(ROW)
    for row in checked.iter_rows(named=True):
        person = priors.setdefault(row["digest"], [])
        problem = binding_problem(
            barcode=row["barcode"], capacity=row["tube_capacity"], priors=person
        )
        if problem:
            problems[row[ROW]] = problem
        else:
            person.append(Prior(row["barcode"], row["tube_capacity"], ""))
    if not problems:
        return rows
    lookup = pl.DataFrame(
        {ROW: list(problems), "_once": list(problems.values())},
        schema={ROW: pl.Int64, "_once": pl.String},
    )
    rows = rows.join(lookup, on=ROW, how="left")
    return _mark(rows, pl.col("_once").is_not_null(), "id_number", pl.col("_once")).drop("_once")


def _samples_store(rows: pl.DataFrame, screening_round, by) -> None:
    if rows.is_empty():
        return
    rows = _with_residents(rows, screening_round)
    tube_ids, new_paths = _tubes_store(rows, screening_round)
    rows = rows.join(tube_ids, on="barcode", how="left")
    samples = rows.select(
        pl.lit(screening_round.pk, dtype=pl.Int64).alias("round_id"),
        pl.col("_tube_id").alias("tube_id"),
        pl.lit(screening_round.county_code).alias("county_code"),
        "resident_id",
        "name",
        pl.col("digest").alias("id_number_digest"),
        pl.col("digest").str.slice(0, DIGEST_KEY_HEX).str.to_integer(base=16).alias("digest_key"),
        # mask_id_number of an 18-character number (every valid one), vectorised
        (
            pl.col("id_number").str.slice(0, 6) + "*" * 10 + pl.col("id_number").str.slice(16, 2)
        ).alias("id_number_masked"),
        pl.col("target_grid_path").fill_null(""),
        "collected_at",
        pl.lit(by.pk if by else None, dtype=pl.Int64).alias("collected_by_id"),
    )
    sampled = rows.filter(pl.col("target_grid_path").is_not_null())
    moved_grids, locked = _mark_sampled(
        screening_round, sampled.get_column("resident_id").unique().to_list()
    )
    # The COPY need not lock what is kept already: the tubes this file opened (inserted by
    # this transaction) and the residents whose target rows `_mark_sampled` locked.
    opened = rows.filter(pl.col("tube_id").is_null()).get_column("_tube_id")
    bulk.insert_frame(Sample, samples, held={"tube_id": opened, "resident_id": locked})
    areas_refresh(
        screening_round,
        grid_paths=moved_grids,
        tube_paths=new_paths | _common_paths_refresh(rows),
    )
    if connection.vendor == "postgresql" and rows.height >= bulk.KEY_TABLE_FROM:
        _analyze()


def _analyze() -> None:
    """The planner must know a big file's tubes and samples are there, or the lab file
    that follows joins them as if the tables were empty (nested loops over each)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Tube._meta.db_table}, {Sample._meta.db_table}")


def _common_paths_refresh(rows: pl.DataFrame) -> set[str]:
    """Recompute `common_path` of the stored tubes the rows added people to (new tubes got
    theirs from the file); returns the paths before and after, for `areas_refresh`."""
    touched = rows.filter(pl.col("tube_id").is_not_null()).get_column("tube_id").unique().to_list()
    members: dict[int, list[str]] = {}
    for start in range(0, len(touched), CHUNK * 5):
        chunk = touched[start : start + CHUNK * 5]
        for tube_id, path in (
            Sample.objects.filter(tube_id__in=chunk)
            .exclude(target_grid_path="")
            .values_list("tube_id", "target_grid_path")
        ):
            members.setdefault(tube_id, []).append(path)
    stored = rows.filter(pl.col("tube_id").is_not_null()).get_column("tube_id").unique()
    before = set(Tube.objects.filter(pk__in=stored.to_list()).values_list("common_path", flat=True))
    paths = {tube_id: common_path(found) for tube_id, found in members.items()}
    by_path: dict[str, list[int]] = {}
    for tube_id, path in paths.items():
        by_path.setdefault(path, []).append(tube_id)
    for path, ids in by_path.items():
        for start in range(0, len(ids), CHUNK * 5):
            Tube.objects.filter(pk__in=ids[start : start + CHUNK * 5]).update(common_path=path)
    return before | set(by_path)


def _with_residents(rows: pl.DataFrame, screening_round) -> pl.DataFrame:
    """`resident_id` (null for a traveller) and `target_grid_path` (null off the target
    list) of each row: the target list is read with its people's digests (copied out
    whole for a file the size of the round, else through a key table), and only the
    digests it lacks are looked up in the registry."""
    digests = rows.get_column("digest").unique()
    targets = _by_keys(
        RoundTarget.objects.filter(round=screening_round),
        "resident__id_number_digest",
        digests,
        ("resident__id_number_digest", "resident_id", "grid_path"),
        {"digest": pl.String, "resident_id": pl.Int64, "target_grid_path": pl.String},
    )
    rows = rows.join(targets, on="digest", how="left")
    others = rows.filter(pl.col("resident_id").is_null()).get_column("digest").unique()
    if others.is_empty():
        return rows
    residents = bulk.select_in(
        Resident,
        "id_number_digest",
        others.to_list(),
        {"id_number_digest": pl.String, "id": pl.Int64},
    ).rename({"id_number_digest": "digest", "id": "_resident_id"})
    return (
        rows.join(residents, on="digest", how="left")
        .with_columns(resident_id=pl.coalesce("resident_id", "_resident_id"))
        .drop("_resident_id")
    )


def _tubes_store(rows: pl.DataFrame, screening_round) -> tuple[pl.DataFrame, set[str]]:
    """Open the new tubes, add the new members to the stored ones; returns (barcode,
    _tube_id) of every tube of the rows and the common paths of the new tubes."""
    per_tube = rows.group_by("barcode").agg(
        pl.len().alias("added"),
        pl.col("tube_capacity").first().alias("capacity"),
        pl.col("stored_members").first(),
        pl.col("tube_id").first(),
        pl.col("point").sort_by(ROW).first(),
        pl.col("collected_at").min().alias("first_at"),
        pl.col("collected_at").max().alias("last_at"),
        pl.col("target_grid_path").drop_nulls().unique().alias("paths"),
    )
    new = _with_common_paths(per_tube.filter(pl.col("tube_id").is_null()))
    full = pl.col("added") >= pl.col("capacity")
    bulk.insert_frame(
        Tube,
        new.select(
            pl.lit(screening_round.pk, dtype=pl.Int64).alias("round_id"),
            pl.lit(screening_round.county_code).alias("county_code"),
            "barcode",
            "capacity",
            pl.col("added").alias("members"),
            "point",
            pl.col("first_at").alias("collected_at"),
            pl.when(full).then(pl.col("last_at")).alias("closed_at"),
            "common_path",
        ),
    )
    for row in per_tube.filter(pl.col("tube_id").is_not_null()).iter_rows(named=True):
        tube = Tube.objects.get(pk=row["tube_id"])
        tube.members += row["added"]
        tube.collected_at = min(filter(None, [tube.collected_at, row["first_at"]]))
        if tube.members >= tube.capacity and tube.closed_at is None:
            tube.closed_at = row["last_at"]
        tube.save(update_fields=["members", "collected_at", "closed_at"])
    barcodes = per_tube.get_column("barcode").to_list()
    ids = _stored_tubes(screening_round, barcodes).select(
        "barcode", pl.col("tube_id").alias("_tube_id")
    )
    return ids, set(new.get_column("common_path").unique().to_list())


def _with_common_paths(tubes: pl.DataFrame) -> pl.DataFrame:
    """`common_path` of each tube from the distinct target `paths` of its people: a tube
    of one grid (most) is its grid, one of none is "", only the others go through
    `common_path` one by one."""
    count = pl.col("paths").list.len()
    tubes = tubes.with_columns(pl.col("paths").list.filter(pl.element() != "")).with_columns(
        common_path=pl.when(count == 0)
        .then(pl.lit(""))
        .when(count == 1)
        .then(pl.col("paths").list.first().str.strip_chars_end(PATH_SEPARATOR) + PATH_SEPARATOR)
    )
    several = tubes.filter(count > 1)
    if several.is_empty():
        return tubes
    return pl.concat(
        [
            tubes.filter(count <= 1),
            several.with_columns(
                common_path=pl.col("paths").map_elements(common_path, return_dtype=pl.String)
            ),
        ]
    )


def _mark_sampled(screening_round, resident_ids: list[int]) -> tuple[list[str], pl.Series]:
    """Mark these target people sampled; returns (grids to refresh, residents kept).

    On PostgreSQL the same statement adds the people it moved (not sampled before) to
    their grid's figures (RoundArea), so nothing is recounted and no grid is left to
    refresh. Every one of the people's target rows ends locked (updated, or FOR KEY SHARE
    when sampled before), which keeps their residents from being deleted or re-keyed until
    the commit; when all were found, their ids come back for the COPY of the samples to
    skip locking them again (`bulk.references_lock`). Elsewhere nothing is held."""
    nothing = pl.Series("resident_id", [], dtype=pl.Int64)
    if not resident_ids:
        return [], nothing
    if connection.vendor == "postgresql":
        target = connection.ops.quote_name(RoundTarget._meta.db_table)
        area = connection.ops.quote_name(RoundArea._meta.db_table)
        with bulk.key_table(resident_ids) as keys, connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {target} t JOIN {keys} k "
                "ON t.resident_id = k.key WHERE t.round_id = %s AND t.sampled "
                "FOR KEY SHARE OF t) AS before",
                [screening_round.pk],
            )
            found = cursor.fetchone()[0]
            cursor.execute(
                f"WITH moved AS (UPDATE {target} t SET sampled = TRUE FROM {keys} k "
                "WHERE t.round_id = %s AND t.resident_id = k.key AND NOT t.sampled "
                "RETURNING t.grid_path), "
                "per_grid AS (SELECT grid_path, count(*) AS n FROM moved GROUP BY grid_path), "
                f"added AS (UPDATE {area} a SET sampled = a.sampled + m.n FROM per_grid m "
                "WHERE a.round_id = %s AND a.part = %s AND a.path = m.grid_path) "
                "SELECT coalesce(sum(n), 0) FROM per_grid",
                [screening_round.pk, screening_round.pk, AreaPart.PEOPLE],
            )
            found += cursor.fetchone()[0]
        if found != len(resident_ids):
            return [], nothing
        return [], pl.Series("resident_id", resident_ids, dtype=pl.Int64)
    grids = set()
    for start in range(0, len(resident_ids), CHUNK):
        chunk = RoundTarget.objects.filter(
            round=screening_round, resident_id__in=resident_ids[start : start + CHUNK]
        )
        grids.update(chunk.values_list("grid_path", flat=True))
        chunk.update(sampled=True)
    return sorted(grids), nothing


# Results ---------------------------------------------------------------------------------


def results_import(screening_round: ScreeningRound, path, *, by=None) -> ImportSummary:
    """Import a lab's result file into the round through the framework."""
    return _run(RESULTS, screening_round, path, by)


def _results_check(data: pl.DataFrame, run) -> pl.DataFrame:
    _round(run)
    text = {field: _text(field) for field in RESULT_COLUMNS}
    rows = data.select(
        pl.col(ROW),
        text["barcode"].str.replace_all(r"\s", "").alias("barcode"),
        text["result"].alias("result_text"),
        text["result"]
        .str.replace_all(r"\s", "")
        .str.to_lowercase()
        .replace_strict(
            {k: str(v) for k, v in RESULT_SPELLINGS.items()}, default=None, return_dtype=pl.String
        )
        .alias("result"),
        _parse_time(text["tested"]).alias("tested_at"),
        text["lab"].str.replace_all(r"[\x00-\x1f\x7f]", "").alias("lab"),
    )
    latest = _latest_time()
    field, reason = _first_problem(
        [
            (
                pl.col("result").is_null(),
                "result",
                _("Write the result as 阴性 or 阳性 (also 阴, 阳, negative, positive)."),
            ),
            (
                pl.col("tested_at").is_null(),
                "tested",
                _("Not a time; write it as 2022-04-01 18:30."),
            ),
            (pl.col("tested_at") > latest, "tested", _("The time is in the future.")),
        ]
    )
    return rows.with_columns(field, reason).drop("result_text")


def _results_write(run, rows: pl.DataFrame) -> None:
    screening_round = _round(run)
    summary = run.summary
    rows = rows.sort(ROW).with_columns(
        _first_result=pl.col("result").first().over("barcode"),
        _first_row=pl.col(ROW).first().over("barcode"),
        problem_field=pl.lit(None, dtype=pl.String),
        problem=pl.lit(None, dtype=pl.String),
    )
    repeated = pl.col(ROW) != pl.col("_first_row")
    same = pl.col("result") == pl.col("_first_result")
    summary.duplicates = rows.filter(repeated & same).height
    rows = rows.filter(~(repeated & same))
    rows = _mark(
        rows,
        repeated,
        "result",
        pl.format(_("Tube {} has another result in row {}."), pl.col("barcode"), "_first_row"),
    ).drop("_first_result", "_first_row")
    tubes = _locked_tubes(
        screening_round, rows.filter(pl.col("problem").is_null()).get_column("barcode").to_list()
    )
    rows = _mark(
        rows,
        ~pl.col("barcode").is_in(list(tubes)),
        "barcode",
        pl.format(_("No tube {} in this round."), pl.col("barcode")),
    )
    changed = []
    problems: dict[int, tuple[str, str]] = {}
    for row in rows.filter(pl.col("problem").is_null()).iter_rows(named=True):
        tube = tubes[row["barcode"]]
        problem = result_problem(tube, row["result"], row["tested_at"])
        if problem:
            problems[row[ROW]] = problem
        elif tube.result == row["result"]:
            summary.unchanged += 1
        else:
            tube.result, tube.tested_at, tube.lab = row["result"], row["tested_at"], row["lab"]
            changed.append(tube)
    for row in rows.filter(pl.col("problem").is_not_null()).iter_rows(named=True):
        run.reject(row[ROW], row["problem_field"], row["problem"])
    for row, (field, reason) in problems.items():
        run.reject(row, field, reason)
    results_store(screening_round, changed, by=run.user)
    summary.stored = len(changed)
    run.touch([screening_round.unit.path])


#: What the result checks and `services.results_store` read of a tube.
LOCKED_FIELDS = (
    "id", "barcode", "capacity", "members", "result", "collected_at", "received_at",
    "closed_at", "tested_at", "lab", "common_path",
)  # fmt: skip


def _locked_tubes(screening_round, barcodes: list[str]) -> dict[str, SimpleNamespace]:
    """The round's tubes with these barcodes, locked, as plain records (a lab file of
    100,000 tubes builds no model instance: the rows come as tuples)."""
    tubes = {}
    round_tubes = Tube.objects.select_for_update().filter(round=screening_round).order_by("id")
    if connection.vendor == "postgresql" and len(barcodes) >= bulk.KEY_TABLE_FROM:
        # one statement through a key table rather than a query per 10,000 barcodes
        with bulk.key_table(barcodes, "text") as keys:
            condition = RawSQL(f"SELECT key FROM {keys}", [])
            chunks = [round_tubes.filter(barcode__in=condition).values_list(*LOCKED_FIELDS)]
            _remember(tubes, chunks)
        return tubes
    chunks = (
        round_tubes.filter(barcode__in=barcodes[start : start + CHUNK]).values_list(*LOCKED_FIELDS)
        for start in range(0, len(barcodes), CHUNK)
    )
    _remember(tubes, chunks)
    return tubes


def _remember(tubes: dict, chunks) -> None:
    for chunk in chunks:
        for values in chunk:
            tube = SimpleNamespace(**dict(zip(LOCKED_FIELDS, values, strict=True)))
            tube.pk = tube.id
            tubes[tube.barcode] = tube


SAMPLES = register(
    FileKind(
        name="screening_samples",
        label=gettext_lazy("Screening samples"),
        description=gettext_lazy("A collection point's list: which person went into which tube."),
        columns=(
            Column("barcode", SAMPLE_COLUMNS["barcode"], required=True, max_length=40,
                   example="T20220402001"),
            Column("id_number", SAMPLE_COLUMNS["id_number"], required=True, max_length=40,
                   example="622424199001010019"),
            Column("name", SAMPLE_COLUMNS["name"], required=True, max_length=60, example="张三"),
            Column("collected", SAMPLE_COLUMNS["collected"], required=True, max_length=40,
                   example="2022-04-02 08:30"),
            Column("point", SAMPLE_COLUMNS["point"], max_length=100, example="北关社区采样点"),
            Column("capacity", SAMPLE_COLUMNS["capacity"], max_length=10, example="10"),
        ),
        check_frame=_samples_check,
        write=_samples_write,
        roles=OFFICER_ROLES,
        options=(ROUND,),
    )
)  # fmt: skip
RESULTS = register(
    FileKind(
        name="screening_results",
        label=gettext_lazy("Screening results"),
        description=gettext_lazy("A lab's results: one row per tube."),
        columns=(
            Column("barcode", RESULT_COLUMNS["barcode"], required=True, max_length=40,
                   example="T20220402001"),
            Column("result", RESULT_COLUMNS["result"], required=True, max_length=20,
                   example="阴性"),
            Column("tested", RESULT_COLUMNS["tested"], required=True, max_length=40,
                   example="2022-04-02 14:00"),
            Column("lab", RESULT_COLUMNS["lab"], max_length=100, example="定西市疾控中心"),
        ),
        check_frame=_results_check,
        write=_results_write,
        roles=OFFICER_ROLES,
        options=(ROUND,),
    )
)  # fmt: skip


# Key group members ------------------------------------------------------------------------

MEMBER_COLUMNS = {
    "id_number": SAMPLE_COLUMNS["id_number"],
    "name": ("姓名", "员工姓名", "人员姓名"),
    "employer": ("工作单位", "单位名称", "所在单位", "用人单位"),
    "joined": ("纳入日期", "加入日期", "入职日期"),
}
DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")


def _group_choices(user) -> list[tuple[str, str]]:
    """The key groups whose members the user keeps, for the upload page."""
    groups = groups_visible_to(user).order_by("unit__code", "name")
    return [
        (str(g.pk), f"{g.name} · {g.unit.name}")
        for g in groups[:GROUP_CHOICES]
        if keeps_group(user, g)
    ]


def _group_resolve(value: str, user) -> TestingGroup:
    group = (
        TestingGroup.objects.select_related("unit").filter(pk=int(value)).first()
        if value.isascii() and value.isdigit() and len(value) < 12
        else None
    )
    if group is None or (user is not None and not keeps_group(user, group)):
        raise UnreadableFile(_("No key group %(group)s whose members you keep.") % {"group": value})
    return group


GROUP_CHOICES = 200
GROUP = Option(
    name="group",
    label=gettext_lazy("Key group"),
    choices=_group_choices,
    resolve=_group_resolve,
)


def _parse_day(text: str) -> date | None:
    """A date as lists write it (an Excel date cell arrives as 2022-07-01 00:00:00)."""
    text = ascii_text(text).strip().split(" ")[0]
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def ascii_text(text: str) -> str:
    """Full-width digits and punctuation as ASCII (Ｆ２０２２－０４－０１ → 2022-04-01)."""
    return "".join(chr(ord(ch) - 0xFEE0) if "！" <= ch <= "～" else ch for ch in text)


@dataclass(frozen=True)
class MemberRow:
    digest: str
    masked: str
    name: str
    employer: str
    joined_on: date | None


def _member_of(values: dict[str, str], run) -> MemberRow:
    try:
        card = parse_id_number(values["id_number"])
    except ValidationError as error:
        raise RowProblem("id_number", " ".join(error.messages)) from None
    name = values["name"]
    if any(not ch.isprintable() for ch in name):
        raise RowProblem("name", _("The name holds control characters."))
    if any(not ch.isprintable() for ch in values["employer"]):
        raise RowProblem("employer", _("The employer holds control characters."))
    joined = None
    if values["joined"]:
        joined = _parse_day(values["joined"])
        if joined is None:
            raise RowProblem("joined", _("Not a date; write it as 2022-04-01."))
        if joined > timezone.localdate():
            raise RowProblem("joined", _("The date is in the future."))
    return MemberRow(
        digest=protection.lookup_digest(card.number),
        masked=mask_id_number(card.number),
        name=name,
        employer=values["employer"],
        joined_on=joined,
    )


def _members_write(run, items: list[tuple[int, MemberRow]]) -> None:
    """New members are added, people who had left come back, an employer that changed is
    updated; an active member with the same employer is unchanged. A person not in the
    county's registry, or whose name there differs, is a rejected row (never guessed)."""
    group = run.options["group"]
    summary = run.summary
    residents = {
        r.id_number_digest: r
        for r in Resident.objects.filter(
            county_code=group.county_code, id_number_digest__in={row.digest for _r, row in items}
        ).only("id", "name", "id_number_digest")
    }
    members = {m.resident_id: m for m in GroupMember.objects.filter(group=group)}
    seen: set[str] = set()
    new, changed = [], []
    today = timezone.localdate()
    for number, row in items:
        if row.digest in seen:
            summary.duplicates += 1
            continue
        seen.add(row.digest)
        resident = residents.get(row.digest)
        if resident is None:
            run.reject(number, "id_number",
                       _("ID number %(number)s is not in the registry of this county.")
                       % {"number": row.masked}, name=row.name)  # fmt: skip
            continue
        if resident.name != row.name:
            run.reject(number, "name",
                       _("The registry has another name for ID number %(number)s.")
                       % {"number": row.masked}, name=row.name)  # fmt: skip
            continue
        member = members.get(resident.pk)
        if member is None:
            new.append(GroupMember(
                group=group, resident=resident, county_code=group.county_code,
                employer=row.employer, joined_on=row.joined_on or today, added_by=run.user,
            ))  # fmt: skip
        elif member.left_on is None and member.employer == row.employer:
            summary.unchanged += 1
        else:
            if member.left_on is not None:
                member.joined_on, member.left_on = row.joined_on or today, None
            member.employer = row.employer
            changed.append(member)
    GroupMember.objects.bulk_create(new, batch_size=2000)
    GroupMember.objects.bulk_update(changed, ["employer", "joined_on", "left_on"], batch_size=500)
    summary.stored = len(new) + len(changed)
    run.touch([group.unit.path])


GROUP_MEMBERS = register(
    FileKind(
        name="screening_group_members",
        label=gettext_lazy("Key group members"),
        description=gettext_lazy(
            "The workers of a key group tested on a schedule (重点人群定期检测), one per row."
        ),
        columns=(
            Column("id_number", MEMBER_COLUMNS["id_number"], required=True, max_length=40,
                   example="622424199001010019"),
            Column("name", MEMBER_COLUMNS["name"], required=True, max_length=60, example="张三"),
            Column("employer", MEMBER_COLUMNS["employer"], max_length=100,
                   example="通渭县冷链物流有限公司"),
            Column("joined", MEMBER_COLUMNS["joined"], max_length=40, example="2022-04-01"),
        ),
        check_row=_member_of,
        write=_members_write,
        roles=GROUP_KEEPER_ROLES,
        options=(GROUP,),
    )
)  # fmt: skip
