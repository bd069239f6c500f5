"""The meeting cycle's rules (meetings/services.py, pack.py): reports and their deadline,
who may record, carry out and confirm an action item, the pack's window between two
meetings of a series, and overdue items becoming accountability causes once."""

import io
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from epidispatch.accountability.models import Accountability, Cause
from epidispatch.accounts.models import Role
from epidispatch.inspection.models import ProblemState
from epidispatch.inspection.services import rectification_review, rectification_submit
from epidispatch.meetings import documents
from epidispatch.meetings.models import ActionItem, ItemState, WorkingGroup
from epidispatch.meetings.pack import meeting_pack
from epidispatch.meetings.services import (
    item_confirm,
    item_create,
    items_escalate,
    meeting_call_in,
    next_number,
    progress_post,
    report_submit,
)

from .fieldwork_fixtures import JPEG
from .inspection_fixtures import (
    inspect_with_problem,
    inspector,
    mall,
    mall_category,
    photo,
    team,
)
from .meetings_fixtures import *  # noqa: F403 - the fixtures
from .meetings_fixtures import hold
from .test_bulletins import add_dose, at

pytestmark = pytest.mark.django_db

__all__ = ["inspector", "mall", "mall_category", "team"]


def report_of(meeting, unit):
    return meeting.reports.get(unit=unit)


def file_report(report, by, at):
    return report_submit(
        report=report, progress="已完成90%", difficulties="", next_measures="入户", by=by, at=at
    )


# --- unit reports -------------------------------------------------------------------------


def test_each_participating_unit_is_asked_for_a_report_by_the_deadline(tree, meeting):
    reports = {r.unit.code: r for r in meeting.reports.all()}
    assert set(reports) == {tree.town.code, tree.other_town.code, tree.department.code}
    assert all(r.deadline == meeting.report_deadline for r in reports.values())


def test_a_report_after_its_deadline_is_flagged_late(tree, meeting, pingxiang, jichuan):
    deadline = meeting.report_deadline
    on_time = file_report(report_of(meeting, tree.town), pingxiang, deadline - timedelta(minutes=1))
    late = file_report(
        report_of(meeting, tree.other_town), jichuan, deadline + timedelta(minutes=1)
    )
    assert not on_time.late
    assert late.late
    pack = meeting_pack(meeting, now=deadline + timedelta(minutes=5))
    assert pack.reports_late == [late]
    assert [r.unit for r in pack.reports_missing] == [tree.department]
    assert {r.pk for r in pack.reports_received} == {on_time.pk, late.pk}


def test_a_report_not_filed_is_missing_only_once_its_deadline_passed(tree, meeting):
    report = report_of(meeting, tree.department)
    assert not report.missing(meeting.report_deadline - timedelta(seconds=1))
    assert report.missing(meeting.report_deadline + timedelta(seconds=1))


def test_only_the_unit_itself_files_its_report(tree, meeting, pingxiang, jichuan, office):
    report = report_of(meeting, tree.town)
    for stranger in (jichuan, office):
        with pytest.raises(PermissionDenied):
            file_report(report, stranger, timezone.now())


def test_a_report_needs_its_progress(tree, meeting, pingxiang):
    with pytest.raises(ValidationError):
        report_submit(
            report=report_of(meeting, tree.town),
            progress="  \x00 ",
            difficulties="",
            next_measures="",
            by=pingxiang,
        )


# --- meetings -----------------------------------------------------------------------------


def test_meetings_of_a_series_are_numbered_in_order(series, office, meeting):
    assert meeting.number == 1 and meeting.title == "第1次县疫苗接种工作调度会议"
    assert next_number(series) == 2
    assert hold(series, office, number=27).number == 27
    assert next_number(series) == 28


def test_a_number_already_held_is_refused(series, office, meeting):
    with pytest.raises(ValidationError) as refused:
        hold(series, office, number=1)
    assert "已存在" in " ".join(refused.value.messages)


def test_only_the_office_holds_a_meeting_and_only_with_its_own_units(
    tree, series, office, pingxiang, make_user
):
    with pytest.raises(PermissionDenied):
        hold(series, pingxiang)
    other_office = make_user(Role.DISPATCHER, tree.other_county)
    with pytest.raises(PermissionDenied):
        hold(series, other_office)
    with pytest.raises(ValidationError):
        hold(series, office, participants=[tree.far_town])


def test_reports_cannot_be_due_after_the_meeting(series, office):
    held = timezone.now()
    with pytest.raises(ValidationError):
        from epidispatch.meetings.services import meeting_create

        meeting_create(
            series=series, held_at=held, report_deadline=held + timedelta(hours=1), by=office
        )


