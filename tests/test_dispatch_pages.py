"""The dispatch pages: dashboard with drill-down, rankings with accountability candidates,
the cutoff button, daily targets, and their API. Each refuses another town's data."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accountability.models import Accountability, CaseState
from epidispatch.accounts.models import Role
from epidispatch.dispatch import services
from epidispatch.dispatch.models import (
    DailyTarget,
    Snapshot,
)
from epidispatch.dispatch.services import snapshot_backfill
from epidispatch.figures.rollups import rollups_recount
from epidispatch.orgunits.models import Responsibility, UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.services import resident_create

from .dose_files import id_number
from .test_rollups import add_dose

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FIRST, SECOND = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
ADULT_BIRTH = TODAY.replace(year=TODAY.year - 40, day=1)


def adults(grid, how_many: int, vaccinated: int, on) -> list:
    """`how_many` adults of the grid, the first `vaccinated` of them with a first dose."""
    people = [
        resident_create(name=f"居民{n}", id_number=id_number(ADULT_BIRTH), grid=grid)
        for n in range(how_many)
    ]
    for person in people[:vaccinated]:
        add_dose(person, on)
    return people


@pytest.fixture
def county(tree, settings):
    """平襄镇 at 3/4 covered, 鸡川镇 at 1/4, the post office answering for 平襄镇's second grid;
    two cutoffs, so that 鸡川镇 (the bottom 1) becomes a summons candidate at the second."""
    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    rollups_recount()
    adults(tree.grid, 4, 3, FIRST)
    adults(tree.other_grid, 4, 1, FIRST)
    adults(tree.sibling_grid, 2, 1, FIRST)
    Responsibility.objects.create(unit=tree.department, grid=tree.sibling_grid)
    snapshot_backfill(day=FIRST)
    snapshot_backfill(day=SECOND)
    return tree


@pytest.fixture
def official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town)


@pytest.fixture
def other_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.other_town)


@pytest.fixture
def leader(tree, make_user):
    return make_user(Role.LEADER, tree.county)


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def figure_card(html: str, key: str) -> str:
    start = html.index(f'data-figure="{key}"')
    return html[start : html.index("</div>", start)]


def grow(tree, number: int) -> None:
    """Another town with a village, a grid and vaccinated residents, and another
    department answering for that grid."""
    town = unit_create(
        code=f"621121{103 + number:03d}000",
        name=f"新镇{number}",
        kind=UnitKind.TOWN,
        parent_code=tree.county.code,
    )
    village = unit_create(
        code=f"{town.code[:9]}001",
        name=f"新村{number}",
        kind=UnitKind.VILLAGE,
        parent_code=town.code,
    )
    grid = unit_create(
        code=f"{village.code}001",
        name=f"新网格{number}",
        kind=UnitKind.GRID,
        parent_code=village.code,
    )
    department = unit_create(
        code=f"6211219800{number + 2:02d}",
        name=f"县部门{number}",
        kind=UnitKind.DEPARTMENT,
        parent_code=tree.county.code,
    )
    Responsibility.objects.create(unit=department, grid=grid)
    adults(grid, 5, 2, FIRST)


# Dashboard.


def test_the_dashboard_opens_on_the_users_own_unit(county, dispatcher, official, client):
    client.force_login(dispatcher)
    assert client.get("/dispatch/").url == f"/dispatch/units/{county.county.code}/"
    client.force_login(official)
    assert client.get("/dispatch/").url == f"/dispatch/units/{county.town.code}/"


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.LEADER])
def test_the_county_dashboard_shows_the_headline_figures_and_every_child(
    county, make_user, client, role
):
    client.force_login(make_user(role, county.county))
    html = page_of(client.get(f"/dispatch/units/{county.county.code}/"))
    assert "50.0%" in figure_card(html, "coverage")  # 5 of 10 adults
    assert '<span class="value">10</span>' in figure_card(html, "residents")
    assert '<span class="value">5</span>' in figure_card(html, "to_clear")
    for child in (county.town, county.other_town, county.department):
        assert f'<tr data-code="{child.code}">' in html
        assert f'href="/dispatch/units/{child.code}/"' in html
    assert county.site.code not in html and county.industry_grid.code not in html
    assert 'id="dashboard-data" type="application/json"' in html
    assert "dispatch/vendor/echarts.min.js" in html
    assert "cdn" not in html.lower()


def test_the_drill_down_goes_county_town_village_grid_with_a_breadcrumb_back(
    county, leader, client
):
    client.force_login(leader)
    html = page_of(client.get(f"/dispatch/units/{county.village.code}/"))
    assert f'<tr data-code="{county.grid.code}">' in html
    assert f'<tr data-code="{county.sibling_grid.code}">' in html
    assert "75.0%" in html  # the first grid, 3 of 4
    for ancestor in (county.county, county.town):
        assert f'href="/dispatch/units/{ancestor.code}/"' in html
    grid = page_of(client.get(f"/dispatch/units/{county.grid.code}/"))
    assert "75.0%" in figure_card(grid, "coverage")
    assert f'href="/dispatch/units/{county.village.code}/"' in grid
    assert "<tr data-code=" not in grid


def test_a_town_official_sees_their_town_and_nothing_above_or_beside_it(county, official, client):
    client.force_login(official)
    html = page_of(client.get(f"/dispatch/units/{county.town.code}/"))
    assert "66.7%" in figure_card(html, "coverage")  # 4 of the town's 6 adults
    assert f'href="/dispatch/units/{county.county.code}/"' not in html
    for code in (county.county.code, county.other_town.code, county.other_grid.code):
        assert client.get(f"/dispatch/units/{code}/").status_code == 404
        assert client.get(f"/api/v1/dispatch/units/{code}/dashboard").status_code == 404


def test_the_dashboard_api_returns_the_pages_figures(county, official, client):
    client.force_login(official)
    response = client.get(f"/api/v1/dispatch/units/{county.town.code}/dashboard")
    assert response.status_code == 200
    data = response.json()
    assert data["unit"]["code"] == county.town.code
    assert [unit["code"] for unit in data["breadcrumb"]] == [county.town.code]
    assert data["totals"]["covered"] == 4
    assert [child["code"] for child in data["children"]] == [county.village.code]
    assert data["trend"][-1]["live"] is True


# Rankings.


def test_the_dispatcher_sees_every_place_with_the_bottom_highlighted(county, dispatcher, client):
    client.force_login(dispatcher)
    html = page_of(client.get("/dispatch/rankings/"))
    assert f'href="/dispatch/snapshots/{FIRST:%Y-%m-%d}/"' in html
    table = html[html.index('data-measure="coverage"') :]
    assert table.index(county.town.code) < table.index(county.other_town.code)
    assert f'<tr data-code="{county.other_town.code}" class="bottom">' in html
    assert f'<tr data-code="{county.town.code}">' in html
    assert 'id="chart-ranking-towns-coverage"' in html
    assert 'id="ranking-data" type="application/json"' in html
    assert "/dispatch/bulletins/2.docx" in html


def test_equal_rates_share_a_place(tree, dispatcher, client):
    rollups_recount()
    adults(tree.grid, 2, 1, FIRST)
    adults(tree.other_grid, 4, 2, FIRST)
    snapshot_backfill(day=FIRST)
    client.force_login(dispatcher)
    html = page_of(client.get(f"/dispatch/snapshots/{FIRST:%Y-%m-%d}/"))
    start = html.index('data-measure="coverage"')
    table = html[start : html.index("</table>", start)]
    assert table.count('<td class="num place" data-label=') == 2
    assert table.count('>1 <span class="badge tie">') == 2


def test_a_town_official_sees_only_their_own_place(county, official, client):
    client.force_login(official)
    html = page_of(client.get("/dispatch/rankings/"))
    assert f'data-place="{county.town.code}:coverage"' in html
    assert county.other_town.name not in html
    assert "<table" not in html.split('id="candidates"')[0]
    assert ".docx" not in html
    assert "/dispatch/bulletins/" not in html


def test_the_rankings_api_is_scoped_like_the_page(county, dispatcher, official, client):
    client.force_login(dispatcher)
    every = client.get(f"/api/v1/dispatch/rankings?county={county.county.code}").json()
    assert every["cutoff"]["day"] == SECOND.isoformat()
    coverage = [row for row in every["rankings"] if row["measure"] == "coverage"]
    assert [(row["code"], row["place"], row["of"], row["bottom"]) for row in coverage] == [
        (county.town.code, 1, 2, False),
        (county.other_town.code, 2, 2, True),
        (county.department.code, 1, 1, True),
    ]
    client.force_login(official)
    own = client.get("/api/v1/dispatch/rankings").json()
    assert {row["code"] for row in own["rankings"]} == {county.town.code}
    assert (
        client.get(f"/api/v1/dispatch/rankings?county={county.other_county.code}").status_code
        == 404
    )
    assert client.get(f"/dispatch/rankings/?county={county.other_county.code}").status_code == 404


def test_a_day_without_a_cutoff_is_a_404(county, dispatcher, client):
    client.force_login(dispatcher)
    assert client.get(f"/dispatch/snapshots/{TODAY:%Y-%m-%d}/").status_code == 404
    assert client.get("/dispatch/snapshots/2021-02-30/").status_code == 404


# Accountability candidates (约谈).


def candidate_of(unit) -> Accountability:
    return Accountability.objects.get(unit=unit, ranking__measure="coverage")


def test_the_dispatcher_confirms_a_summons_once(county, dispatcher, client):
    candidate = candidate_of(county.other_town)
    client.force_login(dispatcher)
    rankings = page_of(client.get("/dispatch/rankings/"))
    assert f'action="/dispatch/candidates/{candidate.pk}/decision/"' in rankings
    url = f"/dispatch/candidates/{candidate.pk}/decision/"
    response = client.post(url, {"decision": "confirmed", "note": "明日约谈"})
    assert response.url == f"/dispatch/snapshots/{SECOND:%Y-%m-%d}/"
    candidate.refresh_from_db()
    assert (candidate.state, candidate.decided_by, candidate.decision) == (
        CaseState.DECIDED,
        dispatcher,
        "明日约谈",
    )
    html = page_of(client.post(url, {"decision": "dismissed"}, follow=True))
    assert 'class="message error"' in html
    candidate.refresh_from_db()
    assert candidate.state == CaseState.DECIDED
    assert f'data-candidate="{candidate.pk}" data-state="decided"' in html
    assert "明日约谈" in html


def test_the_dispatcher_dismisses_a_candidate(county, dispatcher, client):
    candidate = candidate_of(county.department)
    client.force_login(dispatcher)
    client.post(f"/dispatch/candidates/{candidate.pk}/decision/", {"decision": "dismissed"})
    candidate.refresh_from_db()
    assert candidate.state == CaseState.DISMISSED
    assert candidate.decided_at is not None


def test_only_the_dispatcher_decides(county, leader, official, other_official, client):
    candidate = candidate_of(county.other_town)
    url = f"/dispatch/candidates/{candidate.pk}/decision/"
    client.force_login(leader)
    assert "decision/" not in page_of(client.get("/dispatch/rankings/"))
    assert client.post(url, {"decision": "confirmed"}).status_code == 403
    client.force_login(official)
    assert client.post(url, {"decision": "confirmed"}).status_code == 404
    client.force_login(other_official)
    assert client.post(url, {"decision": "dismissed"}).status_code == 403
    assert client.get(url).status_code == 405
    candidate.refresh_from_db()
    assert candidate.state == CaseState.PROPOSED


# The cutoff button.


def test_the_dispatcher_freezes_the_figures_once_a_day(county, make_user, dispatcher, client):
    client.force_login(dispatcher)  # of one county of two: a cutoff freezes both
    assert 'action="/dispatch/cutoff/"' not in page_of(client.get("/dispatch/rankings/"))
    assert client.post("/dispatch/cutoff/").status_code == 403
    dispatcher = make_user(Role.DISPATCHER, county.city)
    client.force_login(dispatcher)
    assert 'action="/dispatch/cutoff/"' in page_of(client.get("/dispatch/rankings/"))
    response = client.post("/dispatch/cutoff/")
    assert response.url == f"/dispatch/snapshots/{TODAY:%Y-%m-%d}/"
    assert Snapshot.objects.get(day=TODAY).taken_by == dispatcher
    html = page_of(client.post("/dispatch/cutoff/", follow=True))
    assert 'class="message error"' in html
    assert Snapshot.objects.filter(day=TODAY).count() == 1


def test_no_one_else_freezes_the_figures(county, leader, official, client):
    for user in (leader, official):
        client.force_login(user)
        assert 'action="/dispatch/cutoff/"' not in page_of(client.get("/dispatch/rankings/"))
        assert client.post("/dispatch/cutoff/").status_code == 403
    assert not Snapshot.objects.filter(day=TODAY).exists()


# Daily targets (任务清单).


class Clock:
    """The services' clock stopped at `now` (the pages keep the real one)."""

    def __init__(self, now):
        self._now = now

    def now(self):
        return self._now

    def __getattr__(self, name):
        return getattr(timezone, name)


