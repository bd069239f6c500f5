"""Importing sample lists and lab results (DESIGN.md §8): bad rows are told by row and
column and lose nothing else; the same file twice changes nothing."""

import json

import openpyxl
import pytest
from django.db import connection
from django.utils import timezone

from epidispatch.core import bulk
from epidispatch.imports.tables import UnreadableFile
from epidispatch.screening.imports import results_import, samples_import
from epidispatch.screening.models import DIGEST_KEY_HEX, RoundTarget, Sample, Tube, digest_key
from epidispatch.screening.selectors import round_coverage, round_coverage_recount
from epidispatch.screening.services import priors_of, sample_collect

from .cli import run
from .dose_files import write_table
from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import (
    FIGURES,
    RESULT_HEADERS,
    RESULTS,
    RETESTS,
    SAMPLE_HEADERS,
    person,
    result_rows,
    retest_rows,
    sample_rows,
)

pytestmark = pytest.mark.django_db

#: When the retests' results come (their tubes were collected at 15:00).
LATER = "2022-04-02 18:00"


def _samples(tmp_path, rows, file_format="utf-8-sig", name="samples"):
    return write_table(tmp_path / name, SAMPLE_HEADERS, rows, file_format)


def _results(tmp_path, rows, file_format="utf-8", name="results"):
    return write_table(tmp_path / name, RESULT_HEADERS, rows, file_format)


def _row(barcode, sequence, capacity="10", when="2022-04-02 08:00"):
    return [barcode, person(sequence), f"居民{sequence:02d}", when, "北关社区采样点", capacity]


def _errors(summary):
    return [(e.row, e.column, e.reason) for e in sorted(summary.errors, key=lambda e: e.row)]


@pytest.mark.parametrize("file_format", ["xlsx", "gb18030", "utf-8-sig"])
def test_importing_the_fixture_gives_the_hand_computed_figures(
    county_round, tree, tmp_path, file_format
):
    summary = samples_import(county_round, _samples(tmp_path, sample_rows(), file_format))
    assert summary.counts() == {
        "rows": 19, "stored": 19, "unchanged": 0, "duplicates": 0, "rejected": 0
    }  # fmt: skip
    results = {**RESULTS, "S0001": "阴性", "S0002": "阳"}
    summary = results_import(county_round, _results(tmp_path, result_rows(RESULTS), file_format))
    assert (summary.stored, summary.rejected) == (3, 0)
    summary = samples_import(county_round, _samples(tmp_path, retest_rows(), name="retests"))
    assert (summary.stored, summary.rejected) == (3, 0), _errors(summary)
    retest_results = {k: v for k, v in results.items() if k.startswith("S")}
    path = _results(tmp_path, result_rows(retest_results, LATER), name="retest-results")
    assert results_import(county_round, path).stored == 2
    for area, expected in FIGURES.items():
        unit = getattr(tree, area)
        assert round_coverage(county_round, unit) == expected, area
        assert round_coverage_recount(county_round, unit) == expected, area


def test_reimporting_the_same_files_changes_nothing(county_round, tmp_path):
    samples = _samples(tmp_path, sample_rows())
    results = _results(tmp_path, result_rows(RESULTS))
    samples_import(county_round, samples)
    results_import(county_round, results)
    before = list(Tube.objects.order_by("id").values())
    again = samples_import(county_round, samples)
    assert again.counts() == {
        "rows": 19,
        "stored": 0,
        "unchanged": 19,
        "duplicates": 0,
        "rejected": 0,
    }
    again = results_import(county_round, results)
    assert (again.stored, again.unchanged, again.rejected) == (0, 3, 0)
    assert list(Tube.objects.order_by("id").values()) == before
    assert Sample.objects.count() == 19


