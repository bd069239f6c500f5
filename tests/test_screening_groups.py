"""Periodic testing of key groups (重点人群定期检测, issue 22): groups tested every N days,
their members from the page, the API and a file, and who is due or overdue from their
last negative sample; every read scoped."""

from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.screening.imports import GROUP_MEMBERS
from epidispatch.screening.models import GroupMember, Tube
from epidispatch.screening.selectors import (
    group_member_for_user,
    group_member_rows,
    groups_figures,
)
from epidispatch.screening.services import (
    group_create,
    group_member_add,
    group_member_remove,
    round_create,
    sample_collect,
    tube_result_record,
)

from .dose_files import write_table
from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import person

pytestmark = pytest.mark.django_db

#: The day the figures are asked for, and the group's frequency.
AS_OF = date(2022, 4, 4)
EVERY = 3
#: Members: letter → (ID sequence of the population fixture, joined on).
MEMBERS = {
    "A": (1, date(2022, 3, 1)),
    "B": (2, date(2022, 3, 1)),
    "C": (3, date(2022, 3, 1)),
    "D": (4, date(2022, 4, 1)),
    "E": (21, date(2022, 3, 1)),
    "F": (31, AS_OF),
    "G": (5, date(2022, 4, 1)),
    "H": (22, date(2022, 4, 1)),
}
#: Samples: (day, tube barcode, capacity, result or None, members).
SAMPLES = [
    (date(2022, 3, 31), "N1", 5, "negative", ["B", "E"]),
    (date(2022, 4, 1), "N2", 5, "negative", ["C"]),
    (date(2022, 4, 2), "N3", 5, "negative", ["A"]),
    (date(2022, 4, 3), "P1", 5, None, ["E"]),
    (date(2022, 4, 3), "P2", 5, "positive", ["H"]),
]
#: Counted by hand, on AS_OF with tests every 3 days:
#: A last negative 04-02, due 04-05: current. B 03-31, due 04-03: overdue. C 04-01, due
#: 04-04: due. D joined 04-01, never tested: overdue. E 03-31, due 04-03, but sampled
#: 04-03 with no result yet: awaiting. F joined 04-04: due. G left on 04-03: gone. H only
#: in a positive pool (not a negative): overdue since joining.
STATES = {"A": "current", "B": "overdue", "C": "due", "D": "overdue", "E": "awaiting",
          "F": "due", "H": "overdue"}  # fmt: skip
#: On 04-02: F has not joined, G has not left, E's pending sample is still to come.
STATES_0402 = {"A": "current", "B": "current", "C": "current", "D": "overdue",
               "E": "current", "G": "overdue", "H": "overdue"}  # fmt: skip


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def group(tree, officer):
    return group_create(
        unit=tree.industry_grid,
        name="冷链从业人员",
        kind="cold_chain",
        every_days=EVERY,
        by=officer,
    )


@pytest.fixture
def members(group, population, officer):
    found = {}
    for letter, (sequence, joined) in MEMBERS.items():
        found[letter] = group_member_add(
            group=group, id_number=person(sequence), joined_on=joined, by=officer
        )
    group_member_remove(member=found["G"], on=date(2022, 4, 3), by=officer)
    return found


@pytest.fixture
def sampled(tree, members, officer):
    """The samples of SAMPLES, each day a round of its own."""
    rounds = {}
    for day, barcode, capacity, result, letters in SAMPLES:
        if day not in rounds:
            rounds[day] = round_create(unit=tree.county, name=f"{day}", day=day, by=officer)
        for letter in letters:
            sample_collect(
                screening_round=rounds[day],
                barcode=barcode,
                id_number=person(MEMBERS[letter][0]),
                capacity=capacity,
                by=officer,
                at=at(day),
            )
        if result:
            tube = Tube.objects.get(round=rounds[day], barcode=barcode)
            tube_result_record(
                tube=tube, result=result, tested_at=at(day, 15), lab="县疾控", by=officer
            )
            # reported an hour after the test, on the day (the service stamps "now")
            Tube.objects.filter(pk=tube.pk).update(reported_at=at(day, 16))
    return rounds


def _states(user, group, day):
    letter_of = {sequence: letter for letter, (sequence, _j) in MEMBERS.items()}
    rows = group_member_rows(user, group, day)
    return {
        letter_of[int(row.member.resident.name.removeprefix("居民"))]: row.state for row in rows
    }