@pytest.fixture
def clock(monkeypatch):
    def at(hour: int, minute: int = 0):
        moment = timezone.make_aware(datetime.combine(TODAY, time(hour, minute)))
        monkeypatch.setattr(services, "timezone", Clock(moment))

    return at


TOMORROW = TODAY + timedelta(days=1)


def quotas(tree, town="", other="", department="") -> dict:
    return {
        f"unit_{tree.town.code}": town,
        f"unit_{tree.other_town.code}": other,
        f"unit_{tree.department.code}": department,
    }


def test_the_dispatcher_issues_tomorrows_targets_in_one_form(county, dispatcher, client, clock):
    clock(19, 30)
    client.force_login(dispatcher)
    html = page_of(client.get("/dispatch/targets/"))
    assert f'value="{TOMORROW:%Y-%m-%d}"' in html
    for unit in (county.town, county.other_town, county.department):
        assert f'name="unit_{unit.code}"' in html
    response = client.post(
        f"/dispatch/targets/?day={TOMORROW:%Y-%m-%d}", quotas(county, town="10", other="5")
    )
    assert response.status_code == 302
    issued = {t.unit: (t.doses, t.late) for t in DailyTarget.objects.filter(day=TOMORROW)}
    assert issued == {county.town: (10, False), county.other_town: (5, False)}


