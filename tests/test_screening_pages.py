"""The screening pages and API: figures for the user's area, the chain's forms, and every
read refused outside the user's units (404), every act refused to the wrong role (403)."""

import io

import openpyxl
import pytest

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.registry.services import resident_create
from epidispatch.screening.models import MissedSample, Sample, ScreeningRound, Tube
from epidispatch.screening.services import sample_collect, tube_result_record

from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import DAY, FIGURES, at, person, sample_the_fixture

pytestmark = pytest.mark.django_db


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='t')[1]}"}


def _figure(page: str, name: str) -> int:
    marker = f'data-figure="{name}"'
    start = page.index('class="value">', page.index(marker)) + len('class="value">')
    return int(page[start : page.index("<", start)])


def test_an_officer_opens_a_round_on_the_page(client, officer, tree, population):
    client.force_login(officer)
    response = client.post(
        "/screening/",
        {"unit": tree.town.code, "name": "平襄镇第1轮", "day": DAY.isoformat(), "pool_size": "10"},
    )
    created = ScreeningRound.objects.get()
    assert response.status_code == 302 and response.url == f"/screening/rounds/{created.pk}/"
    assert (created.unit, created.target_size) == (tree.town, 17)


def test_a_grid_worker_cannot_open_a_round(client, worker, tree):
    client.force_login(worker)
    assert client.post("/screening/", {"unit": tree.grid.code, "name": "x"}).status_code == 403


def test_the_dashboard_shows_the_figures_of_the_users_area(
    client, officer, worker, tree, county_round
):
    sample_the_fixture(county_round, officer)
    client.force_login(officer)
    page = client.get(f"/screening/rounds/{county_round.pk}/").content.decode()
    assert {name: _figure(page, name) for name in FIGURES["county"]} == FIGURES["county"]
    page = client.get(
        f"/screening/rounds/{county_round.pk}/?unit={tree.town.code}"
    ).content.decode()
    assert _figure(page, "target") == FIGURES["town"]["target"]
    client.force_login(worker)
    page = client.get(f"/screening/rounds/{county_round.pk}/").content.decode()
    assert (_figure(page, "target"), _figure(page, "retest_pending")) == (12, 8)


@pytest.mark.parametrize(
    "url",
    [
        "/screening/rounds/{round}/",
        "/screening/rounds/{round}/units/{grid}/not-sampled/",
        "/screening/rounds/{round}/units/{grid}/not-sampled/?format=xlsx",
        "/screening/rounds/{round}/units/{grid}/retests/",
        "/api/v1/screening/rounds/{round}/coverage",
        "/api/v1/screening/rounds/{round}/retests",
        "/api/v1/screening/rounds/{round}/not-sampled",
    ],
)
def test_another_countys_officer_is_refused_every_read(
    client, far_officer, tree, county_round, url
):
    url = url.format(round=county_round.pk, grid=tree.grid.code)
    if url.startswith("/api/"):
        assert client.get(url, headers=_bearer(far_officer)).status_code == 404
    client.force_login(far_officer)
    assert client.get(url).status_code == 404
    assert county_round.name not in client.get("/screening/").content.decode()
    assert client.get("/api/v1/screening/rounds", headers=_bearer(far_officer)).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "/screening/rounds/{round}/?unit={other}",
        "/screening/rounds/{round}/units/{other}/not-sampled/",
        "/screening/rounds/{round}/units/{other}/not-sampled/?format=xlsx",
        "/screening/rounds/{round}/units/{town}/not-sampled/?format=xlsx",
        "/screening/rounds/{round}/units/{other}/retests/",
        "/screening/rounds/{round}/units/{town}/retests/",
        "/api/v1/screening/rounds/{round}/coverage?unit={other}",
        "/api/v1/screening/rounds/{round}/retests?unit={other}",
        "/api/v1/screening/rounds/{round}/not-sampled?unit={town}",
    ],
)
def test_a_grid_worker_is_refused_another_grids_people(client, worker, tree, county_round, url):
    url = url.format(round=county_round.pk, other=tree.sibling_grid.code, town=tree.town.code)
    client.force_login(worker)
    assert client.get(url).status_code == 404


