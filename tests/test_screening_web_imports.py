"""Screening files on the generic import page and API (a declared option: the round), and
screening results passed on to control in one batch."""

from datetime import date, datetime

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from epidispatch.accounts.services import api_token_create
from epidispatch.control.models import CaseTest
from epidispatch.control.signals import test_results_reported
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.screening.imports import RESULTS as RESULT_KIND
from epidispatch.screening.imports import SAMPLES as SAMPLE_KIND
from epidispatch.screening.imports import results_import, samples_import
from epidispatch.screening.models import Sample
from epidispatch.screening.selectors import round_coverage
from epidispatch.screening.services import round_create

from .control_fixtures import policies, register
from .dose_files import write_table
from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import (
    FIGURES,
    RESULT_HEADERS,
    SAMPLE_HEADERS,
    person,
    result_rows,
    sample_rows,
)

pytestmark = pytest.mark.django_db
__all__ = ["policies"]


@pytest.fixture
def immediate_tasks():
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def _upload(client, path, kind, **options):
    with path.open("rb") as handle:
        return client.post(
            "/imports/",
            {"kind": kind, "file": handle, **{f"option_{k}": v for k, v in options.items()}},
        )


def _bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="lab script")
    return {"Authorization": f"Bearer {token}"}


def test_a_sample_list_uploaded_on_the_import_page_goes_into_the_chosen_round(
    county_round, tree, officer, client, tmp_path, immediate_tasks
):
    path = write_table(tmp_path / "samples", SAMPLE_HEADERS, sample_rows(), "xlsx")
    client.force_login(officer)
    page = client.get("/imports/").content.decode()
    assert f'<option value="{county_round.pk}">' in page
    assert 'data-option-for="screening_samples screening_results"' in page
    assert _upload(client, path, SAMPLE_KIND.name, round=county_round.pk).status_code == 302
    batch = ImportBatch.objects.get(kind=SAMPLE_KIND.name)
    assert batch.state == ImportState.DONE and batch.stored == 19
    assert batch.options == {"round": str(county_round.pk)}
    assert Sample.objects.filter(round=county_round).count() == 19
    results = write_table(
        tmp_path / "results", RESULT_HEADERS, result_rows({"A0001": "阴性"}), "utf-8"
    )
    assert _upload(client, results, RESULT_KIND.name, round=county_round.pk).status_code == 302
    assert ImportBatch.objects.get(kind=RESULT_KIND.name).stored == 1
    assert round_coverage(county_round, tree.county)["tubes_reported"] == 1


def test_the_upload_without_a_round_or_with_a_round_of_another_county_is_refused(
    county_round, tree, officer, far_officer, client, tmp_path, immediate_tasks
):
    far_round = round_create(
        unit=tree.other_county, name="陇西第1轮", day=date(2022, 4, 2), by=far_officer
    )
    path = write_table(tmp_path / "samples", SAMPLE_HEADERS, sample_rows(), "utf-8")
    client.force_login(officer)
    assert f'<option value="{far_round.pk}">' not in client.get("/imports/").content.decode()
    for options in ({}, {"round": far_round.pk}, {"round": "1<script>"}):
        response = _upload(client, path, SAMPLE_KIND.name, **options)
        assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    assert not ImportBatch.objects.exists() and not Sample.objects.exists()


def test_the_api_takes_the_round_as_a_form_field(
    county_round, tree, officer, far_officer, client, tmp_path, immediate_tasks
):
    far_round = round_create(
        unit=tree.other_county, name="陇西第1轮", day=date(2022, 4, 2), by=far_officer
    )
    path = write_table(tmp_path / "samples", SAMPLE_HEADERS, sample_rows(), "utf-8")
    url = f"/api/v1/imports/{SAMPLE_KIND.name}"
    for refused in ({}, {"round": str(far_round.pk)}):
        with path.open("rb") as handle:
            answer = client.post(url, {"file": handle, **refused}, headers=_bearer(officer))
        assert answer.status_code == 422
    with path.open("rb") as handle:
        answer = client.post(
            url, {"file": handle, "round": str(county_round.pk)}, headers=_bearer(officer)
        )
    assert answer.status_code == 202 and answer.json()["options"] == {"round": str(county_round.pk)}
    assert round_coverage(county_round, tree.county)["sampled"] == FIGURES["county"]["sampled"]


def test_the_command_line_keeps_the_round_on_the_batch(county_round, tmp_path):
    path = write_table(tmp_path / "samples", SAMPLE_HEADERS, sample_rows(), "utf-8")
    samples_import(county_round, path)
    assert ImportBatch.objects.get().options == {"round": str(county_round.pk)}


# Results to control ---------------------------------------------------------------------

#: Under 第九版 a close contact exposed on 07-01 is in centralized isolation 07-02 … 07-08.
REFERENCE = date(2022, 7, 1)
DAY = date(2022, 7, 3)


