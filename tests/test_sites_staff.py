"""Staff deployment: qualifications with an expiry, one person in one place at a time,
and the dispatcher's view of load against staffed capacity."""

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epidispatch.accounts.models import Role
from epidispatch.sites.models import RosterEntry, StaffRole
from epidispatch.sites.selectors import site_loads
from epidispatch.sites.services import (
    _book,
    qualification_record,
    roster_assign,
    roster_move,
    staff_create,
)

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import residents

DAY = date(2026, 12, 3)


@pytest.fixture
def nurse(tree, dispatcher):
    nurse = staff_create(name="李护士", unit=tree.site, by=dispatcher)
    qualification_record(
        staff=nurse,
        role=StaffRole.VACCINATOR,
        passed_on=date(2026, 1, 1),
        expires_on=DAY,
        by=dispatcher,
    )
    return nurse


def post(staff, site, by, start: int, end: int, day=DAY, role=StaffRole.VACCINATOR):
    return roster_assign(
        staff=staff, site=site, role=role, day=day, starts_at=time(start), ends_at=time(end), by=by
    )


def test_a_qualified_person_is_rostered_on_the_last_day_of_the_qualification(
    tree, nurse, dispatcher
):
    assert post(nurse, tree.site, dispatcher, 8, 12).staff == nurse


def test_an_expired_qualification_is_refused(tree, nurse, dispatcher):
    with pytest.raises(ValidationError) as refused:
        post(nurse, tree.site, dispatcher, 8, 12, day=DAY + timedelta(days=1))
    assert refused.value.code == "unqualified"
    assert "没有有效的接种员培训合格证明" in refused.value.messages[0]
    assert not RosterEntry.objects.exists()


def test_a_missing_qualification_is_refused_but_a_driver_needs_none(tree, nurse, dispatcher):
    with pytest.raises(ValidationError, match="留观医生"):
        post(nurse, tree.site, dispatcher, 8, 12, role=StaffRole.OBSERVING_DOCTOR)
    assert post(nurse, tree.site, dispatcher, 8, 12, role=StaffRole.DRIVER).role == "driver"


def test_a_person_rostered_at_two_sites_at_the_same_time_is_refused(tree, nurse, dispatcher):
    post(nurse, tree.site, dispatcher, 8, 12)
    with pytest.raises(ValidationError) as refused:
        post(nurse, tree.other_site, dispatcher, 11, 14)
    assert refused.value.code == "double_booked"
    assert "平襄镇卫生院接种点" in refused.value.messages[0]
    assert RosterEntry.objects.count() == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.tuples(st.integers(0, 22), st.integers(1, 23)).filter(lambda p: p[0] < p[1]),
    second=st.tuples(st.integers(0, 22), st.integers(1, 23)).filter(lambda p: p[0] < p[1]),
)
def test_two_posts_of_one_person_are_accepted_exactly_when_their_hours_do_not_overlap(
    tree, nurse, dispatcher, first, second
):
    RosterEntry.objects.all().delete()
    post(nurse, tree.site, dispatcher, *first)
    overlap = first[0] < second[1] and second[0] < first[1]
    try:
        post(nurse, tree.other_site, dispatcher, *second)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is not overlap


def test_moving_a_post_to_another_site_keeps_the_hours(tree, nurse, dispatcher):
    entry = post(nurse, tree.site, dispatcher, 8, 12)
    moved = roster_move(entry=entry, site=tree.other_site, by=dispatcher)
    assert (moved.site, moved.starts_at, moved.ends_at) == (tree.other_site, time(8), time(12))
    assert RosterEntry.objects.count() == 1


def test_staff_of_one_site_cannot_roster_at_another(tree, nurse, make_user):
    staff_user = make_user(Role.SITE_STAFF, tree.other_site)
    with pytest.raises(PermissionDenied):
        post(nurse, tree.site, staff_user, 8, 12)


def test_the_load_view_sets_appointments_against_rostered_vaccinator_hours(
    tree, nurse, dispatcher, session
):
    post(nurse, tree.site, dispatcher, 8, 11, day=session.day)
    for resident in residents(tree, 3):
        _book(slot=session.slots.first(), resident=resident, by=None)
    loads = {load.site.code: load for load in site_loads(dispatcher, session.day)}
    assert (loads[tree.site.code].expected, loads[tree.site.code].staffed) == (3, 60)
    assert loads[tree.other_site.code].staffed == 0
    assert "621122" not in "".join(loads)