def test_a_grid_worker_may_not_run_the_chain(client, worker, county_round):
    client.force_login(worker)
    assert client.get(f"/screening/rounds/{county_round.pk}/tubes/").status_code == 403


def test_a_collector_fills_a_tube_on_the_collect_page(client, collector, county_round):
    client.force_login(collector)
    url = f"/screening/rounds/{county_round.pk}/collect/"
    for sequence in range(1, 11):
        response = client.post(
            url, {"barcode": "P0001", "capacity": "10", "id_number": person(sequence)}
        )
        assert response.status_code == 302
    assert response.url == f"{url}?saved=1"  # full: the next scan starts a new tube
    tube = Tube.objects.get(barcode="P0001")
    assert (tube.members, tube.closed_at is not None) == (10, True)
    page = client.post(url, {"barcode": "P0001", "capacity": "10", "id_number": person(11)})
    assert "P0001" in page.content.decode() and Sample.objects.count() == 10


@pytest.mark.parametrize(
    "data",
    [
        {"barcode": "A B", "capacity": "10", "id_number": "x"},
        {"barcode": "A" * 41, "capacity": "10", "id_number": "1" * 5000},
        {"barcode": "A1", "capacity": "3", "id_number": "622424199001010011"},
        {"barcode": "A1", "capacity": "10", "id_number": "622424199001010000"},
        {"barcode": "A1", "capacity": "10", "id_number": "622424199001010019", "name": "名" * 61},
    ],
)
def test_bad_input_on_the_collect_page_is_told_never_a_500(client, collector, county_round, data):
    client.force_login(collector)
    response = client.post(f"/screening/rounds/{county_round.pk}/collect/", data)
    assert response.status_code == 200
    assert (
        'class="message error"' in response.content.decode()
        or "errorlist" in response.content.decode()
    )
    assert not Sample.objects.exists()


def test_the_chain_forms_send_receive_and_report(client, officer, county_round):
    for sequence in range(1, 4):
        sample_collect(
            screening_round=county_round,
            barcode="T1",
            id_number=person(sequence),
            by=officer,
            at=at(8),
        )
    client.force_login(officer)
    url = f"/screening/rounds/{county_round.pk}/tubes/"
    client.post(url, {"action": "send", "send-barcodes": "T1\n", "send-courier": "王师傅"})
    client.post(url, {"action": "receive", "receive-barcodes": "T1"})
    client.post(
        url,
        {
            "action": "result",
            "result-barcode": "T1",
            "result-result": "positive",
            "result-tested_at": "2022-04-02T14:00",
            "result-lab": "定西市疾控中心",
        },
    )
    tube = Tube.objects.get()
    assert (tube.courier, tube.result, tube.result_before_receipt) == ("王师傅", "positive", False)
    assert all((tube.sent_at, tube.received_at, tube.reported_at, tube.closed_at))
    page = client.post(url, {"action": "send", "send-barcodes": "NOPE", "send-courier": "王"})
    assert "NOPE" in page.content.decode()


def test_a_worker_records_why_someone_was_not_sampled(client, worker, population, county_round):
    client.force_login(worker)
    code = population[5].grid.code
    url = f"/screening/rounds/{county_round.pk}/units/{code}/not-sampled/"
    client.post(url, {"resident": population[5].pk, "reason": "bedridden", "note": "需上门采样"})
    assert MissedSample.objects.get().reason == "bedridden"
    body = client.get(
        f"/api/v1/screening/rounds/{county_round.pk}/not-sampled", headers=_bearer(worker)
    ).json()
    assert len(body) == 12
    assert {row["reason"] for row in body} == {None, "bedridden"}