# --- action items -------------------------------------------------------------------------


def morning_of(day: date) -> datetime:
    """09:00 local time on `day`: a moment that does not hang on the hour the test runs at
    (from 22:00 the fixture's meeting, two hours ahead, is already tomorrow's)."""
    return timezone.make_aware(datetime.combine(day, time(9)))


def decide(meeting, office, owner, days=3, **kw):
    """A decision of `meeting` due `days` after the meeting's day."""
    key = "owner_group" if isinstance(owner, WorkingGroup) else "owner_unit"
    return item_create(
        meeting=meeting,
        decision=kw.pop("decision", "逐户核查60岁以上未接种人员"),
        deadline=timezone.localtime(meeting.held_at).date() + timedelta(days=days),
        evidence_required="入户照片",
        by=office,
        **{key: owner},
        **kw,
    )


def test_decisions_are_numbered_within_their_meeting(tree, meeting, office):
    first = decide(meeting, office, tree.town)
    second = decide(meeting, office, tree.other_town)
    assert (first.number, second.number) == (1, 2)
    assert first.owner_path == tree.town.path


def test_an_item_assigned_outside_the_issuers_scope_is_refused(tree, meeting, office, make_user):
    with pytest.raises(ValidationError) as refused:
        decide(meeting, office, tree.far_town)
    assert refused.value.error_dict["owner"][0].code == "outside_scope"
    foreign_group = WorkingGroup.objects.create(unit=tree.other_county, name="疫苗接种组")
    with pytest.raises(ValidationError):
        decide(meeting, office, foreign_group)
    assert not ActionItem.objects.exists()


def test_an_office_below_cannot_assign_above_it(tree, make_user, series):
    """A city office holding a county's meeting is fine; a town official issuing is not."""
    city_office = make_user(Role.DISPATCHER, tree.city)
    meeting = hold(series, city_office)
    item = decide(meeting, city_office, tree.town)
    assert item.owner_unit == tree.town
    with pytest.raises(PermissionDenied):
        decide(meeting, make_user(Role.TOWN_OFFICIAL, tree.town), tree.town)


def test_an_owner_cannot_confirm_its_own_item(tree, meeting, office, pingxiang, vaccination_group):
    town_item = decide(meeting, office, tree.town)
    progress_post(item=town_item, note="已完成", by=pingxiang)
    with pytest.raises(PermissionDenied):
        item_confirm(item=town_item, by=pingxiang)
    # The office is itself a member of 疫苗接种组: it cannot close the group's item either.
    group_item = decide(meeting, office, vaccination_group)
    progress_post(item=group_item, note="需求已测算", by=office)
    with pytest.raises(PermissionDenied) as refused:
        item_confirm(item=group_item, by=office)
    assert "不能" in str(refused.value)
    assert ActionItem.objects.filter(state=ItemState.CLOSED).count() == 0


def test_the_issuing_office_confirms_an_item_after_the_owners_progress(
    tree, meeting, office, pingxiang
):
    item = decide(meeting, office, tree.town)
    with pytest.raises(ValidationError):
        item_confirm(item=item, by=office)  # nothing reported yet
    progress_post(item=item, note="已完成", by=pingxiang)
    closed = item_confirm(item=item, by=office)
    assert closed.state == ItemState.CLOSED and closed.closed_by == office
    with pytest.raises(ValidationError):
        item_confirm(item=item, by=office)
    with pytest.raises(ValidationError):
        progress_post(item=item, note="再报", by=pingxiang)


def test_only_the_owner_posts_progress(tree, meeting, office, jichuan):
    item = decide(meeting, office, tree.town)
    for stranger in (jichuan, office):
        with pytest.raises(PermissionDenied):
            progress_post(item=item, note="已完成", by=stranger)
    assert item.posts.count() == 0


def test_progress_carries_attachments_checked_by_their_bytes(tree, meeting, office, pingxiang):
    item = decide(meeting, office, tree.town)
    post = progress_post(
        item=item,
        note="台账已建立",
        attachments=[SimpleUploadedFile("入户.jpg", JPEG, content_type="image/jpeg")],
        by=pingxiang,
    )
    [attachment] = post.attachments.all()
    assert attachment.name == "入户.jpg" and attachment.content_type == "image/jpeg"
    assert default_storage.exists(attachment.file.name)
    item.refresh_from_db()
    assert item.state == ItemState.IN_PROGRESS
    with pytest.raises(ValidationError):
        progress_post(
            item=item,
            note="伪装的图片",
            attachments=[
                SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"),
                SimpleUploadedFile("b.jpg", b"<script>", content_type="image/jpeg"),
            ],
            by=pingxiang,
        )
    assert item.posts.count() == 1
    assert len(default_storage.listdir(attachment.file.name.rsplit("/", 1)[0])[1]) == 1