def test_marking_people_sampled_and_storing_results_touch_no_index(county_round, tmp_path):
    """The target list and the tubes keep half of each page free (migration 0005), so the
    flags a sample file sets and the results a lab file stores are HOT updates: the new
    row version stays in its page and no index gets an entry (counted by PostgreSQL for
    the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class "
            "WHERE relname IN ('screening_roundtarget', 'screening_tube') ORDER BY relname"
        )
        assert cursor.fetchall() == [
            ("screening_roundtarget", ["fillfactor=45"]),
            ("screening_tube", ["fillfactor=50"]),
        ]
    samples_import(county_round, _samples(tmp_path, sample_rows()))
    results_import(county_round, _results(tmp_path, result_rows(RESULTS)))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname IN ('screening_roundtarget', 'screening_tube') ORDER BY relname"
        )
        updates = {name: (total, hot) for name, total, hot in cursor.fetchall()}
    assert updates["screening_roundtarget"][0] > 0 and updates["screening_tube"][0] > 0
    assert all(total == hot for total, hot in updates.values()), updates


def test_rows_beyond_a_tubes_capacity_are_rejected(county_round, tmp_path):
    rows = [_row("T5", sequence, "5") for sequence in range(1, 8)]
    summary = samples_import(county_round, _samples(tmp_path, rows))
    assert (summary.stored, summary.rejected) == (5, 2)
    assert [(row, column) for row, column, _reason in _errors(summary)] == [
        (7, "试管编号"), (8, "试管编号")
    ]  # fmt: skip
    assert "T5" in _errors(summary)[0][2]
    tube = Tube.objects.get(barcode="T5")
    assert (tube.members, tube.closed_at is not None) == (5, True)


def test_a_person_sampled_twice_in_a_round_is_rejected_unless_it_is_a_retest(
    county_round, tmp_path
):
    rows = [_row("T1", 1), _row("T2", 1), _row("T2", 2), _row("S1", 2, "1")]
    summary = samples_import(county_round, _samples(tmp_path, rows))
    assert [(row, column) for row, column, _reason in _errors(summary)] == [
        (3, "身份证件号码"), (5, "身份证件号码")
    ]  # fmt: skip
    assert "T1" in _errors(summary)[0][2]
    assert Sample.objects.count() == 2


def test_a_mismatched_capacity_and_bad_cells_are_told_by_row_and_column(county_round, tmp_path):
    rows = [
        _row("T1", 1, "10"),
        _row("T1", 2, "5"),
        ["", person(3), "居民03", "2022-04-02 08:00", "", ""],
        ["T1", "622424199001010000", "居民04", "2022-04-02 08:00", "", ""],
        ["T1", person(5), "", "2022-04-02 08:00", "", ""],
        ["T1", person(6), "居民06", "昨天上午", "", ""],
        ["T1", person(7), "居民07", "2022-04-02 08:00", "", "3"],
        ["T1", person(8), "居民08\x00", "2099-01-01 08:00", "", ""],
    ]
    summary = samples_import(county_round, _samples(tmp_path, rows))
    assert [(row, column) for row, column, _reason in _errors(summary)] == [
        (3, "混采人数"), (4, "试管编号"), (5, "身份证件号码"), (6, "姓名"), (7, "采样时间"),
        (8, "混采人数"), (9, "姓名"),
    ]  # fmt: skip
    assert summary.stored == 1


def test_a_result_for_an_unknown_tube_and_a_conflicting_result_are_rejected(county_round, tmp_path):
    samples_import(county_round, _samples(tmp_path, [_row("T1", 1), _row("T2", 2)]))
    results_import(county_round, _results(tmp_path, [["T1", "阴性", "2022-04-02 14:00", "疾控"]]))
    rows = [
        ["T1", "阳性", "2022-04-02 15:00", "疾控"],
        ["X9", "阴性", "2022-04-02 15:00", "疾控"],
        ["T2", "可疑", "2022-04-02 15:00", "疾控"],
        ["T2", "negative", "2022-04-02 15:00", "疾控"],
        ["T2", "negative", "2022-04-02 15:00", "疾控"],
        ["T2", "positive", "2022-04-02 15:00", "疾控"],
    ]
    summary = results_import(county_round, _results(tmp_path, rows, name="second"))
    assert [(row, column) for row, column, _reason in _errors(summary)] == [
        (2, "检测结果"), (3, "试管编号"), (4, "检测结果"), (7, "检测结果")
    ]  # fmt: skip
    assert (summary.stored, summary.duplicates) == (1, 1)
    assert dict(Tube.objects.values_list("barcode", "result")) == {
        "T1": "negative",
        "T2": "negative",
    }


def test_a_file_without_a_required_column_cannot_be_read(county_round, tmp_path):
    path = write_table(tmp_path / "bad", ["试管编号", "姓名"], [["T1", "张三"]], "utf-8")
    with pytest.raises(UnreadableFile, match="身份证件号码"):
        samples_import(county_round, path)


@pytest.mark.django_db(transaction=True)
def test_the_commands_print_the_summary_and_the_figures(tree, population, tmp_path):
    result = run(
        "screening_round_create",
        tree.county.code,
        "--name",
        "第1轮",
        "--day",
        "2022-04-02",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created == {"round": created["round"], "unit": tree.county.code, "target": 21}
    round_id = str(created["round"])
    rows = [*sample_rows(), _row("A0001", 12)]
    result = run("import_samples", round_id, str(_samples(tmp_path, rows)), "--json")
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout)
    assert {k: v for k, v in imported.items() if k != "error_report"} == {
        "rows": 20, "stored": 19, "unchanged": 0, "duplicates": 0, "rejected": 1
    }  # fmt: skip
    report = openpyxl.load_workbook(imported["error_report"]).active
    assert [cell.value for cell in report[2]][:2] == [21, "试管编号"]
    result = run(
        "import_results", round_id, str(_results(tmp_path, result_rows(RESULTS))), "--json"
    )
    assert json.loads(result.stdout)["stored"] == 3
    run(
        "import_samples", round_id, str(_samples(tmp_path, retest_rows(), name="retests")), "--json"
    )
    retests = {b: r for b, (_s, r) in RETESTS.items() if r}
    run(
        "import_results",
        round_id,
        str(_results(tmp_path, result_rows(retests, LATER), name="r2")),
        "--json",
    )
    result = run("screening_coverage", round_id, "--json")
    assert json.loads(result.stdout) == FIGURES["county"]
    result = run("screening_coverage", round_id, "--unit", tree.town.code, "--json")
    assert json.loads(result.stdout) == FIGURES["town"]
    result = run("import_samples", round_id, str(tmp_path / "missing.csv"), "--json")
    assert result.returncode != 0 and result.stdout == ""


def test_times_in_every_accepted_format_in_one_file(county_round, tmp_path):
    """Each format is tried only on the cells the formats before it could not read; a file
    mixing them reads every cell as the first format that fits it."""
    written = {
        "2022-04-02 08:30:15": (8, 30, 15),
        "2022-04-02 08:31": (8, 31, 0),
        "2022/04/02 08:32:05": (8, 32, 5),
        "2022/04/02 08:33": (8, 33, 0),
        "2022年04月02日 08:34": (8, 34, 0),
        "2022年04月02日08:35": (8, 35, 0),
        "２０２２-０４-０２　08:36": (8, 36, 0),
    }
    rows = [
        _row(f"T{sequence}", sequence, "1", when) for sequence, when in enumerate(written, start=1)
    ]
    rows.append(_row("T9", 9, "1", "2022-04-31 08:00"))
    summary = samples_import(county_round, _samples(tmp_path, rows))
    assert summary.stored == len(written)
    assert [(row, column) for row, column, _reason in _errors(summary)] == [(9, "采样时间")]
    stored = Sample.objects.order_by("tube__barcode").values_list("collected_at", flat=True)
    local = [timezone.localtime(at) for at in stored]
    assert [(at.year, at.month, at.day) for at in local] == [(2022, 4, 2)] * len(written)
    assert [(at.hour, at.minute, at.second) for at in local] == list(written.values())


def test_the_digest_key_is_the_digests_first_60_bits_however_a_sample_is_written(
    county_round, tmp_path, collector
):
    """`digest_key` (the (round, digest_key) index's column) is computed by polars on
    import, by the field on an ORM save, and by migration 0006's SQL for older rows: the
    three agree."""
    samples_import(county_round, _samples(tmp_path, [_row("T1", 1), _row("T1", 2)]))
    sample_collect(screening_round=county_round, barcode="T2", id_number=person(3), by=collector)
    rows = list(Sample.objects.values_list("id_number_digest", "digest_key"))
    assert len(rows) == 3
    assert all(key == digest_key(digest) for digest, key in rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number_digest, ('x' || left(id_number_digest, {DIGEST_KEY_HEX}))"
            f"::bit({DIGEST_KEY_HEX * 4})::bigint FROM screening_sample"
        )
        assert sorted(cursor.fetchall()) == sorted(rows)
    assert all(0 <= key < 2**60 for _digest, key in rows)
    assert [p.barcode for p in priors_of(county_round, rows[0][0])] == ["T1"]


def test_the_samples_copy_leaves_the_target_peoples_residents_to_their_locked_target_rows(
    county_round, tmp_path, monkeypatch
):
    """On the set-wise path the samples' COPY does not lock again what the import keeps
    already: the residents whose target rows the marking locked (updated, or FOR KEY SHARE
    for people sampled before) and the tubes the file opened. Travellers' residents and the
    stored tubes are still locked by the COPY."""
    monkeypatch.setattr(bulk, "SETWISE_FROM", 1)
    calls = []
    original = bulk.references_lock

    def recorded(model, frame, held=None):
        calls.append((model, frame, held))
        return original(model, frame, held=held)

    monkeypatch.setattr(bulk, "references_lock", recorded)
    summary = samples_import(county_round, _samples(tmp_path, sample_rows()))
    assert summary.stored == 19
    [(_model, frame, held)] = [call for call in calls if call[0] is Sample]
    targets = set(
        RoundTarget.objects.filter(round=county_round, sampled=True).values_list(
            "resident_id", flat=True
        )
    )
    assert set(held["resident_id"].to_list()) == targets
    assert set(held["tube_id"].to_list()) == set(frame.get_column("tube_id").to_list())
    results_import(county_round, _results(tmp_path, result_rows(RESULTS)))
    calls.clear()
    summary = samples_import(county_round, _samples(tmp_path, retest_rows(), name="retests"))
    assert summary.stored == 3
    [(_model, frame, held)] = [call for call in calls if call[0] is Sample]
    # retests: people sampled before, their target rows locked FOR KEY SHARE
    retested = set(frame.get_column("resident_id").drop_nulls().to_list())
    assert retested and set(held["resident_id"].to_list()) == retested & targets