def test_members_are_due_or_overdue_from_their_last_negative_sample(group, sampled, officer):
    assert _states(officer, group, AS_OF) == STATES
    assert _states(officer, group, date(2022, 4, 2)) == STATES_0402
    [figures] = groups_figures(officer, AS_OF)
    assert (figures.members, figures.overdue, figures.due, figures.awaiting, figures.current) == (
        7, 3, 2, 1, 1)  # fmt: skip


def test_a_past_day_uses_only_the_results_reported_by_its_end(group, sampled, officer):
    """Results that arrived after a day do not change that day's states: A's negative of
    04-02 and H's positive of 04-03 are reported on 04-05 (after AS_OF), E's pending tube
    of 04-03 gets a negative reported on 04-05 too. On AS_OF the three wait for a result;
    on 04-05 the results count."""
    late = at(date(2022, 4, 5), 10)
    Tube.objects.filter(barcode__in=["N3", "P2"]).update(reported_at=late)
    tube = Tube.objects.get(barcode="P1")
    tube_result_record(
        tube=tube, result="negative", tested_at=at(date(2022, 4, 3), 15), lab="县疾控", by=officer
    )
    Tube.objects.filter(pk=tube.pk).update(reported_at=late)
    assert _states(officer, group, AS_OF) == {
        **STATES, "A": "awaiting", "E": "awaiting", "H": "awaiting"}  # fmt: skip
    [figures] = groups_figures(officer, AS_OF)
    assert (figures.overdue, figures.due, figures.awaiting, figures.current) == (2, 2, 3, 0)
    # the day before: A's sample of 04-02 waits for its result; E and H as before
    assert _states(officer, group, date(2022, 4, 2)) == {**STATES_0402, "A": "awaiting"}
    # the day the results arrive: they count (A tested 04-02 is due again on 04-05)
    on_0405 = _states(officer, group, date(2022, 4, 5))
    assert (on_0405["A"], on_0405["E"], on_0405["H"]) == ("due", "current", "overdue")
    rows = {r.member.resident.name: r for r in group_member_rows(officer, group, AS_OF)}
    assert rows["居民01"].last_negative is None and rows["居民01"].due_on == date(2022, 3, 1)


def test_the_list_puts_the_overdue_first_with_the_day_each_test_is_due(group, sampled, officer):
    rows = group_member_rows(officer, group, AS_OF)
    assert [row.state for row in rows][:3] == ["overdue"] * 3
    by_name = {row.member.resident.name: row for row in rows}
    assert by_name["居民02"].due_on == date(2022, 4, 3)
    assert by_name["居民02"].last_negative == date(2022, 3, 31)
    assert by_name["居民04"].due_on == date(2022, 4, 1) and by_name["居民04"].last_negative is None
    assert [row.state for row in group_member_rows(officer, group, AS_OF, "due")] == ["due"] * 2


def test_a_group_is_opened_by_officers_within_their_units_only(tree, officer, far_officer, worker):
    with pytest.raises(PermissionDenied):
        group_create(
            unit=tree.industry_grid, name="快递", kind="delivery", every_days=2, by=far_officer
        )
    with pytest.raises(PermissionDenied):
        group_create(unit=tree.industry_grid, name="快递", kind="delivery", every_days=2, by=worker)
    with pytest.raises(ValidationError):
        group_create(unit=tree.grid, name="快递", kind="delivery", every_days=2, by=officer)
    for every in (0, 31):
        with pytest.raises(ValidationError):
            group_create(
                unit=tree.industry_grid, name="快递", kind="delivery", every_days=every, by=officer
            )
    group_create(unit=tree.industry_grid, name="快递", kind="delivery", every_days=2, by=officer)
    with pytest.raises(ValidationError):
        group_create(
            unit=tree.industry_grid, name="快递", kind="delivery", every_days=3, by=officer
        )


def test_members_are_residents_of_the_groups_county_added_once(group, population, officer):
    with pytest.raises(ValidationError, match="not in the registry of this county"):
        group_member_add(group=group, id_number=person(41), by=officer)  # lives in 陇西县
    member = group_member_add(group=group, id_number=person(1), by=officer)
    with pytest.raises(ValidationError, match="already in the group"):
        group_member_add(group=group, id_number=person(1), by=officer)
    group_member_remove(member=member, by=officer)
    again = group_member_add(group=group, id_number=person(1), employer="冷库", by=officer)
    assert again.pk == member.pk and again.left_on is None and again.employer == "冷库"