# --- overdue items ------------------------------------------------------------------------


def test_an_overdue_item_becomes_an_accountability_cause_once(tree, meeting, office, pingxiang):
    item = decide(meeting, office, tree.town, days=0)
    on_time = decide(meeting, office, tree.other_town, days=5)
    day_after = morning_of(item.deadline + timedelta(days=1))
    assert items_escalate(now=morning_of(item.deadline)) == []  # due that day: not yet overdue
    assert items_escalate(now=day_after) == [item]
    assert items_escalate(now=day_after + timedelta(days=1)) == []
    [case] = Accountability.objects.all()
    assert case.cause == Cause.ACTION_ITEM and case.cause_object == item
    assert case.unit == tree.town and "第1次" in case.summary
    item.refresh_from_db()
    item.escalated_at = None  # even a reset mark never makes a second case
    item.save()
    items_escalate(now=day_after)
    assert Accountability.objects.count() == 1
    assert not on_time.cases.exists()


def test_a_closed_item_is_never_escalated(tree, meeting, office, pingxiang):
    item = decide(meeting, office, tree.town, days=0)
    progress_post(item=item, note="已完成", by=pingxiang)
    item_confirm(item=item, by=office)
    assert items_escalate(now=timezone.now() + timedelta(days=3)) == []


def test_a_working_groups_overdue_item_is_filed_under_the_office(
    tree, meeting, office, vaccination_group
):
    item = decide(meeting, office, vaccination_group, days=0)
    items_escalate(now=morning_of(item.deadline + timedelta(days=1)))
    [case] = item.cases.all()
    assert case.unit == tree.county and case.persons == "疫苗接种组"


# --- the pack: exactly what changed since meeting N−1 ------------------------------------


@pytest.fixture
def two_cutoffs(tree, settings):
    """平襄镇 ahead at the first cutoff, 鸡川镇 overtaking it at the second (bottom N = 1)."""
    from epidispatch.dispatch.services import snapshot_take
    from epidispatch.figures.rollups import rollups_recount
    from epidispatch.registry.services import resident_create

    from .dose_files import id_number

    settings.EPIDISPATCH_BOTTOM_N = 1
    rollups_recount(day=date(2021, 8, 4))
    ping = [
        resident_create(name="甲", id_number=id_number(date(1980, 1, n)), grid=tree.grid)
        for n in (1, 2)
    ]
    ji = [
        resident_create(name="乙", id_number=id_number(date(1981, 1, n)), grid=tree.other_grid)
        for n in (1, 2)
    ]
    add_dose(ping[0], date(2021, 8, 5))
    first = snapshot_take(at=at(date(2021, 8, 5), 16))
    add_dose(ji[0], date(2021, 8, 6))
    add_dose(ji[1], date(2021, 8, 6))
    second = snapshot_take(at=at(date(2021, 8, 6), 16))
    return first, second


