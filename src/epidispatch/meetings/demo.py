"""Meetings of the demo county: the command structure's working groups (一办十一组), the
leaders in charge of the towns (包联), the dispatch meetings 第25–27次 on the last cutoffs
with reports, decisions and their progress (one item overdue and escalated), and the
leading group's enlarged meeting tomorrow, whose reports the towns still have to file."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.dispatch.models import Snapshot
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import LeaderResponsibility, MeetingKind, MeetingSeries, WorkingGroup
from .services import (
    item_confirm,
    item_create,
    items_escalate,
    meeting_create,
    progress_post,
    report_submit,
)

COUNTY = "621121"
#: 一办十一组, with the demo accounts that are members of each.
WORKING_GROUPS = [
    ("综合协调办公室", ()),
    ("疫苗接种组", ("supply",)),
    ("核酸检测组", ("screening",)),
    ("流调溯源组", ()),
    ("隔离管控组", ("control",)),
    ("医疗救治组", ()),
    ("社区防控组", ()),
    ("物资保障组", ()),
    ("宣传舆情组", ()),
    ("督导检查组", ("inspector",)),
    ("交通管控组", ()),
    ("后勤保障组", ()),
]
#: (leader, title, town segments) — 包乡镇分管领导.
LEADERS = [
    ("王建军", "县委常委、常务副县长", ("100", "101", "102")),
    ("李文华", "副县长", ("103", "104", "105")),
    ("张志平", "县人大常委会副主任", ("106", "107", "108")),
    ("刘海涛", "县政协副主席", ("109", "110", "111")),
    ("陈玉梅", "县委常委、宣传部部长", ("112", "113", "114", "115", "116", "117")),
]
SERIES = "县新冠病毒疫苗接种工作调度会议"
LEADING_GROUP = "县新冠肺炎疫情防控工作领导小组（扩大）会议"
MAIN_VENUE = "县政府四楼会议室"
SUB_VENUES = "各乡镇视频会议室\n县直各部门"


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@transaction.atomic
def load_meetings() -> int:
    """Add the demo's meetings, once; returns the meetings added."""
    county = OrgUnit.objects.filter(code=COUNTY).first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    snapshots = list(Snapshot.objects.order_by("-day")[:7])
    if county is None or dispatcher is None or len(snapshots) < 7:
        return 0
    if MeetingSeries.objects.filter(unit=county, name=SERIES).exists():
        return 0
    users = {user.username: user for user in User.objects.all()}
    for position, (name, members) in enumerate(WORKING_GROUPS):
        group, _created = WorkingGroup.objects.get_or_create(
            unit=county, name=name, defaults={"position": position}
        )
        group.members.add(*(users[m] for m in members if m in users))
    towns = {
        unit.code[6:9]: unit for unit in OrgUnit.objects.filter(kind=UnitKind.TOWN, parent=county)
    }
    for leader, title, segments in LEADERS:
        for segment in segments:
            if segment in towns:
                LeaderResponsibility.objects.get_or_create(
                    town=towns[segment], leader_name=leader, defaults={"leader_title": title}
                )
    participants = list(
        OrgUnit.objects.filter(parent=county, kind__in=(UnitKind.TOWN, UnitKind.DEPARTMENT))
    )
    series = MeetingSeries.objects.create(unit=county, name=SERIES, kind=MeetingKind.DISPATCH)
    groups = {group.name: group for group in WorkingGroup.objects.filter(unit=county)}
    pingxiang, jichuan = towns["100"], towns["102"]
    post = OrgUnit.objects.get(code=f"{COUNTY}980001")
    town_users = {pingxiang.pk: users.get("town_pingxiang"), jichuan.pk: users.get("town_jichuan")}

    meetings = []
    for number, snapshot in ((25, snapshots[6]), (26, snapshots[3]), (27, snapshots[0])):
        held = _at(snapshot.day, 17, 30)
        meeting = meeting_create(
            series=series,
            number=number,
            held_at=held,
            report_deadline=held - timedelta(hours=2),
            snapshot=snapshot,
            chair="县委副书记、县长 赵宏亮",
            main_venue=MAIN_VENUE,
            sub_venues=SUB_VENUES,
            participants=participants,
            by=dispatcher,
        )
        meetings.append(meeting)
        for report in meeting.reports.filter(unit__in=[pingxiang, jichuan]):
            late = report.unit_id == jichuan.pk and number == 27
            report_submit(
                report=report,
                progress="截至16:00，累计接种第一剂次较上次会议增加，60岁以上人群逐村逐户摸排。",
                difficulties="外出务工人员多，部分老人有顾虑。",
                next_measures="网格员入户见人见面见码，对外出人员电话联系获取接种凭证。",
                by=town_users[report.unit_id],
                at=report.deadline + (timedelta(minutes=40) if late else -timedelta(hours=1)),
            )
    today = timezone.localdate()
    m26, m27 = meetings[1], meetings[2]
    # 第26次: one item done and confirmed, one left undone past its deadline (escalated
    # the night after it, so 第27次's pack lists it and its case).
    day26 = timezone.localtime(m26.held_at).date()
    done = item_create(
        meeting=m26,
        decision="平襄镇对北关社区60岁以上未接种人员逐户核查，建立清零台账。",
        owner_unit=pingxiang,
        deadline=day26 + timedelta(days=2),
        evidence_required="清零台账、入户照片",
        by=dispatcher,
        at=m26.held_at,
    )
    progress_post(
        item=done,
        note="已完成逐户核查，台账已建立。",
        by=town_users[pingxiang.pk],
        at=m26.held_at + timedelta(days=1),
    )
    item_confirm(item=done, by=dispatcher, at=m26.held_at + timedelta(days=1, hours=2))
    late = item_create(
        meeting=m26,
        decision="鸡川镇对第一针已近56天的人员及时接种第二针，做到应接尽接。",
        owner_unit=jichuan,
        deadline=day26 + timedelta(days=1),
        evidence_required="第二针接种名单",
        by=dispatcher,
        at=m26.held_at,
    )
    items_escalate(now=_at(late.deadline + timedelta(days=1), 0, 5))
    # 第27次: what is being carried out now.
    for decision, owner, days, evidence in (
        (
            "各乡镇前一天晚上八点前下发接种任务，当天下班前统计当日和累计接种情况。",
            {"owner_unit": pingxiang},
            3,
            "每日统计表",
        ),
        ("鸡川镇约谈滞后村社，逐村明确任务清单。", {"owner_unit": jichuan}, 2, "约谈记录"),
        ("县邮政公司组织干部职工包抓网格，开展二码联查。", {"owner_unit": post}, 5, "包抓名单"),
        (
            "疫苗接种组精准测算疫苗使用需求，确保接种快、供应足。",
            {"owner_group": groups["疫苗接种组"]},
            4,
            "需求测算表",
        ),
    ):
        item_create(
            meeting=m27,
            decision=decision,
            deadline=today + timedelta(days=days),
            evidence_required=evidence,
            by=dispatcher,
            **owner,
            at=m27.held_at,
        )
    # The leading group meets tomorrow: the towns' reports are due.
    leading = MeetingSeries.objects.create(
        unit=county, name=LEADING_GROUP, kind=MeetingKind.LEADING_GROUP
    )
    held = _at(today + timedelta(days=1), 9, 0)
    meeting_create(
        series=leading,
        number=5,
        held_at=held,
        report_deadline=held - timedelta(hours=2),
        snapshot=snapshots[0],
        chair="县委书记 牛建华",
        main_venue=MAIN_VENUE,
        sub_venues=SUB_VENUES,
        participants=[unit for unit in participants if unit.kind == UnitKind.TOWN],
        by=dispatcher,
    )
    return 4