def test_a_target_issued_after_20_00_is_flagged_late(county, dispatcher, client, clock):
    clock(21, 5)
    client.force_login(dispatcher)
    url = f"/dispatch/targets/?day={TOMORROW:%Y-%m-%d}"
    client.post(url, quotas(county, town="10"))
    assert DailyTarget.objects.get(unit=county.town, day=TOMORROW).late
    html = page_of(client.get(url))
    row = html[html.index(f'<tr data-code="{county.town.code}"') :]
    assert row.index("data-late") < row.index("</tr>")


def test_an_unchanged_quota_is_not_issued_again(county, dispatcher, client, clock):
    url = f"/dispatch/targets/?day={TOMORROW:%Y-%m-%d}"
    client.force_login(dispatcher)
    clock(19)
    client.post(url, quotas(county, town="10", other="5"))
    clock(21)
    client.post(url, quotas(county, town="10", other="6"))
    issued = {t.unit: (t.doses, t.late) for t in DailyTarget.objects.filter(day=TOMORROW)}
    assert issued == {county.town: (10, False), county.other_town: (6, True)}


def test_a_bad_quota_is_refused_and_nothing_is_issued(county, dispatcher, client):
    client.force_login(dispatcher)
    html = page_of(
        client.post(
            f"/dispatch/targets/?day={TOMORROW:%Y-%m-%d}", quotas(county, town="10", other="-1")
        )
    )
    assert "errorlist" in html
    assert not DailyTarget.objects.exists()