def test_the_industry_grids_worker_keeps_the_members_and_others_may_not(
    tree, group, population, make_user, far_officer
):
    keeper = make_user(Role.GRID_WORKER, tree.industry_grid)
    group_member_add(group=group, id_number=person(1), by=keeper)
    for stranger in (far_officer, make_user(Role.GRID_WORKER, tree.grid)):
        with pytest.raises(PermissionDenied):
            group_member_add(group=group, id_number=person(2), by=stranger)


def _bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="group script")
    return {"Authorization": f"Bearer {token}"}


def test_another_countys_officer_and_another_towns_official_cannot_see_the_group(
    tree, group, members, far_officer, make_user, client
):
    for stranger in (far_officer, make_user(Role.TOWN_OFFICIAL, tree.other_town)):
        client.force_login(stranger)
        assert client.get(f"/screening/groups/{group.pk}/").status_code == 404
        assert str(group.name) not in client.get("/screening/groups/").content.decode()
        assert client.get("/api/v1/screening/groups", headers=_bearer(stranger)).json() == []
        answer = client.get(
            f"/api/v1/screening/groups/{group.pk}/members", headers=_bearer(stranger)
        )
        assert answer.status_code == 404
        posted = client.post(
            f"/api/v1/screening/groups/{group.pk}/members",
            {"id_number": person(12)},
            content_type="application/json",
            headers=_bearer(stranger),
        )
        assert posted.status_code == 404
    assert not GroupMember.objects.filter(resident__name="居民12").exists()


def test_the_page_and_the_api_show_the_states(group, sampled, officer, client):
    client.force_login(officer)
    page = client.get(f"/screening/groups/{group.pk}/?state=overdue&day=2022-04-04").content
    page = page.decode()
    assert page.count('data-state="overdue"') == 3 and 'data-state="due"' not in page
    listed = client.get(
        f"/api/v1/screening/groups/{group.pk}/members?as_of=2022-04-04&state=due",
        headers=_bearer(officer),
    ).json()
    assert sorted(m["name"] for m in listed) == ["居民03", "居民31"]
    assert {m["state"] for m in listed} == {"due"}
    [figures] = client.get(
        "/api/v1/screening/groups?as_of=2022-04-04", headers=_bearer(officer)
    ).json()
    assert (figures["overdue"], figures["due"], figures["awaiting"]) == (3, 2, 1)
    bad = client.get(
        f"/api/v1/screening/groups/{group.pk}/members?state=<x>", headers=_bearer(officer)
    )
    assert bad.status_code == 422


def test_a_member_is_added_and_taken_off_on_the_phone_page(group, population, officer, client):
    client.force_login(officer)
    url = f"/screening/groups/{group.pk}/"
    response = client.post(url, {"id_number": person(7), "employer": "冷库"})
    assert response.status_code == 302
    member = GroupMember.objects.get(group=group, resident__name="居民07")
    refused = client.post(url, {"id_number": person(7)}).content.decode()
    assert "已在" in refused or "already" in refused
    assert client.post(url, {"action": "remove", "member": str(member.pk)}).status_code == 302
    member.refresh_from_db()
    assert member.left_on is not None
    assert client.post(url, {"action": "remove", "member": "x<"}).status_code == 302


def test_a_member_is_taken_off_only_through_its_own_group_and_scope(
    group, population, officer, far_officer, tree, client
):
    member = group_member_add(group=group, id_number=person(7), by=officer)
    other = group_create(
        unit=tree.industry_grid, name="快递从业人员", kind="delivery", every_days=7, by=officer
    )
    client.force_login(officer)
    page = client.post(
        f"/screening/groups/{other.pk}/",
        {"action": "remove", "member": str(member.pk)},
        follow=True,
    )
    assert "本组没有此成员。" in page.content.decode()
    leave = f"/api/v1/screening/groups/{other.pk}/members/{member.pk}/leave"
    assert client.post(leave, headers=_bearer(officer)).status_code == 404
    with pytest.raises(Http404):
        group_member_for_user(far_officer, group, member.pk)
    member.refresh_from_db()
    assert member.left_on is None
    assert group_member_for_user(officer, group, member.pk) == member


def test_the_screening_home_shows_the_groups_with_overdue_members(group, members, officer, client):
    client.force_login(officer)
    page = client.get("/screening/").content.decode()
    assert f'data-group="{group.pk}"' in page and 'data-figure="overdue"' in page


