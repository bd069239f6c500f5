"""The demo county holds 第25–27次 dispatch meetings and tomorrow's leading group meeting:
the dispatcher reads 第27次's pack with an overdue item and its case, the towns find the
report due and the items to carry out on their start page."""

import pytest

from epidispatch.accounts.models import User
from epidispatch.demo import generator
from epidispatch.dispatch.models import Snapshot
from epidispatch.meetings.demo import load_meetings
from epidispatch.meetings.models import ItemState, Meeting
from epidispatch.meetings.pack import meeting_pack

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def test_the_demo_holds_meeting_27_on_the_last_cutoff_with_its_pack_and_work(client):
    generator.load_units()
    generator.load_users()
    generator.load_residents(80)
    generator.load_doses()
    generator.load_dispatch()
    assert load_meetings() == 4
    assert load_meetings() == 0
    meeting = Meeting.objects.get(number=27)
    assert meeting.title == "第27次县新冠病毒疫苗接种工作调度会议"
    assert meeting.snapshot == Snapshot.objects.latest()
    pack = meeting_pack(meeting)
    assert pack.previous.number == 26
    [overdue] = pack.items_overdue
    assert overdue.owner_unit.name == "鸡川镇" and overdue.state == ItemState.OPEN
    assert [case.cause_object for case in pack.cases if case.cause == "action_item"] == [overdue]
    assert [item.owner_name for item in pack.items_closed] == ["平襄镇"]
    assert len(pack.reports_late) == 1 and len(pack.decisions) == 4
    assert pack.rankings["towns:coverage"] and pack.leaders

    client.force_login(User.objects.get(username="town_pingxiang"))
    home = client.get("/").content.decode()
    assert "第5次县新冠肺炎疫情防控工作领导小组（扩大）会议" in home
    assert "各乡镇前一天晚上八点前下发接种任务" in home
    client.force_login(User.objects.get(username="supply"))
    assert "精准测算疫苗使用需求" in client.get("/").content.decode()