def test_the_pack_of_meeting_n_shows_exactly_the_changes_since_meeting_n_minus_1(
    tree, series, office, pingxiang, jichuan, mall, team, inspector, two_cutoffs
):
    first_cutoff, second_cutoff = two_cutoffs
    now = timezone.now()
    # Before meeting N−1: a problem found (still open, overdue by meeting N) and one found
    # that is rectified between the meetings; an item of an earlier meeting.
    old = inspect_with_problem(
        mall, inspector, done_at=now - timedelta(days=5), deadline=now - timedelta(days=1)
    ).problems.get()
    fixed = inspect_with_problem(
        mall, inspector, done_at=now - timedelta(days=5), deadline=now + timedelta(days=3)
    ).problems.get()
    earlier = hold(series, office, held_in=-timedelta(days=6), participants=[tree.town])
    stale = decide(earlier, office, tree.other_town, days=3, decision="旧事项")  # 3 days ago
    stale.issued_at = earlier.held_at
    stale.save()
    previous = hold(
        series,
        office,
        held_in=-timedelta(days=3),
        snapshot=first_cutoff,
        participants=[tree.town, tree.other_town],
    )
    # Between the meetings: an item of N−1 done and confirmed, one left open; a problem
    # found, one rectified; the overdue item escalated.
    done = decide(previous, office, tree.town, days=6, decision="建立台账")  # in 3 days
    done.issued_at = previous.held_at
    done.save()
    progress_post(item=done, note="已建立", by=pingxiang)
    item_confirm(item=done, by=office)
    pending = decide(previous, office, tree.other_town, days=6, decision="约谈滞后村社")
    pending.issued_at = previous.held_at
    pending.save()
    new = inspect_with_problem(
        mall, inspector, done_at=now - timedelta(days=1), deadline=now + timedelta(days=2)
    ).problems.get()
    rectification = rectification_submit(
        problem=fixed, note="已整改", evidence=[photo()], by=pingxiang
    )
    rectification_review(rectification=rectification, verify=True, by=inspector)
    [escalated] = items_escalate()
    meeting = hold(
        series,
        office,
        held_in=timedelta(hours=1),
        snapshot=second_cutoff,
        participants=[tree.town, tree.other_town],
    )
    decision = decide(meeting, office, tree.town, decision="本次会议决定")

    pack = meeting_pack(meeting)

    assert pack.previous == previous and pack.since == previous.held_at
    assert pack.problems_opened == [new]
    assert (
        pack.problems_closed == [fixed]
        and fixed.__class__.objects.get(pk=fixed.pk).state == ProblemState.VERIFIED
    )
    assert {p.pk for p in pack.problems_open} == {old.pk, new.pk}
    assert pack.problems_overdue == [old]
    assert pack.items_closed == [done]
    assert [i.pk for i in pack.items_open] == [stale.pk, pending.pk]
    assert pack.items_overdue == [stale] and escalated == stale
    assert [c.cause_object for c in pack.cases] == [stale]
    assert pack.decisions == [decision]
    towns = {row.unit_name: row for row in pack.rankings["towns:coverage"]}
    assert (towns["鸡川镇"].place, towns["鸡川镇"].previous_place, towns["鸡川镇"].moved) == (
        1,
        2,
        1,
    )
    assert (towns["平襄镇"].place, towns["平襄镇"].moved_text) == (2, "↓1")
    assert {r.unit_name for r in pack.bottom_entered} >= {"平襄镇"}
    assert "鸡川镇" in {r.unit_name for r in pack.bottom_left}
    assert pack.bulletin is not None and pack.bulletin.day == date(2021, 8, 6)


def test_the_first_meeting_of_a_series_reads_everything_up_to_it(
    tree, meeting, mall, team, inspector
):
    problem = inspect_with_problem(mall, inspector).problems.get()
    pack = meeting_pack(meeting)
    assert pack.previous is None and pack.since is None
    assert pack.problems_opened == [problem] and pack.rankings == {}


# --- documents ----------------------------------------------------------------------------


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_minutes_are_numbered_and_hold_decisions_owners_deadlines_and_pledges(
    tree, meeting, office, vaccination_group
):
    from epidispatch.accountability.services import (
        accountability_open,
        accountability_record_pledge,
    )

    decide(meeting, office, tree.town, decision="平襄镇逐户核查")
    decide(meeting, office, vaccination_group, decision="精准测算疫苗需求")
    case = accountability_open(
        unit=tree.other_town,
        kind="summons",
        summary="连续三天排名靠后",
        decision="约谈",
        persons="鸡川镇镇长",
        by=office,
    )
    accountability_record_pledge(case=case, pledge="三天内完成清零", deadline=None, by=office)
    meeting_call_in(meeting=meeting, cases=[case], by=office)
    text = docx_text(
        documents.minutes_docx(meeting, list(meeting.items.all()), list(meeting.summoned.all()))
    )
    year = timezone.localtime(meeting.held_at).year
    assert f"〔{year}〕第1号" in text
    assert "1. 平襄镇逐户核查" in text and "2. 精准测算疫苗需求" in text
    assert "责任单位：平襄镇" in text and "责任单位：疫苗接种组" in text
    assert "连续三天排名靠后" in text and "三天内完成清零" in text and "鸡川镇镇长" in text


def test_the_open_items_workbook_lists_each_open_item_once(tree, meeting, office, pingxiang):
    first = decide(meeting, office, tree.town, decision='=HYPERLINK("x")')
    decide(meeting, office, tree.other_town)
    progress_post(item=first, note="推进中", by=pingxiang)
    data = documents.items_xlsx(list(ActionItem.objects.all()), {first.pk: "推进中"})
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "来源会议", "督办事项", "责任单位")
    assert len(rows) == 3
    assert rows[1][2].startswith("'=")  # a formula stays text
    assert rows[1][-1] == "推进中"