def test_the_api_answers_the_figures_and_binds_samples(client, officer, tree, county_round):
    sample_the_fixture(county_round, officer)
    url = f"/api/v1/screening/rounds/{county_round.pk}"
    assert client.get(f"{url}/coverage", headers=_bearer(officer)).json() == FIGURES["county"]
    body = client.get(f"{url}/coverage?unit={tree.other_town.code}", headers=_bearer(officer))
    assert body.json() == FIGURES["other_town"]
    response = client.post(
        f"{url}/samples",
        {"barcode": "N1", "id_number": person(12)},
        content_type="application/json",
        headers=_bearer(officer),
    )
    assert response.status_code == 201 and response.json()["members"] == 1
    response = client.post(
        f"{url}/samples",
        {"barcode": "N2", "id_number": person(12), "capacity": 7},
        content_type="application/json",
        headers=_bearer(officer),
    )
    assert response.status_code == 422


def _pool(screening_round, by, start: int, count: int, barcode: str, grid) -> None:
    for sequence in range(start, start + count):
        resident = resident_create(name=f"人{sequence}", id_number=person(sequence), grid=grid)
        sample_collect(
            screening_round=screening_round,
            barcode=barcode,
            id_number=person(sequence),
            by=by,
            capacity=20,
            at=at(8),
        )
        del resident
    tube = Tube.objects.get(barcode=barcode)
    tube_result_record(tube=tube, result="positive", tested_at=at(14), lab="疾控", by=by)


def test_the_lists_cost_the_same_queries_for_2_or_20(
    client, officer, make_user, tree, county_round, django_assert_num_queries
):
    worker = make_user(Role.GRID_WORKER, tree.sibling_grid)
    _pool(county_round, officer, 100, 2, "Q1", tree.sibling_grid)
    client.force_login(worker)
    urls = [
        f"/screening/rounds/{county_round.pk}/units/{tree.sibling_grid.code}/retests/",
        f"/screening/rounds/{county_round.pk}/units/{tree.sibling_grid.code}/not-sampled/",
        "/screening/",
    ]
    api = [
        f"/api/v1/screening/rounds/{county_round.pk}/retests",
        f"/api/v1/screening/rounds/{county_round.pk}/not-sampled",
    ]
    headers = _bearer(worker)
    counts = {}
    for url in urls:
        client.get(url)
        with django_assert_num_queries(_expected(url)) as small:
            client.get(url)
        counts[url] = len(small.captured_queries)
    for url in api:
        client.get(url, headers=headers)
        with django_assert_num_queries(_expected(url)) as small:
            client.get(url, headers=headers)
        counts[url] = len(small.captured_queries)
    _pool(county_round, officer, 200, 18, "Q2", tree.sibling_grid)
    for url in urls:
        with django_assert_num_queries(counts[url]):
            page = client.get(url).content.decode()
        if "retests" in url:
            assert page.count('class="person task"') == 20
    for url in api:
        with django_assert_num_queries(counts[url]):
            body = client.get(url, headers=headers).json()
        assert len(body) == (20 if "retests" in url else 5)


#: Queries of each list: session and user, the round and the unit, the scope, the page
#: and its count (the API: the token read with the scope instead of session and scope, no
#: count).
QUERIES = {"retests/": 8, "not-sampled/": 7, "screening/": 6, "retests": 6, "not-sampled": 6}


def _expected(url: str) -> int:
    return QUERIES[url.rstrip("/").rsplit("/", 1)[-1] + ("/" if url.endswith("/") else "")]


def test_the_not_sampled_export_lists_the_grids_people_masked(client, worker, tree, county_round):
    client.force_login(worker)
    url = f"/screening/rounds/{county_round.pk}/units/{tree.grid.code}/not-sampled/?format=xlsx"
    response = client.get(url)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 12
    assert all("*" in row[1] for row in rows)
