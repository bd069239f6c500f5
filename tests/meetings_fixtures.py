"""Fixtures shared by the meetings tests (tests/test_meetings_*.py): the office of 通渭县,
the officials of 平襄镇 and 鸡川镇, a dispatch meeting series and its meetings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.meetings.models import MeetingKind, MeetingSeries, WorkingGroup
from epidispatch.meetings.services import meeting_create

__all__ = [
    "_media_root",
    "jichuan",
    "meeting",
    "office",
    "pingxiang",
    "series",
    "vaccination_group",
]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def office(tree, make_user):
    """The county's office (防控办 dispatcher)."""
    return make_user(Role.DISPATCHER, tree.county, username="office")


@pytest.fixture
def pingxiang(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town, username="pingxiang")


@pytest.fixture
def jichuan(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.other_town, username="jichuan")


@pytest.fixture
def series(tree):
    return MeetingSeries.objects.create(
        unit=tree.county, name="县疫苗接种工作调度会议", kind=MeetingKind.DISPATCH
    )


@pytest.fixture
def vaccination_group(tree, office):
    """疫苗接种组 of the county's command structure; the office is a member."""
    group = WorkingGroup.objects.create(unit=tree.county, name="疫苗接种组")
    group.members.add(office)
    return group


def hold(series, office, *, participants=(), held_in=timedelta(hours=2), number=None, **kw):
    """A meeting of the series held `held_in` from now, reports due an hour before."""
    held = timezone.now() + held_in
    return meeting_create(
        series=series,
        number=number,
        held_at=held,
        report_deadline=held - timedelta(hours=1),
        participants=participants,
        main_venue="县政府四楼会议室",
        sub_venues="各乡镇视频会议室",
        chair="县长",
        by=office,
        **kw,
    )


@pytest.fixture
def meeting(tree, series, office):
    """第1次 with both towns and the department taking part."""
    return hold(series, office, participants=[tree.town, tree.other_town, tree.department])
