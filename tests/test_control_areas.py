"""Control areas (管控区): drawn, changed after a new case and lifted by the control group
on scoped, audited pages; their levels and counts on a day (hand-computed); shown on the
dispatch dashboard and in the API in a fixed number of queries."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from epidispatch.accounts.models import Role
from epidispatch.audit.models import Change
from epidispatch.control.models import ControlArea
from epidispatch.control.selectors import area_summary
from epidispatch.control.services import area_create, area_lift, area_update, key_person_resolve
from epidispatch.registry.models import Resident
from epidispatch.registry.services import household_member_place, resident_create

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_control_pages import bearer
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db
ADDRESS = "北关路18号 1单元101"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def draw(tree, by=None, **values):
    """An area under 第九版 (in force in July 2022), on the grid unless said otherwise."""
    values = {"unit": tree.grid, "name": "北关社区第1网格", "level": "high",
              "started_on": date(2022, 7, 1), **values}  # fmt: skip
    return area_create(by=by, **values)


# Rules of the service


def test_a_level_the_version_does_not_know_is_refused_with_the_reason(tree, officer):
    assert draw(tree, by=officer, level="medium").policy.name == "第九版"
    with pytest.raises(ValidationError, match="二十条 没有“中风险区”这一等级"):
        draw(tree, by=officer, level="medium", started_on=date(2022, 11, 20))


def test_only_the_control_group_of_the_unit_draws_changes_and_lifts(
    tree, officer, far_officer, worker
):
    for user in (worker, far_officer):
        with pytest.raises(PermissionDenied):
            draw(tree, by=user)
    area = draw(tree, by=officer)
    for user in (worker, far_officer):
        with pytest.raises(PermissionDenied):
            area_update(area=area, name="x", level="high", last_case_on=date(2022, 7, 2),
                        addresses="", by=user)  # fmt: skip
        with pytest.raises(PermissionDenied):
            area_lift(area=area, on=date(2022, 7, 9), by=user)
    assert ControlArea.objects.get().ended_on is None


def test_an_area_is_drawn_where_people_live_not_on_a_site_or_department(tree, officer):
    for unit in (tree.site, tree.department):
        with pytest.raises(ValidationError, match="管控区只能划在有居民居住的区域"):
            draw(tree, by=officer, unit=unit)


def test_addresses_are_kept_one_a_line_without_blanks_or_repeats(tree, officer):
    area = draw(tree, by=officer, addresses=f"{ADDRESS}\n\n 北关路18号　1单元101 \n北关路20号\x00")
    assert area.address_list() == [ADDRESS, "北关路20号"]


def test_a_new_case_raises_the_area_again_and_the_downgrade_counts_from_it(tree, officer):
    area = draw(tree, by=officer, level="high")
    on = date(2022, 7, 10)  # 7 quiet days after 07-01 lowered it to medium on 07-09
    assert _level(tree, officer, on) == "medium"
    area_update(area=area, name=area.name, level="high", last_case_on=date(2022, 7, 10),
                addresses="", by=officer)  # fmt: skip
    assert _level(tree, officer, on) == "high"
    assert _level(tree, officer, date(2022, 7, 18)) == "medium"  # 07-11 … 07-17 quiet
    with pytest.raises(ValidationError, match="不能早于 2022-07-10"):
        area_update(area=area, name=area.name, level="high", last_case_on=date(2022, 7, 5),
                    addresses="", by=officer)  # fmt: skip


def test_a_lifted_area_is_neither_changed_nor_lifted_again(tree, officer):
    area = draw(tree, by=officer)
    with pytest.raises(ValidationError, match="解除日期不能早于划定日期"):
        area_lift(area=area, on=date(2022, 6, 30), by=officer)
    area_lift(area=area, on=date(2022, 7, 20), by=officer)
    with pytest.raises(ValidationError, match="已解除"):
        area_lift(area=area, on=date(2022, 7, 21), by=officer)
    with pytest.raises(ValidationError, match="已解除"):
        area_update(area=area, name="x", level="high", last_case_on=date(2022, 7, 2),
                    addresses="", by=officer)  # fmt: skip
    assert _level(tree, officer, date(2022, 7, 19)) == "low"
    assert area_summary(officer, tree.county, date(2022, 7, 20)).rows == []


def _level(tree, user, day):
    (row,) = area_summary(user, tree.county, day).rows
    return row.level


# The figures, computed by hand


@pytest.fixture
def areas(tree, officer):
    """On 第九版 days:
    - A: the whole of 北关社区第1网格, high from 07-01 (lowered to medium on 07-09);
    - B: one address in 北关社区, medium from 07-03 (lowered to low on 07-07);
    - C: 新庄村, high from 07-01, lifted on 07-04.
    Residents: three in 第1网格 (two of them at the address; two more there have died or
    moved out), one in 第2网格, one in 新庄村.
    Under measures on 07-05: 甲 (resident at the address), 乙 (non-resident registered at
    the address), 丙 (a resident of 第1网格 elsewhere), 丁 (in 第2网格); 戊 was released on
    07-04. So A holds 3 residents and 3 people under measures (甲 乙 丙), B 2 and 2 (甲 乙).
    """
    family = [resident_create(name=f"户{n}", id_number=id_number(n), grid=tree.grid)
              for n in (1, 2, 3)]  # fmt: skip
    resident_create(name="邻网格", id_number=id_number(4), grid=tree.sibling_grid)
    for n, status in ((6, "deceased"), (7, "moved_out")):  # at the address, counted nowhere
        gone = resident_create(name=f"已离开{n}", id_number=id_number(n), grid=tree.grid)
        household_member_place(resident=gone, address=ADDRESS, by=None)
        Resident.objects.filter(pk=gone.pk).update(status=status)
    resident_create(name="新庄人", id_number=id_number(5), grid=tree.other_grid)
    for resident in family[:2]:
        household_member_place(resident=resident, address=ADDRESS, by=None)
    exposure = date(2022, 7, 3)
    key_person_resolve(name="户1", id_number=id_number(1))
    register(sequence=1, grid=tree.grid, reference=exposure)  # 甲, resident 户1
    key_person_resolve(name="乙", id_number=id_number(20), grid=tree.grid, address=ADDRESS)
    register(sequence=20, grid=tree.grid, reference=exposure)  # 乙
    register(sequence=3, grid=tree.grid, reference=exposure)  # 丙, resident 户3
    register(sequence=21, grid=tree.sibling_grid, reference=exposure)  # 丁
    released = register(sequence=22, grid=tree.grid, reference=exposure)  # 戊
    released.released_on = date(2022, 7, 4)
    released.save()
    a = draw(tree, by=officer, name="A")
    b = draw(tree, by=officer, name="B", unit=tree.village, level="medium",
             started_on=date(2022, 7, 3), addresses=ADDRESS)  # fmt: skip
    c = draw(tree, by=officer, name="C", unit=tree.other_village)
    area_lift(area=c, on=date(2022, 7, 4), by=officer)
    return a, b, c


def _rows(user, unit, day, **options):
    summary = area_summary(user, unit, day, **options)
    return summary.counts(), {
        row.area.name: (row.level, row.residents, row.under_measures) for row in summary.rows
    }


def test_the_areas_of_the_county_on_07_05(tree, officer, areas):
    counts, rows = _rows(officer, tree.county, date(2022, 7, 5))
    assert counts == {"high": 1, "medium": 1, "low": 0}
    assert rows == {"A": ("high", 3, 3), "B": ("medium", 2, 2)}


def test_the_areas_of_the_county_on_07_09_the_day_both_are_lowered_again(tree, officer, areas):
    counts, rows = _rows(officer, tree.county, date(2022, 7, 9))
    assert counts == {"high": 0, "medium": 1, "low": 1}
    assert {name: level for name, (level, *_n) in rows.items()} == {"A": "medium", "B": "low"}
    counts, rows = _rows(officer, tree.county, date(2022, 7, 9), lifted=True)
    assert rows["C"] == (None, 1, 0)


def test_a_worker_of_another_grid_sees_no_area_and_counts_nobody_beyond_their_grid(
    tree, make_user, areas
):
    far = make_user(Role.GRID_WORKER, tree.other_grid)
    assert _rows(far, tree.other_grid, date(2022, 7, 5)) == (
        {"high": 0, "medium": 0, "low": 0}, {})  # fmt: skip
    sibling = make_user(Role.GRID_WORKER, tree.sibling_grid)
    _counts, rows = _rows(sibling, tree.sibling_grid, date(2022, 7, 5))
    assert rows == {}  # A is on 第1网格, B on an address of 第1网格's village (scope: 第2网格)


# Pages: scoped, audited, phone first


def test_the_officer_draws_changes_and_lifts_an_area_on_the_pages(tree, officer, client):
    client.force_login(officer)
    today = timezone.localdate()
    response = client.post(
        f"/control/units/{tree.village.code}/areas/new/",
        {"name": "北关路18号楼", "level": "high", "started_on": today.isoformat(),
         "last_case_on": "", "addresses": ADDRESS},
    )  # fmt: skip
    assert response.status_code == 302
    area = ControlArea.objects.get()
    assert (area.unit, area.addresses, area.county_code) == (tree.village, ADDRESS, "621121")
    page = client.get(f"/control/units/{tree.village.code}/areas/").content.decode()
    assert "北关路18号楼" in page and 'data-level="high"' in page
    response = client.post(
        f"/control/areas/{area.pk}/",
        {"name": "北关路18号楼", "level": "high", "last_case_on": today.isoformat(),
         "addresses": f"{ADDRESS}\n北关路20号"},
    )  # fmt: skip
    assert response.status_code == 302
    assert ControlArea.objects.get().address_list() == [ADDRESS, "北关路20号"]
    assert (
        client.post(f"/control/areas/{area.pk}/lift/", {"on": today.isoformat()}).status_code == 302
    )
    assert ControlArea.objects.get().ended_on == today
    changes = Change.objects.filter(content_type__model="controlarea").order_by("timestamp")
    assert [change.action for change in changes] == [0, 1, 1]  # create, update, update
    assert {change.unit_path for change in changes} == {tree.village.path}
    assert all(change.actor == officer for change in changes)


def test_a_refused_area_shows_the_reason_on_the_form(tree, officer, client):
    client.force_login(officer)
    response = client.post(
        f"/control/units/{tree.grid.code}/areas/new/",
        {"name": "x", "level": "medium", "started_on": "2022-11-20", "addresses": ""},
    )
    assert response.status_code == 200
    assert "二十条 没有“中风险区”这一等级" in response.content.decode()
    assert not ControlArea.objects.exists()


def test_bad_input_is_answered_never_a_500(tree, officer, client):
    client.force_login(officer)
    url = f"/control/units/{tree.grid.code}/areas/new/"
    for data in ({"name": "", "level": "high", "started_on": "2022-07-01"},
                 {"name": "x", "level": "red", "started_on": "2022-07-01"},
                 {"name": "x", "level": "high", "started_on": "7月1日"},
                 {"name": "x" * 300, "level": "high", "started_on": "2022-07-01"},
                 {"name": "x", "level": "high", "started_on": "1900-01-01"}):  # fmt: skip
        assert client.post(url, data).status_code == 200
    assert client.get(f"/control/units/{tree.grid.code}/areas/?as_of=xx").status_code == 200
    area = draw(tree, by=officer)
    assert client.post(f"/control/areas/{area.pk}/lift/", {"on": "soon"}).status_code == 302
    assert not ControlArea.objects.filter(ended_on__isnull=False).exists()


def test_another_countys_officer_gets_404_and_a_worker_403(
    tree, officer, far_officer, worker, client
):
    area = draw(tree, by=officer)
    client.force_login(far_officer)
    for url in (f"/control/areas/{area.pk}/", f"/control/units/{tree.grid.code}/areas/",
                f"/control/units/{tree.grid.code}/areas/new/"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(f"/control/areas/{area.pk}/lift/", {"on": "2022-07-09"}).status_code == 404
    client.force_login(worker)
    page = client.get(f"/control/areas/{area.pk}/")
    assert page.status_code == 200 and "解除管控区" not in page.content.decode()
    assert client.get(f"/control/units/{tree.grid.code}/areas/new/").status_code == 403
    assert client.post(f"/control/areas/{area.pk}/", {"name": "y", "level": "high",
                       "last_case_on": "2022-07-02"}).status_code == 403  # fmt: skip
    assert client.post(f"/control/areas/{area.pk}/lift/", {"on": "2022-07-09"}).status_code == 403
    assert ControlArea.objects.get().name == "北关社区第1网格"


# The dispatch dashboard and the API


def _today_areas(tree, officer, count, unit=None):
    today = timezone.localdate()
    for n in range(count):
        area_create(unit=unit or tree.grid, name=f"区{n}", level="high", started_on=today,
                    addresses=f"北关路{n}号", by=officer)  # fmt: skip


def test_the_dispatch_dashboard_shows_the_areas_in_force_with_their_counts(
    tree, officer, dispatcher, make_user, client
):
    _today_areas(tree, officer, 2)
    client.force_login(dispatcher)
    page = client.get(f"/dispatch/units/{tree.county.code}/").content.decode()
    assert 'data-panel="control-areas"' in page
    assert '<span class="muted" data-figure="areas">2</span>' in page
    assert '<b data-figure="high">2</b>' in page and "区1" in page
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.other_town))
    page = client.get(f"/dispatch/units/{tree.other_town.code}/").content.decode()
    assert '<span class="muted" data-figure="areas">0</span>' in page and "区1" not in page


def test_the_api_lists_the_areas_and_refuses_another_county(tree, officer, far_officer, client):
    _today_areas(tree, officer, 1)
    url = f"/api/v1/control/units/{tree.county.code}/areas"
    body = client.get(url, headers=bearer(officer)).json()
    assert body["counts"] == {"high": 1, "medium": 0, "low": 0}
    (row,) = body["areas"]
    assert (row["name"], row["level"], row["unit"], row["addresses"], row["policy"]) == (
        "区0", "high", tree.grid.code, ["北关路0号"], "二十条")  # fmt: skip
    assert client.get(url, headers=bearer(far_officer)).status_code == 404
    far = f"/api/v1/control/units/{tree.other_county.code}/areas"
    assert client.get(far, headers=bearer(far_officer)).json()["areas"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/dispatch/units/{county}/",
        "/control/units/{county}/areas/",
        "/api/v1/control/units/{county}/areas",
    ],
)
def test_query_counts_do_not_grow_with_the_areas(
    tree, officer, dispatcher, client, django_assert_num_queries, url
):
    url = url.format(county=tree.county.code)
    headers = bearer(dispatcher) if "/api/" in url else {}
    client.force_login(dispatcher)
    _today_areas(tree, officer, 1)
    _today_areas(tree, officer, 1, unit=tree.village)  # a whole-unit area and address areas
    area_create(unit=tree.town, name="全镇", level="high", started_on=timezone.localdate(),
                by=officer)  # fmt: skip
    client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, headers=headers).status_code == 200
    _today_areas(tree, officer, 6)
    area_create(unit=tree.other_town, name="鸡川镇", level="high",
                started_on=timezone.localdate() - timedelta(days=1), by=officer)  # fmt: skip
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, headers=headers)
    assert "鸡川镇" in response.content.decode()