def _at(hour: int) -> str:
    return f"{DAY:%Y-%m-%d} {hour:02d}:00"


@pytest.fixture
def july_round(tree, population, officer):
    start = datetime(DAY.year, DAY.month, DAY.day, 7, tzinfo=timezone.get_current_timezone())
    return round_create(unit=tree.county, name="7月3日", day=DAY, by=officer, starts_at=start)


def test_a_positive_result_of_a_key_person_under_control_shows_in_their_control_record(
    tree, july_round, policies, tmp_path
):
    """Person 1 (a single tube, positive) and person 2 (a negative pool) are under
    control; person 3 is in a positive pool, which is nobody's result until the retest;
    person 4 is under control but not sampled."""
    cases = {n: register(sequence=n, grid=tree.grid, reference=REFERENCE) for n in (1, 2, 3, 4)}
    rows = [
        ["S1", person(1), "居民01", _at(8), "北关", "1"],
        ["N1", person(2), "居民02", _at(8), "北关", "5"],
        ["N1", person(5), "居民05", _at(8), "北关", "5"],
        ["P1", person(3), "居民03", _at(8), "北关", "5"],
        ["P1", person(6), "居民06", _at(8), "北关", "5"],
    ]
    samples_import(july_round, write_table(tmp_path / "s", SAMPLE_HEADERS, rows, "utf-8"))
    sent = []

    def count(sender, **kwargs):
        sent.append(kwargs["results"].count())

    test_results_reported.connect(count, weak=False, dispatch_uid="test-count")
    try:
        results = result_rows({"S1": "阳性", "N1": "阴性", "P1": "阳性"}, _at(14))
        summary = results_import(
            july_round, write_table(tmp_path / "r", RESULT_HEADERS, results, "utf-8")
        )
    finally:
        test_results_reported.disconnect(dispatch_uid="test-count")
    assert summary.stored == 3
    assert sent == [3]  # one batch: S1's person, N1's two members; P1 is nobody's yet
    tests = {t.case_id: (t.day, t.result, t.source) for t in CaseTest.objects.all()}
    assert tests == {
        cases[1].pk: (DAY, "positive", "screening"),
        cases[2].pk: (DAY, "negative", "screening"),
    }
    retest = [["R3", person(3), "居民03", _at(15), "北关", "1"]]
    samples_import(july_round, write_table(tmp_path / "s2", SAMPLE_HEADERS, retest, "utf-8"))
    results_import(
        july_round,
        write_table(tmp_path / "r2", RESULT_HEADERS, result_rows({"R3": "阴性"}, _at(18)), "utf-8"),
    )
    assert CaseTest.objects.get(case=cases[3]).result == "negative"
    assert not CaseTest.objects.filter(case=cases[4]).exists()
    # The same file again stores nothing new, here or in control.
    results_import(july_round, write_table(tmp_path / "r3", RESULT_HEADERS, results, "utf-8"))
    assert CaseTest.objects.count() == 3


# The bulk paths of a big file, tried on the small fixture ----------------------------------


def test_the_bulk_paths_of_a_big_file_give_the_hand_computed_figures(
    county_round, tree, tmp_path, monkeypatch
):
    """From KEY_TABLE_FROM keys on, stored tubes and samples are read by copying the
    round's rows out (a first file) or through a key table (a later one), and the people
    moved are added to their grid's figures in the marking statement: with the threshold
    at 1 the fixture's files take those paths, and the figures stay the hand-counted
    ones, equal to a recount."""
    from epidispatch.core import bulk
    from epidispatch.screening.selectors import round_coverage_recount

    from .screening_fixtures import RESULTS, RETESTS, retest_rows

    monkeypatch.setattr(bulk, "KEY_TABLE_FROM", 1)
    samples_import(
        county_round, write_table(tmp_path / "s", SAMPLE_HEADERS, sample_rows(), "utf-8")
    )
    results_import(
        county_round, write_table(tmp_path / "r", RESULT_HEADERS, result_rows(RESULTS), "utf-8")
    )
    again = samples_import(
        county_round, write_table(tmp_path / "s", SAMPLE_HEADERS, sample_rows(), "utf-8")
    )
    assert (again.stored, again.unchanged) == (0, 19)
    retests = samples_import(
        county_round, write_table(tmp_path / "t", SAMPLE_HEADERS, retest_rows(), "utf-8")
    )
    assert retests.stored == 3
    done = {barcode: result for barcode, (_p, result) in RETESTS.items() if result}
    results_import(
        county_round,
        write_table(tmp_path / "u", RESULT_HEADERS, result_rows(done, "2022-04-02 18:00"), "utf-8"),
    )
    for area, expected in FIGURES.items():
        unit = getattr(tree, area)
        assert round_coverage(county_round, unit) == expected, area
        assert round_coverage_recount(county_round, unit) == expected, area
