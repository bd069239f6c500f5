"""The daily dispatch's frozen figures over the API (issue 28): the 日通报 bulletins (list by
day, their content as JSON, the .docx and .xlsx), and a unit's figures and places at the
cutoff of a past day. The bulletin reads what the page reads; those who may not read the
page's bulletin are refused, and a unit outside the caller's scope is a 404."""

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.dispatch.bulletin.docx import DOCX_TYPE
from epidispatch.dispatch.bulletin.xlsx import XLSX_TYPE

from .test_bulletins import DAY_1, DAY_2, Scenario

pytestmark = pytest.mark.django_db

URL = "/api/v1/dispatch"


@pytest.fixture
def frozen(tree, dispatcher, settings) -> Scenario:
    """test_bulletins' three towns over two cutoffs (bottom N = 1, summons after 2)."""
    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    return Scenario(tree, dispatcher)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='bulletins')[1]}"}


def test_bulletins_are_listed_by_day_for_the_countys_readers(client, frozen, dispatcher):
    headers = bearer(dispatcher)
    page = client.get(f"{URL}/bulletins", headers=headers).json()
    assert [(b["number"], b["day"]) for b in page["items"]] == [(1, str(DAY_1)), (2, str(DAY_2))]
    page = client.get(f"{URL}/bulletins", {"day": str(DAY_2)}, headers=headers).json()
    assert [b["number"] for b in page["items"]] == [2]
    first = client.get(f"{URL}/bulletins", {"limit": 1}, headers=headers).json()
    assert first["has_more"] and [b["number"] for b in first["items"]] == [1]
    rest = client.get(f"{URL}/bulletins", {"cursor": first["next_cursor"]}, headers=headers)
    assert [b["number"] for b in rest.json()["items"]] == [2]


def test_the_bulletin_content_says_what_the_page_says(client, frozen, dispatcher):
    response = client.get(f"{URL}/bulletins/2", headers=bearer(dispatcher))
    assert response.status_code == 200, response.content
    bulletin = response.json()
    assert bulletin["title"] == "通渭县新冠病毒疫苗接种工作日通报"
    assert (bulletin["number_text"], bulletin["cutoff_text"]) == ("第2期", "截至8月6日16:00")
    figures = {line["key"]: line for line in bulletin["figures"]}
    assert figures["doses"]["value"] == 7 and figures["doses_added"]["value"] == 3
    assert figures["coverage"]["value"] == 70.0 and figures["coverage"]["text"] == "70.00%"
    towns = next(
        t for t in bulletin["tables"] if (t["group"], t["measure"]) == ("towns", "coverage")
    )
    assert [(r["place"], r["name"], r["tied"]) for r in towns["rows"]] == [
        (1, "平襄镇", True),
        (1, "常河镇", True),
        (3, "鸡川镇", False),
    ]
    assert bulletin["below_target"] == ["621121102000"]
    assert [(c["name"], c["streak"]) for c in bulletin["candidates"]] == [
        ("鸡川镇", 2),
        ("县邮政公司", 2),
    ]
    assert "提请启动约谈问责" in bulletin["summary"]


def test_the_bulletin_files_download_as_on_the_page(client, frozen, dispatcher):
    headers = bearer(dispatcher)
    docx = client.get(f"{URL}/bulletins/2/docx", headers=headers)
    assert docx.status_code == 200 and docx["Content-Type"] == DOCX_TYPE
    assert "2021-08-06.docx" in docx["Content-Disposition"]
    title = Document(io.BytesIO(docx.content)).paragraphs[0].text
    assert title == "通渭县新冠病毒疫苗接种工作日通报"
    xlsx = client.get(f"{URL}/bulletins/2/xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == XLSX_TYPE
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames


def test_a_town_reads_no_bulletin_and_another_county_not_this_one(client, frozen, tree, make_user):
    town = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    assert client.get(f"{URL}/bulletins", headers=town).json()["items"] == []
    for suffix in ("", "/docx", "/xlsx"):
        response = client.get(f"{URL}/bulletins/2{suffix}", headers=town)
        assert response.status_code == 403, suffix
        assert response.json()["detail"]
    other = bearer(make_user(Role.DISPATCHER, tree.other_county))
    for suffix in ("", "/docx", "/xlsx"):
        query = {"county": tree.county.code}
        response = client.get(f"{URL}/bulletins/2{suffix}", query, headers=other)
        assert response.status_code == 404, suffix
    own = client.get(f"{URL}/bulletins/2", headers=other).json()
    assert own["county"]["code"] == tree.other_county.code and "通渭县" not in str(own)


def test_an_unknown_bulletin_is_a_404(client, frozen, dispatcher):
    assert client.get(f"{URL}/bulletins/99", headers=bearer(dispatcher)).status_code == 404


def test_a_units_figures_at_a_past_cutoff_stay_as_frozen(client, frozen, tree, make_user):
    headers = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    days = client.get(f"{URL}/snapshots", headers=headers).json()["items"]
    assert [day["day"] for day in days] == [str(DAY_1), str(DAY_2)]
    first = client.get(f"{URL}/snapshots/{DAY_1}/units/{tree.town.code}", headers=headers)
    assert first.status_code == 200, first.content
    first = first.json()
    assert (first["totals"]["doses"], first["totals"]["doses_added"]) == (2, 2)
    assert first["totals"]["target"] == 4
    second = client.get(f"{URL}/snapshots/{DAY_2}/units/{tree.town.code}", headers=headers).json()
    assert (second["totals"]["doses"], second["totals"]["doses_added"]) == (4, 2)
    assert second["totals"]["coverage"] == 1.0
    assert {(p["measure"], p["place"], p["of"]) for p in second["places"]} == {
        ("coverage", 1, 3),
        ("target", 1, 3),
    }
    assert sum(band["doses_added"] for band in second["bands"]) == 2


def test_a_units_frozen_figures_are_refused_outside_the_scope_or_without_a_cutoff(
    client, frozen, tree, make_user
):
    headers = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    other = client.get(f"{URL}/snapshots/{DAY_2}/units/{tree.other_town.code}", headers=headers)
    assert other.status_code == 404
    assert "鸡川" not in other.content.decode()
    missing = client.get(f"{URL}/snapshots/2021-08-07/units/{tree.town.code}", headers=headers)
    assert missing.status_code == 404 and missing.json()["detail"]


@pytest.mark.parametrize("extra", [0, 6])
def test_the_bulletin_reads_a_fixed_number_of_queries(
    client, tree, dispatcher, settings, django_assert_num_queries, extra
):
    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    Scenario(tree, dispatcher, extra=extra)
    headers = bearer(dispatcher)
    client.get(f"{URL}/bulletins", headers=headers)  # the token's first use is noted once
    with django_assert_num_queries(BULLETIN_QUERIES):
        assert client.get(f"{URL}/bulletins/2", headers=headers).status_code == 200
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(f"{URL}/bulletins", headers=headers).status_code == 200


BULLETIN_QUERIES = 8
LIST_QUERIES = 3


@pytest.mark.parametrize("extra", [0, 6])
def test_a_units_frozen_figures_read_a_fixed_number_of_queries(
    client, tree, dispatcher, settings, django_assert_num_queries, extra
):
    Scenario(tree, dispatcher, extra=extra)
    headers = bearer(dispatcher)
    url = f"{URL}/snapshots/{DAY_2}/units/{tree.county.code}"
    client.get(url, headers=headers)  # the token's first use is noted once
    with django_assert_num_queries(SNAPSHOT_QUERIES):
        assert client.get(url, headers=headers).status_code == 200


SNAPSHOT_QUERIES = 5
