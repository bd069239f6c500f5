"""Opening meetings and recording their decisions over the API (issue 28), through the same
services as the pages: the office numbers the meeting (第N次) and asks its units for
reports, records decisions as supervised items, and alone confirms them closed once the
owner has reported progress. Each write leaves its audit trail; a town can do none of it,
and an office cannot reach outside its county."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import Change
from epidispatch.meetings.models import (
    ActionItem,
    Attachment,
    ItemState,
    Meeting,
    MeetingKind,
    MeetingSeries,
    ProgressPost,
)
from epidispatch.meetings.services import item_create, progress_post

from .fieldwork_fixtures import JPEG
from .inspection_fixtures import photo
from .meetings_fixtures import *  # noqa: F403 - the fixtures

pytestmark = pytest.mark.django_db

URL = "/api/v1/meetings"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='meetings')[1]}"}


def opening(series, **fields) -> dict:
    held = timezone.now() + timedelta(days=1)
    return {
        "series": series.pk,
        "held_at": held.isoformat(),
        "report_deadline": (held - timedelta(hours=2)).isoformat(),
        "chair": "县长",
        **fields,
    }


def test_the_office_opens_the_next_meeting_and_asks_its_units_for_reports(
    tree, client, office, series
):
    headers = bearer(office)
    assert client.get(f"{URL}/series", headers=headers).json() == [
        {"id": series.pk, "name": series.name, "unit": tree.county.code, "kind": "dispatch"}
    ]
    body = opening(series, participants=[tree.town.code, tree.other_town.code])
    response = client.post(f"{URL}/meetings", body, "application/json", headers=headers)
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 1 and response.json()["chair"] == "县长"
    meeting = Meeting.objects.get(pk=response.json()["id"])
    assert {r.unit for r in meeting.reports.all()} == {tree.town, tree.other_town}
    assert Change.objects.filter(content_type__model="meeting", object_pk=str(meeting.pk)).exists()
    again = client.post(f"{URL}/meetings", opening(series), "application/json", headers=headers)
    assert again.status_code == 201 and again.json()["number"] == 2
    # Left out, the participants are every town, street and department of the office.
    second = Meeting.objects.get(pk=again.json()["id"])
    assert {r.unit.code for r in second.reports.all()} == {
        tree.town.code,
        tree.other_town.code,
        tree.department.code,
    }


def test_a_meeting_is_refused_to_a_town_outside_the_office_or_with_a_late_deadline(
    tree, client, office, pingxiang, series
):
    town = bearer(pingxiang)
    response = client.post(f"{URL}/meetings", opening(series), "application/json", headers=town)
    assert response.status_code == 403 and response.json()["detail"]
    far = MeetingSeries.objects.create(
        unit=tree.other_county, name="陇西县调度会议", kind=MeetingKind.DISPATCH
    )
    headers = bearer(office)
    response = client.post(f"{URL}/meetings", opening(far), "application/json", headers=headers)
    assert response.status_code == 404
    body = opening(series, participants=[tree.far_town.code])
    response = client.post(f"{URL}/meetings", body, "application/json", headers=headers)
    assert response.status_code == 422 and tree.far_town.code in response.json()["detail"]
    held = timezone.now() + timedelta(days=1)
    late = opening(series, report_deadline=(held + timedelta(hours=1)).isoformat())
    late["held_at"] = held.isoformat()
    response = client.post(f"{URL}/meetings", late, "application/json", headers=headers)
    assert response.status_code == 422
    assert not Meeting.objects.exists()


def test_decisions_become_items_that_only_the_issuing_office_confirms_closed(
    tree, client, office, pingxiang, meeting
):
    headers = bearer(office)
    body = {
        "decision": "加快60岁以上老年人接种",
        "deadline": str(timezone.localdate() + timedelta(days=7)),
        "owner_unit": tree.town.code,
        "evidence_required": "入户照片",
    }
    response = client.post(
        f"{URL}/meetings/{meeting.pk}/items", body, "application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    item = ActionItem.objects.get(pk=response.json()["id"])
    assert (item.number, item.owner_unit, item.issued_by) == (1, tree.town, office)
    assert Change.objects.filter(content_type__model="actionitem", object_pk=str(item.pk)).exists()
    town = bearer(pingxiang)
    # The town owns the item; it neither records decisions nor confirms its own item.
    response = client.post(
        f"{URL}/meetings/{meeting.pk}/items", body, "application/json", headers=town
    )
    assert response.status_code == 403
    assert client.post(f"{URL}/items/{item.pk}/confirm", headers=town).status_code == 403
    # The office confirms once the owner reported progress.
    assert client.post(f"{URL}/items/{item.pk}/confirm", headers=headers).status_code == 422
    progress_post(item=item, note="已完成入户动员", by=pingxiang)
    response = client.post(f"{URL}/items/{item.pk}/confirm", headers=headers)
    assert response.status_code == 200 and response.json()["state"] == ItemState.CLOSED


def test_an_item_owner_outside_the_office_or_a_meeting_of_another_county_is_refused(
    tree, client, office, meeting, make_user, series
):
    headers = bearer(office)
    body = {
        "decision": "加快接种",
        "deadline": str(timezone.localdate() + timedelta(days=7)),
        "owner_unit": tree.far_town.code,
    }
    response = client.post(
        f"{URL}/meetings/{meeting.pk}/items", body, "application/json", headers=headers
    )
    assert response.status_code == 422 and response.json()["detail"]
    far_office = bearer(make_user(Role.DISPATCHER, tree.other_county))
    body["owner_unit"] = tree.far_town.code
    response = client.post(
        f"{URL}/meetings/{meeting.pk}/items", body, "application/json", headers=far_office
    )
    assert response.status_code == 404
    response = client.post(f"{URL}/meetings", opening(series), "application/json",
                           headers=far_office)  # fmt: skip
    assert response.status_code == 404
    assert not ActionItem.objects.exists()


def test_an_items_progress_lists_its_files_which_its_readers_fetch_and_no_other_town(
    tree, client, office, meeting, pingxiang, jichuan
):
    item = item_create(
        meeting=meeting, decision="加快老年人接种", owner_unit=tree.town, by=office,
        deadline=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    body = {"note": "已入户动员", "attachments": photo()}
    posted = client.post(f"{URL}/items/{item.pk}/progress", body, headers=bearer(pingxiang))
    assert posted.status_code == 201 and posted.json()["attachments"] == 1

    office_headers = bearer(office)
    [post] = client.get(f"{URL}/items/{item.pk}/progress", headers=office_headers).json()
    [attachment] = post["attachments"]
    assert (post["note"], attachment["name"], attachment["content_type"]) == (
        "已入户动员",
        "现场.jpg",
        "image/jpeg",
    )
    file = client.get(f"{URL}/attachments/{attachment['id']}", headers=office_headers)
    assert file.status_code == 200 and file["Content-Type"] == "image/jpeg"
    assert file["X-Content-Type-Options"] == "nosniff"
    assert b"".join(file.streaming_content) == JPEG

    other = bearer(jichuan)
    assert client.get(f"{URL}/attachments/{attachment['id']}", headers=other).status_code == 404
    assert client.get(f"{URL}/items/{item.pk}/progress", headers=other).status_code == 404
    forged = {"note": "代报", "attachments": photo()}
    refused = client.post(f"{URL}/items/{item.pk}/progress", forged, headers=other)
    assert refused.status_code == 404
    assert (ProgressPost.objects.count(), Attachment.objects.count()) == (1, 1)


def test_an_items_progress_list_runs_as_many_queries_for_one_post_as_for_four(
    tree, client, office, meeting, pingxiang
):
    item = item_create(
        meeting=meeting, decision="加快老年人接种", owner_unit=tree.town, by=office,
        deadline=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    headers = bearer(office)
    # The token's first use stamps it (one more statement); count from the second.
    assert client.get(f"{URL}/items/{item.pk}/progress", headers=headers).json() == []
    counts = []
    for posts in (1, 3):
        for _n in range(posts):
            progress_post(item=item, note="进展", attachments=[photo(), photo()], by=pingxiang)
        with CaptureQueriesContext(connection) as queries:
            listed = client.get(f"{URL}/items/{item.pk}/progress", headers=headers).json()
        assert sum(len(post["attachments"]) for post in listed) == 2 * len(listed)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6, counts
