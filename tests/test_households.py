"""Households (户, 同住人员): their own file through the import framework (the §7 resident
file stays as it is), the grid worker's page, and "the same household" as a reason control
proposes a contact of a positive case."""

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from epidispatch.accounts.models import Role
from epidispatch.audit.models import Change
from epidispatch.control.models import ContactCandidate
from epidispatch.control.services import Stop, key_person_resolve, positive_record
from epidispatch.imports.models import ImportBatch
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.registry.models import Household, HouseholdMember
from epidispatch.registry.selectors import household_mates
from epidispatch.registry.services import (
    household_member_place,
    household_member_remove,
    resident_create,
)

from .control_fixtures import *  # noqa: F403 - the fixtures
from .dose_files import write_table
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db
HEADERS = ["户地址", "网格编码", "身份证件号码", "姓名", "与户主关系"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def family(tree):
    """Four residents of 北关社区第1网格, one of 第2网格, one of 新庄村 (another town)."""
    people = {
        name: resident_create(name=name, id_number=id_number(n), grid=grid)
        for n, (name, grid) in enumerate(
            [("张父", tree.grid), ("张母", tree.grid), ("张子", tree.grid), ("邻居", tree.grid),
             ("隔壁网格", tree.sibling_grid), ("鸡川人", tree.other_grid)],
            start=1,
        )
    }  # fmt: skip
    return people


def run(path, *extra):
    out = StringIO()
    call_command("import_households", str(path), *extra, "--json", stdout=out)
    return json.loads(out.getvalue())


def household_file(tmp_path, tree, name="户"):
    rows = [
        ["北关路18号 1单元101", tree.grid.code, id_number(1), "张父", "户主"],
        ["北关路18号　1单元101", tree.grid.code, id_number(2), "张母", "配偶"],  # full-width space
        ["北关路18号 1单元101", tree.grid.code, id_number(3), "张子", "子"],
        ["北关路18号 1单元101", tree.grid.code, id_number(3), "张子", "子"],  # duplicate
        ["北关路18号 2单元202", tree.grid.code, id_number(4), "邻居", "户主"],
        ["北关路20号", tree.grid.code, id_number(5), "隔壁网格", ""],  # registered in grid 2
        ["北关路18号 3单元301", tree.grid.code, id_number(99), "未登记", ""],  # not registered
        ["", tree.grid.code, id_number(4), "邻居", ""],  # no address
        ["新庄村1号", "621121102001999", id_number(6), "鸡川人", ""],  # no such grid
        ["北关路18号 2单元202", tree.grid.code, "6224241990", "错号", ""],  # bad ID number
    ]
    return write_table(tmp_path / name, HEADERS, rows, "utf-8")


def test_a_household_file_places_residents_and_names_each_bad_row(tmp_path, tree, family):
    result = run(household_file(tmp_path, tree))
    assert {k: result[k] for k in ("rows", "stored", "unchanged", "duplicates", "rejected")} == {
        "rows": 10, "stored": 4, "unchanged": 0, "duplicates": 1, "rejected": 5}  # fmt: skip
    report = load_workbook(result["error_report"]).active
    errors = [(row[0], row[1]) for row in report.iter_rows(min_row=2, values_only=True)]
    assert sorted(errors) == [(7, "身份证件号码"), (8, "身份证件号码"), (9, "户地址"),
                              (10, "网格编码"), (11, "身份证件号码")]  # fmt: skip
    home = Household.objects.get(address="北关路18号 1单元101")
    assert sorted(m.resident.name for m in home.members.all()) == ["张子", "张母", "张父"]
    assert HouseholdMember.objects.get(resident=family["张母"]).relation == "配偶"
    assert Household.objects.count() == 2


def test_the_same_household_file_imported_twice_changes_nothing(tmp_path, tree, family):
    path = household_file(tmp_path, tree)
    run(path)
    before = list(HouseholdMember.objects.values_list("pk", "household_id", "relation"))
    again = run(path)
    assert (again["stored"], again["unchanged"], again["duplicates"]) == (0, 4, 1)
    assert list(HouseholdMember.objects.values_list("pk", "household_id", "relation")) == before


def test_a_resident_who_moved_is_moved_and_the_empty_household_goes(tmp_path, tree, family):
    run(household_file(tmp_path, tree))
    moved = write_table(
        tmp_path / "搬家", HEADERS,
        [["北关路18号 1单元101", tree.grid.code, id_number(4), "邻居", ""]], "utf-8",
    )  # fmt: skip
    result = run(moved)
    assert (result["stored"], result["unchanged"]) == (1, 0)
    assert not Household.objects.filter(address="北关路18号 2单元202").exists()
    assert HouseholdMember.objects.get(resident=family["邻居"]).relation == "户主"  # kept


def test_a_town_cannot_import_households_of_another_town(tmp_path, tree, family, make_user):
    official = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    path = write_table(
        tmp_path / "越界", HEADERS,
        [["北关路18号 1单元101", tree.grid.code, id_number(1), "张父", "户主"],
         ["新庄村1号", tree.other_grid.code, id_number(1), "张父", ""]], "utf-8",
    )  # fmt: skip
    batch = import_batch_create(kind="households", path=path, file_name=path.name, user=official)
    summary = import_batch_run(batch, path)
    assert (summary.stored, summary.rejected) == (0, 2)
    assert not HouseholdMember.objects.exists()
    assert ImportBatch.objects.get().kind == "households"


def test_a_grid_worker_keeps_only_their_own_grids_households(tree, family, make_user):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    member, changed = household_member_place(
        resident=family["张父"], address="北关路18号 1单元101", relation="户主", by=worker
    )
    assert changed and member.household.grid == tree.grid
    assert household_member_place(
        resident=family["张父"], address=" 北关路18号  1单元101 ", by=worker
    ) == (member, False)
    with pytest.raises(PermissionDenied):
        household_member_place(resident=family["鸡川人"], address="新庄村1号", by=worker)
    with pytest.raises(PermissionDenied):
        household_member_remove(
            member=household_member_place(resident=family["鸡川人"], address="新庄村1号", by=None)[
                0
            ],
            by=worker,
        )
    assert HouseholdMember.objects.count() == 2


def test_household_mates_are_read_within_the_readers_scope(tree, family, make_user):
    for name in ("张父", "张母", "张子"):
        household_member_place(resident=family[name], address="北关路18号 1单元101", by=None)
    county = make_user(Role.CONTROL_OFFICER, tree.county)
    far = make_user(Role.CONTROL_OFFICER, tree.other_county)
    assert sorted(r.name for r in household_mates(county, family["张父"])) == ["张子", "张母"]
    assert list(household_mates(far, family["张父"])) == []
    assert list(household_mates(county, family["邻居"])) == []


# The grid worker's page


def test_the_grid_worker_adds_and_removes_a_household_member_on_the_page(
    tree, family, make_user, client
):
    client.force_login(make_user(Role.GRID_WORKER, tree.grid))
    url = f"/units/{tree.grid.code}/households/"
    response = client.post(
        url, {"address": "北关路18号 1单元101", "id_number": id_number(2), "relation": "配偶"}
    )
    assert response.status_code == 302
    member = HouseholdMember.objects.get()
    assert (member.resident, member.relation) == (family["张母"], "配偶")
    assert Change.objects.filter(content_type__model="householdmember").exists()
    page = client.get(url).content.decode()
    assert "北关路18号 1单元101" in page and family["张母"].id_number_masked in page
    assert id_number(2) not in page
    response = client.post(f"/household-members/{member.pk}/remove/")
    assert response.status_code == 302 and not Household.objects.exists()


def test_the_page_refuses_a_resident_of_another_grid_in_plain_words(
    tree, family, make_user, client
):
    client.force_login(make_user(Role.GRID_WORKER, tree.grid))
    response = client.post(
        f"/units/{tree.grid.code}/households/",
        {"address": "北关路18号", "id_number": id_number(5), "relation": ""},
    )
    assert response.status_code == 200
    assert "本网格没有该身份证号的登记居民" in response.content.decode()
    assert not HouseholdMember.objects.exists()


def test_another_grids_households_are_a_404_and_a_leader_cannot_edit(
    tree, family, make_user, client
):
    member, _changed = household_member_place(
        resident=family["鸡川人"], address="新庄村1号", by=None
    )
    client.force_login(make_user(Role.GRID_WORKER, tree.grid))
    assert client.get(f"/units/{tree.other_grid.code}/households/").status_code == 404
    assert client.post(f"/household-members/{member.pk}/remove/").status_code == 404
    client.force_login(make_user(Role.LEADER, tree.county))
    page = client.get(f"/units/{tree.other_grid.code}/households/")
    assert page.status_code == 200 and "新庄村1号" in page.content.decode()
    assert 'name="address"' not in page.content.decode()
    response = client.post(
        f"/units/{tree.other_grid.code}/households/",
        {"address": "新庄村2号", "id_number": id_number(6)},
    )
    assert response.status_code == 403
    assert client.post(f"/household-members/{member.pk}/remove/").status_code == 403
    assert HouseholdMember.objects.get().household.address == "新庄村1号"


def test_the_household_page_costs_the_same_queries_for_3_or_30_members(
    tree, make_user, client, django_assert_num_queries
):
    def add(start, count):
        for n in range(start, start + count):
            resident = resident_create(name=f"居民{n}", id_number=id_number(n), grid=tree.grid)
            household_member_place(resident=resident, address=f"北关路{n // 3}号", by=None)

    add(1, 3)
    client.force_login(make_user(Role.GRID_WORKER, tree.grid))
    url = f"/units/{tree.grid.code}/households/"
    client.get(url)
    with django_assert_num_queries(6) as small:
        client.get(url)
    add(100, 27)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("data-member=") == 30


# Control: "the same household" proposes contacts


def test_a_positive_residents_household_is_proposed_and_nobody_else(tree, family, officer):
    for name in ("张父", "张母", "张子"):
        household_member_place(resident=family[name], address="北关路18号 1单元101", by=None)
    household_member_place(resident=family["邻居"], address="北关路18号 2单元202", by=None)
    person = key_person_resolve(name="张父", id_number=id_number(1))
    at = datetime(2022, 7, 4, 9, 0, tzinfo=SHANGHAI)
    positive = positive_record(
        person=person, found_on=date(2022, 7, 5),
        trajectory=[Stop("家中", at, at + timedelta(hours=1))], by=officer,
    )  # fmt: skip
    candidates = ContactCandidate.objects.filter(positive=positive)
    assert sorted((c.name, c.reason) for c in candidates) == [
        ("张子", "household"), ("张母", "household")]  # fmt: skip
    assert {c.detail for c in candidates} == {"北关路18号 1单元101"}
    assert all(c.resident is not None for c in candidates)


def test_household_candidates_stop_at_the_officers_scope(tree, make_user, policies):
    """A county officer records a positive living in their county; a household mate who
    is registered in another county (moved there since) is not proposed to them."""
    officer = make_user(Role.CONTROL_OFFICER, tree.county)
    here = resident_create(name="本县人", id_number=id_number(1), grid=tree.grid)
    there = resident_create(name="外县人", id_number=id_number(2), grid=tree.far_grid)
    home = household_member_place(resident=here, address="北关路1号", by=None)[0].household
    HouseholdMember.objects.create(household=home, resident=there)
    positive = positive_record(
        person=key_person_resolve(name="本县人", id_number=id_number(1)),
        found_on=date(2022, 7, 5), trajectory=[], by=officer,
    )  # fmt: skip
    assert not ContactCandidate.objects.filter(positive=positive).exists()