def test_a_past_day_is_read_only(county, dispatcher, client):
    client.force_login(dispatcher)
    html = page_of(client.get(f"/dispatch/targets/?day={SECOND:%Y-%m-%d}"))
    assert 'name="unit_' not in html
    client.post(f"/dispatch/targets/?day={SECOND:%Y-%m-%d}", quotas(county, town="3"))
    assert not DailyTarget.objects.filter(day=SECOND).exists()


def test_a_town_sees_its_own_quota_and_progress_only(county, dispatcher, official, client):
    DailyTarget.objects.create(
        unit=county.town, day=TODAY, doses=4, issued_by=dispatcher, issued_at=timezone.now()
    )
    DailyTarget.objects.create(
        unit=county.other_town, day=TODAY, doses=9, issued_by=dispatcher, issued_at=timezone.now()
    )
    add_dose(
        resident_create(name="新人", id_number=id_number(ADULT_BIRTH), grid=county.grid), TODAY
    )
    client.force_login(official)
    html = page_of(client.get("/dispatch/targets/"))
    assert f'<tr data-code="{county.town.code}"' in html
    assert county.other_town.code not in html
    assert 'name="unit_' not in html
    assert "25.0%" in html  # 1 dose of 4
    assert client.post("/dispatch/targets/", quotas(county, town="1")).status_code == 403


# Queries: the same number whatever the county's size.


@pytest.mark.parametrize(
    "url",
    [
        "/dispatch/units/{county}/",
        "/dispatch/rankings/",
        "/api/v1/dispatch/units/{county}/dashboard",
        "/api/v1/dispatch/rankings",
        "/dispatch/targets/",
    ],
)
def test_query_counts_do_not_grow_with_the_county(
    county, dispatcher, client, django_assert_num_queries, url
):
    url = url.format(county=county.county.code)
    client.force_login(dispatcher)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for number in range(4):
        grow(county, number)
    snapshot_backfill(day=TODAY - timedelta(days=1))
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert "新镇3" in response.content.decode()