def test_group_pages_and_api_lists_keep_their_query_counts(group, population, officer, client):
    client.force_login(officer)
    headers = _bearer(officer)
    urls = [
        f"/screening/groups/{group.pk}/",
        "/screening/groups/",
        "/screening/",
        f"/api/v1/screening/groups/{group.pk}/members",
        "/api/v1/screening/groups",
    ]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, headers=headers).status_code == 200
            found.append(len(queries))
        return found

    for sequence in (1, 2):
        group_member_add(group=group, id_number=person(sequence), by=officer)
    counts()  # warm-up: the token's first use is recorded once
    small = counts()
    for sequence in range(3, 13):
        group_member_add(group=group, id_number=person(sequence), by=officer)
    assert counts() == small


# The member file, on the generic import page with the group chosen there ----------------


MEMBER_HEADERS = ["身份证件号码", "姓名", "工作单位", "纳入日期"]


@pytest.fixture
def immediate_tasks():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = False


def _upload(client, path, kind, **options):
    with path.open("rb") as handle:
        return client.post(
            "/imports/",
            {"kind": kind, "file": handle, **{f"option_{k}": v for k, v in options.items()}},
        )


def test_the_member_file_is_imported_on_the_import_page_into_the_chosen_group(
    group, population, officer, client, tmp_path, immediate_tasks
):
    rows = [
        [person(1), "居民01", "县冷链物流公司", "2022-04-01"],
        [person(2), "居民02", "", ""],
        [person(2), "居民02", "", ""],  # the same person again: a duplicate
        [person(41), "居民41", "", ""],  # lives in another county
        [person(3), "冒名", "", ""],  # the registry has another name
        [person(4), "居民04", "", "2022年13月1日"],
    ]
    path = write_table(tmp_path / "members", MEMBER_HEADERS, rows, "utf-8-sig")
    client.force_login(officer)
    page = client.get("/imports/").content.decode()
    assert f'<option value="{group.pk}">' in page
    assert _upload(client, path, GROUP_MEMBERS.name, group=group.pk).status_code == 302
    batch = ImportBatch.objects.get(kind=GROUP_MEMBERS.name)
    assert batch.state == ImportState.DONE and batch.options == {"group": str(group.pk)}
    assert (batch.stored, batch.duplicates, batch.rejected) == (2, 1, 3)
    member = GroupMember.objects.get(group=group, resident__name="居民01")
    assert member.employer == "县冷链物流公司" and member.joined_on == date(2022, 4, 1)
    assert _upload(client, path, GROUP_MEMBERS.name, group=group.pk).status_code == 302
    again = ImportBatch.objects.filter(kind=GROUP_MEMBERS.name).latest("pk")
    assert (again.stored, again.unchanged) == (0, 2)
    assert GroupMember.objects.filter(group=group).count() == 2
    detail = client.get(f"/imports/{batch.pk}/").content.decode()
    assert str(group.pk) in detail


def test_the_member_file_needs_a_group_the_user_keeps(
    tree, group, population, officer, far_officer, client, tmp_path, immediate_tasks
):
    path = write_table(tmp_path / "m", MEMBER_HEADERS, [[person(1), "居民01", "", ""]], "utf-8")
    client.force_login(officer)
    missing = _upload(client, path, GROUP_MEMBERS.name)
    assert missing.status_code == 200 and 'class="errorlist"' in missing.content.decode()
    far_group = group_create(
        unit=tree.other_county, name="陇西冷链", kind="cold_chain", every_days=2, by=far_officer
    )
    forged = _upload(client, path, GROUP_MEMBERS.name, group=far_group.pk)
    assert forged.status_code == 200 and 'class="errorlist"' in forged.content.decode()
    assert not ImportBatch.objects.exists() and not GroupMember.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_member_command_prints_the_summary_and_refuses_an_unknown_group(
    tree, population, tmp_path
):
    import json

    from .cli import run

    group = group_create(unit=tree.industry_grid, name="冷链", kind="cold_chain", every_days=2)
    rows = [[person(1), "居民01", "冷库", ""], [person(41), "居民41", "", ""]]
    path = write_table(tmp_path / "members", MEMBER_HEADERS, rows, "utf-8")
    result = run("import_group_members", str(group.pk), str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["stored"], summary["rejected"]) == (2, 1, 1)
    assert summary["error_report"]
    assert run("import_group_members", "999999", str(path), "--json").returncode != 0
