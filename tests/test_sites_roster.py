"""The roster page (排班): planners put people on posts, move and remove them; the rules
(a valid qualification that day, one place at a time) answer in Chinese and nothing is
stored when they refuse; nobody plans or reads another town's site."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from epidispatch.accounts.models import Role
from epidispatch.sites.models import RosterEntry, StaffRole
from epidispatch.sites.services import qualification_record, roster_assign

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import staff_member

DAY = date(2026, 12, 3)


@pytest.fixture
def nurse(tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    qualification_record(
        staff=nurse,
        role=StaffRole.VACCINATOR,
        passed_on=date(2026, 1, 1),
        expires_on=DAY,
        by=dispatcher,
    )
    return nurse


def roster_url(site, day=DAY) -> str:
    return f"{reverse('sites:roster', args=[site.code])}?day={day:%Y-%m-%d}"


def add(client, site, staff, start="08:00", end="12:00", role=StaffRole.VACCINATOR, day=DAY):
    return client.post(
        roster_url(site, day),
        {"action": "add", "staff": staff.pk, "role": role, "starts_at": start, "ends_at": end},
        follow=True,
    )


def test_site_staff_roster_a_qualified_nurse_and_see_the_post(client, tree, nurse, site_staff):
    client.force_login(site_staff)
    response = add(client, tree.site, nurse)
    html = response.content.decode()
    assert "已为李护士排班" in html
    assert "08:00–12:00" in html and "培训合格至 2026-12-03" in html
    entry = RosterEntry.objects.get()
    assert (entry.site, entry.day, entry.role) == (tree.site, DAY, StaffRole.VACCINATOR)


def test_an_expired_qualification_is_refused_on_the_page_in_chinese(
    client, tree, nurse, site_staff
):
    client.force_login(site_staff)
    html = add(client, tree.site, nurse, day=DAY + timedelta(days=1)).content.decode()
    assert "李护士在 2026-12-04 没有有效的接种员培训合格证明" in html
    assert not RosterEntry.objects.exists()


def test_a_person_at_another_site_at_that_time_is_refused_on_the_page(
    client, tree, nurse, dispatcher
):
    roster_assign(
        staff=nurse,
        site=tree.other_site,
        role=StaffRole.VACCINATOR,
        day=DAY,
        starts_at=time(10),
        ends_at=time(15),
        by=dispatcher,
    )
    client.force_login(dispatcher)
    html = add(client, tree.site, nurse).content.decode()
    assert "已排在鸡川镇卫生院接种点" in html
    assert "同一人不能同时在两处" in html
    assert RosterEntry.objects.count() == 1


def test_the_staff_list_shows_qualifications_and_posts_elsewhere(client, tree, nurse, dispatcher):
    roster_assign(
        staff=nurse,
        site=tree.other_site,
        role=StaffRole.VACCINATOR,
        day=DAY,
        starts_at=time(14),
        ends_at=time(17),
        by=dispatcher,
    )
    client.force_login(dispatcher)
    html = client.get(roster_url(tree.site)).content.decode()
    assert "李护士（接种员合格至2026-12-03；已排在鸡川镇卫生院接种点 14:00–17:00）" in html


def test_the_dispatcher_moves_a_post_to_another_site_and_takes_one_off(
    client, tree, nurse, dispatcher
):
    client.force_login(dispatcher)
    add(client, tree.site, nurse)
    entry = RosterEntry.objects.get()
    response = client.post(
        roster_url(tree.site),
        {"action": "move", "entry": entry.pk, "site": tree.other_site.code},
        follow=True,
    )
    assert "已将李护士调配到鸡川镇卫生院接种点" in response.content.decode()
    moved = RosterEntry.objects.get()
    assert (moved.site, moved.starts_at) == (tree.other_site, time(8))
    response = client.post(
        roster_url(tree.other_site), {"action": "remove", "entry": moved.pk}, follow=True
    )
    assert "已将李护士撤下排班" in response.content.decode()
    assert not RosterEntry.objects.exists()


def test_a_town_official_reads_the_roster_but_may_not_change_it(
    client, tree, nurse, dispatcher, make_user
):
    roster_assign(
        staff=nurse,
        site=tree.site,
        role=StaffRole.VACCINATOR,
        day=DAY,
        starts_at=time(8),
        ends_at=time(12),
        by=dispatcher,
    )
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    html = client.get(roster_url(tree.site)).content.decode()
    assert "李护士" in html and "新增排班" not in html
    assert add(client, tree.site, nurse).status_code == 403
    entry = RosterEntry.objects.get()
    response = client.post(roster_url(tree.site), {"action": "remove", "entry": entry.pk})
    assert response.status_code == 403
    assert RosterEntry.objects.count() == 1


def test_another_towns_staff_cannot_read_or_change_this_sites_roster(
    client, tree, nurse, dispatcher, make_user
):
    entry = roster_assign(
        staff=nurse,
        site=tree.site,
        role=StaffRole.VACCINATOR,
        day=DAY,
        starts_at=time(8),
        ends_at=time(12),
        by=dispatcher,
    )
    other = make_user(Role.SITE_STAFF, tree.other_site)
    client.force_login(other)
    assert client.get(roster_url(tree.site)).status_code == 404
    # Through their own site's page, another site's post is not found either.
    response = client.post(roster_url(tree.other_site), {"action": "remove", "entry": entry.pk})
    assert response.status_code == 404
    assert client.get(f"/api/v1/sites/{tree.site.code}/roster?day={DAY}").status_code == 404
    # Nor can they roster a person of another site onto theirs: that person is not theirs.
    assert nurse.name not in client.get(roster_url(tree.other_site)).content.decode()
    assert RosterEntry.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "staff": "99999999999", "role": "vaccinator"},
        {"action": "add", "staff": "1", "role": "pilot", "starts_at": "25:00", "ends_at": "x"},
        {"action": "add", "staff": "1", "role": "driver", "starts_at": "12:00", "ends_at": "08:00"},
        {"action": "remove", "entry": "x" * 500},
        {"action": "remove", "entry": "-5"},
        {"action": "move", "entry": "1", "site": "nowhere"},
        {"action": "bogus"},
    ],
)
def test_hostile_input_on_the_roster_page_is_answered_not_a_500(
    client, tree, nurse, dispatcher, data
):
    client.force_login(dispatcher)
    response = client.post(roster_url(tree.site), data)
    assert response.status_code in (200, 302, 404)
    assert not RosterEntry.objects.exists()


def test_a_day_that_is_not_a_date_shows_today(client, tree, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("sites:roster", args=[tree.site.code]), {"day": "2026-13-45"})
    assert response.status_code == 200


def test_the_api_rosters_and_refuses_with_the_reason(client, tree, nurse, site_staff):
    client.force_login(site_staff)
    url = f"/api/v1/sites/{tree.site.code}/roster"
    body = {
        "staff_id": nurse.pk,
        "role": "vaccinator",
        "day": "2026-12-03",
        "starts_at": "08:00",
        "ends_at": "12:00",
    }
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["staff"] == "李护士"
    refused = client.post(url, {**body, "day": "2026-12-04"}, content_type="application/json")
    assert refused.status_code == 409
    assert "培训合格证明" in refused.json()["detail"]
    [listed] = client.get(url, {"day": "2026-12-03"}).json()
    assert listed["qualified_until"] == "2026-12-03"


@pytest.mark.parametrize("people", [1, 6])
def test_the_roster_page_runs_a_fixed_number_of_queries(
    client, tree, dispatcher, django_assert_num_queries, people
):
    for n in range(people):
        member = staff_member(tree, dispatcher, name=f"护士{n}")
        qualification_record(
            staff=member,
            role=StaffRole.VACCINATOR,
            passed_on=date(2026, 1, 1),
            expires_on=DAY,
            by=dispatcher,
        )
        roster_assign(
            staff=member,
            site=tree.site if n % 2 else tree.other_site,
            role=StaffRole.VACCINATOR,
            day=DAY,
            starts_at=time(8),
            ends_at=time(12),
            by=dispatcher,
        )
    client.force_login(dispatcher)
    # The roster, the staff with their qualifications and posts, the site's load (11).
    with django_assert_num_queries(17):
        assert client.get(roster_url(tree.site)).status_code == 200
