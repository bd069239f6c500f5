"""Meetings pages and API (meetings/views.py, api.py): who opens what, cross-scope reads
refused through the page, the download and the API alike, the start page's lists, and
query counts pinned at two sizes."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from docx import Document

from epidispatch.accounts.models import Role
from epidispatch.meetings.models import ActionItem, ItemState, LeaderResponsibility
from epidispatch.meetings.services import item_create, progress_post, report_submit

from .fieldwork_fixtures import JPEG
from .meetings_fixtures import *  # noqa: F403 - the fixtures
from .meetings_fixtures import hold

pytestmark = pytest.mark.django_db


def decide(meeting, office, unit, decision="逐户核查", days=3):
    return item_create(
        meeting=meeting,
        decision=decision,
        owner_unit=unit,
        deadline=timezone.localdate() + timedelta(days=days),
        by=office,
    )


@pytest.fixture
def items(tree, meeting, office):
    return decide(meeting, office, tree.town, "平襄镇事项"), decide(
        meeting, office, tree.other_town, "鸡川镇事项"
    )


def test_the_office_walks_every_meetings_page(client, tree, meeting, office, items, pingxiang):
    progress_post(
        item=items[0],
        note="已完成",
        attachments=[SimpleUploadedFile("照片.jpg", JPEG, content_type="image/jpeg")],
        by=pingxiang,
    )
    LeaderResponsibility.objects.create(town=tree.town, leader_name="王建军", leader_title="副县长")
    client.force_login(office)
    attachment = items[0].posts.get().attachments.get()
    for url in (
        "/meetings/",
        "/meetings/new/",
        f"/meetings/{meeting.pk}/",
        f"/meetings/{meeting.pk}/pack/",
        "/meetings/items/",
        "/meetings/items/?state=all",
        f"/meetings/items/{items[0].pk}/",
        f"/meetings/reports/{meeting.reports.first().pk}/",
        "/meetings/responsibility/",
        f"/meetings/attachments/{attachment.pk}/",
    ):
        assert client.get(url).status_code == 200, url
    assert "王建军" in client.get("/meetings/responsibility/").content.decode()
    for url, kind in (
        (f"/meetings/{meeting.pk}/pack.docx", "wordprocessingml"),
        (f"/meetings/{meeting.pk}/minutes.docx", "wordprocessingml"),
        ("/meetings/items/open.xlsx", "spreadsheetml"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and kind in response["Content-Type"], url


def test_the_office_opens_the_next_meeting_on_a_form(client, tree, series, office, meeting):
    client.force_login(office)
    form = client.get("/meetings/new/").context["form"]
    assert form.initial["number"] == 2
    held = timezone.localtime() + timedelta(hours=3)
    response = client.post(
        "/meetings/new/",
        {
            "series": series.pk,
            "number": "",
            "held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "report_deadline": (held - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "chair": "县长",
            "main_venue": "县政府四楼会议室",
            "sub_venues": "各乡镇视频会议室\n县直各部门",
            "participants": [tree.town.pk],
        },
    )
    created = series.meetings.get(number=2)
    assert response.status_code == 302 and response["Location"] == f"/meetings/{created.pk}/"
    assert created.sub_venue_list == ["各乡镇视频会议室", "县直各部门"]
    again = client.post("/meetings/new/", {"series": series.pk, "number": "2", "held_at": "x"})
    assert again.status_code == 200 and again.context["form"].errors


def test_a_decision_is_recorded_on_the_meeting_page_and_a_foreign_owner_refused(
    client, tree, meeting, office
):
    client.force_login(office)
    deadline = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(
        f"/meetings/{meeting.pk}/decisions/",
        {"decision": "约谈滞后村社", "owner": f"unit:{tree.other_town.pk}", "deadline": deadline},
    )
    assert response.status_code == 302
    assert ActionItem.objects.get().owner_unit == tree.other_town
    client.post(
        f"/meetings/{meeting.pk}/decisions/",
        {"decision": "越权", "owner": f"unit:{tree.far_town.pk}", "deadline": deadline},
    )
    assert ActionItem.objects.count() == 1


def test_a_town_files_its_report_on_its_phone_and_is_flagged_late_after_the_deadline(
    client, tree, meeting, pingxiang
):
    report = meeting.reports.get(unit=tree.town)
    client.force_login(pingxiang)
    response = client.post(
        f"/meetings/reports/{report.pk}/",
        {"progress": "累计接种率95%", "difficulties": "", "next_measures": "入户"},
        follow=True,
    )
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.submitted_by == pingxiang and not report.late
    report_submit(
        report=report,
        progress="补报",
        difficulties="",
        next_measures="",
        by=pingxiang,
        at=report.deadline + timedelta(minutes=5),
    )
    client.force_login(pingxiang)
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'class="badge late"' in page


def test_a_town_sees_its_own_report_and_items_and_nothing_of_another_town(
    client, tree, meeting, office, items, pingxiang, jichuan
):
    mine, theirs = items
    other_report = meeting.reports.get(unit=tree.town)
    client.force_login(jichuan)
    assert client.get(f"/meetings/{meeting.pk}/").status_code == 200
    assert client.get(f"/meetings/reports/{other_report.pk}/").status_code == 404
    assert client.get(f"/meetings/items/{mine.pk}/").status_code == 404
    assert client.get(f"/meetings/items/{theirs.pk}/").status_code == 200
    # The pack and the minutes are the office's and leaders'.
    assert client.get(f"/meetings/{meeting.pk}/pack/").status_code == 403
    assert client.get(f"/meetings/{meeting.pk}/minutes.docx").status_code == 403
    assert client.get(f"/api/v1/meetings/meetings/{meeting.pk}/pack").status_code == 403
    listed = client.get("/api/v1/meetings/items").json()
    assert [row["id"] for row in listed] == [theirs.pk]
    assert client.get(f"/api/v1/meetings/items/{mine.pk}").status_code == 404
    answer = client.post(
        f"/api/v1/meetings/reports/{other_report.pk}",
        {"progress": "冒名汇报"},
        content_type="application/json",
    )
    assert answer.status_code == 404
    post = progress_post(
        item=mine,
        note="内部照片",
        attachments=[SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg")],
        by=pingxiang,
    )
    assert client.get(f"/meetings/attachments/{post.attachments.get().pk}/").status_code == 404


def test_an_attachment_is_downloaded_under_its_chinese_name_a_photo_shown_never_sniffed(
    client, items, office, pingxiang
):
    post = progress_post(
        item=items[0],
        note="台账和照片",
        attachments=[
            SimpleUploadedFile("入户台账.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
            SimpleUploadedFile("现场.jpg", JPEG, content_type="image/jpeg"),
        ],
        by=pingxiang,
    )
    ledger = post.attachments.get(name="入户台账.pdf")
    scene = post.attachments.get(name="现场.jpg")
    client.force_login(office)
    pdf = client.get(f"/meetings/attachments/{ledger.pk}/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%85%A5%E6%88%B7%E5%8F%B0%E8%B4%A6.pdf"
    )
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert b"".join(pdf.streaming_content) == b"%PDF-1.4 x"
    photo = client.get(f"/meetings/attachments/{scene.pk}/")
    assert photo["Content-Type"] == "image/jpeg"
    assert photo["Content-Disposition"] == "inline; filename*=utf-8''%E7%8E%B0%E5%9C%BA.jpg"
    assert photo["X-Content-Type-Options"] == "nosniff"
    scene.file.delete(save=False)
    assert client.get(f"/meetings/attachments/{scene.pk}/").status_code == 404


def test_the_open_items_workbook_holds_only_the_users_items(client, items, jichuan):
    from openpyxl import load_workbook

    client.force_login(jichuan)
    rows = list(
        load_workbook(io.BytesIO(client.get("/meetings/items/open.xlsx").content)).active.values
    )
    assert [row[2] for row in rows[1:]] == ["鸡川镇事项"]


def test_a_unit_of_another_county_sees_no_meeting(client, tree, meeting, make_user):
    far = make_user(Role.TOWN_OFFICIAL, tree.far_town)
    client.force_login(far)
    assert client.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert client.get("/api/v1/meetings/meetings").json() == []


def test_a_grid_worker_has_no_meetings_module(client, tree, make_user, meeting):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    client.force_login(worker)
    assert client.get("/meetings/").status_code == 403
    assert "/meetings/" not in client.get("/").content.decode()


def test_a_working_group_member_has_the_module_at_no_extra_query(
    client, tree, make_user, meeting, vaccination_group, django_assert_num_queries
):
    """The menu asks whether the user belongs to a working group; the answer rides in the
    query that reads the roles, so a member's page costs what a non-member's does."""
    member, other = make_user(Role.GRID_WORKER, tree.grid), make_user(Role.GRID_WORKER, tree.grid)
    vaccination_group.members.add(member)
    counts = []
    for user in (member, other):
        client.force_login(user)
        client.get("/field/checkpoint/")
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/field/checkpoint/").content.decode()
        counts.append(len(queries.captured_queries))
        assert ('href="/meetings/"' in page) is (user == member)
        assert not any(
            "meetings_workinggroup" in q["sql"] for q in queries if "UNION" not in q["sql"]
        )
    assert counts[0] == counts[1]
    client.force_login(member)
    assert client.get("/meetings/").status_code == 200
    client.force_login(other)
    assert client.get("/meetings/").status_code == 403


def test_the_owner_posts_progress_and_the_office_confirms_through_the_api(
    client, tree, meeting, office, items, pingxiang
):
    mine = items[0]
    client.force_login(pingxiang)
    response = client.post(
        f"/api/v1/meetings/items/{mine.pk}/progress",
        {"note": "已完成", "attachments": [SimpleUploadedFile("a.jpg", JPEG)]},
    )
    assert response.status_code == 201 and response.json()["attachments"] == 1
    assert client.post(f"/api/v1/meetings/items/{mine.pk}/confirm").status_code == 403
    client.force_login(office)
    confirmed = client.post(f"/api/v1/meetings/items/{mine.pk}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == ItemState.CLOSED
    assert client.post(f"/api/v1/meetings/items/{mine.pk}/confirm").status_code == 422
    pack = client.get(f"/api/v1/meetings/meetings/{meeting.pk}/pack").json()
    assert pack["decisions"] == 2 and pack["reports"] == 3


def test_the_owner_posts_progress_on_the_page_and_the_office_confirms_it(
    client, tree, meeting, office, items, pingxiang
):
    mine = items[0]
    client.force_login(pingxiang)
    page = client.get(f"/meetings/items/{mine.pk}/").content.decode()
    assert 'data-form="progress"' in page and f"/meetings/items/{mine.pk}/confirm/" not in page
    client.post(
        f"/meetings/items/{mine.pk}/",
        {"note": "台账已建立", "attachments": [SimpleUploadedFile("台账.pdf", b"%PDF-1.4 x")]},
    )
    assert mine.posts.get().attachments.get().content_type == "application/pdf"
    assert client.post(f"/meetings/items/{mine.pk}/confirm/").status_code == 403
    client.force_login(office)
    client.post(f"/meetings/items/{mine.pk}/confirm/")
    mine.refresh_from_db()
    assert mine.state == ItemState.CLOSED


def test_hostile_input_never_fails_the_pages(client, tree, meeting, office, items, pingxiang):
    client.force_login(pingxiang)
    item = items[0]
    for data in (
        {"note": ""},
        {"note": "x" * 5000},
        {"note": "ok", "attachments": [SimpleUploadedFile("a.docx", b"not a zip")]},
    ):
        assert client.post(f"/meetings/items/{item.pk}/", data).status_code == 200
    assert item.posts.count() == 0
    client.force_login(office)
    for owner in ("unit:999999", "group:1", "nonsense", ""):
        response = client.post(
            f"/meetings/{meeting.pk}/decisions/",
            {"decision": "x", "owner": owner, "deadline": "2099-01-01"},
        )
        assert response.status_code == 302
    assert client.get("/meetings/items/?state=<script>&page=x").status_code == 200
    assert client.get("/meetings/99999999999999999999/").status_code == 404
    assert client.get("/api/v1/meetings/items/99999999999999999999").status_code == 422


def test_the_start_page_lists_due_reports_and_open_items(
    client, tree, meeting, office, items, pingxiang
):
    client.force_login(pingxiang)
    html = client.get("/").content.decode()
    report = meeting.reports.get(unit=tree.town)
    assert f"/meetings/reports/{report.pk}/" in html
    assert f"/meetings/items/{items[0].pk}/" in html
    assert f"/meetings/items/{items[1].pk}/" not in html
    client.force_login(office)
    html = client.get("/").content.decode()
    assert f"/meetings/items/{items[1].pk}/" in html


def _more(tree, series, office, count):
    for _ in range(count):
        meeting = hold(series, office, participants=[tree.town, tree.other_town])
        for unit in (tree.town, tree.other_town):
            decide(meeting, office, unit)


def test_pages_keep_their_number_of_queries_at_two_sizes(
    client, tree, series, office, pingxiang, django_assert_num_queries
):
    _more(tree, series, office, 1)
    meeting = series.meetings.get()
    counts = {
        "/meetings/": 7,
        "/meetings/items/": 5,
        f"/meetings/{meeting.pk}/": 12,
        f"/meetings/{meeting.pk}/pack/": 14,
        "/api/v1/meetings/items": 4,
        "/api/v1/meetings/meetings": 4,
        "/api/v1/meetings/reports": 4,
        "/": 9,
    }
    users = {"/": pingxiang}
    measured = {}
    for url in counts:
        client.force_login(users.get(url, office))
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        measured[url] = len(captured.captured_queries)
    _more(tree, series, office, 6)
    for url in counts:
        client.force_login(users.get(url, office))
        with django_assert_num_queries(measured[url]):
            response = client.get(url)
        assert response.status_code == 200, url
    assert measured == counts


def test_the_pack_docx_holds_the_sections_of_the_meeting(client, tree, meeting, office, items):
    client.force_login(office)
    data = client.get(f"/meetings/{meeting.pk}/pack.docx").content
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in ("工作进展及排名情况", "督导检查发现问题", "督办事项落实情况", "各单位汇报情况"):
        assert heading in text


def test_meeting_writes_go_to_the_audit_trail_with_who_and_the_unit(
    client, tree, meeting, office, pingxiang
):
    from epidispatch.audit.models import Change

    client.force_login(office)
    client.post(
        f"/meetings/{meeting.pk}/decisions/",
        {
            "decision": "逐户核查",
            "owner": f"unit:{tree.town.pk}",
            "deadline": (timezone.localdate() + timedelta(days=2)).isoformat(),
        },
    )
    created = Change.objects.get(content_type__model="actionitem", action=Change.Action.CREATE)
    assert created.actor == office and created.unit_path == tree.town.path
    item = ActionItem.objects.get()
    client.force_login(pingxiang)
    client.post(f"/meetings/items/{item.pk}/", {"note": "已完成"})
    client.force_login(office)
    client.post(f"/meetings/items/{item.pk}/confirm/")
    closed = Change.objects.filter(
        content_type__model="actionitem", action=Change.Action.UPDATE
    ).latest("timestamp")
    assert closed.actor == office and closed.changes["state"][1] == ItemState.CLOSED
    assert Change.objects.filter(content_type__model="progresspost", actor=pingxiang).exists()
    report = meeting.reports.get(unit=tree.town)
    client.force_login(pingxiang)
    client.post(f"/meetings/reports/{report.pk}/", {"progress": "进展", "next_measures": "入户"})
    assert Change.objects.filter(
        content_type__model="unitreport", actor=pingxiang, unit_path=tree.town.path
    ).exists()
