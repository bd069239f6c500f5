"""Households (户) over the API and on the resident's page (issue 28): listed by grid or any
unit above it, members masked like residents, cursor-paged in a fixed number of queries;
another town's households are neither listed nor read; a resident's page shows who lives
with them."""

import pytest

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.registry.services import household_member_place, resident_create

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

URL = "/api/v1/registry"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='households')[1]}"}


@pytest.fixture
def worker(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid, username="worker")


def household(grid, worker, address: str, names: list[str], start: int) -> list:
    people = []
    for n, name in enumerate(names, start=start):
        person = resident_create(
            name=name, id_number=id_number(n), phone=f"1391234{n:04d}", grid=grid
        )
        household_member_place(
            resident=person, address=address, relation="户主" if n == start else "", by=worker
        )
        people.append(person)
    return people


@pytest.fixture
def homes(tree, worker, make_user):
    zhang = household(tree.grid, worker, "北关路18号", ["张父", "张母", "张子"], start=1)
    li = household(tree.grid, worker, "北关路20号", ["李奶奶"], start=10)
    far_worker = make_user(Role.GRID_WORKER, tree.other_grid, username="far-worker")
    far = household(tree.other_grid, far_worker, "新庄村8号", ["鸡川人"], start=20)
    return {"zhang": zhang, "li": li, "far": far}


def test_households_are_listed_with_their_members_masked(tree, client, worker, homes):
    response = client.get(f"{URL}/households", {"under": tree.grid.code}, headers=bearer(worker))
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [(h["address"], h["grid"]) for h in items] == [
        ("北关路18号", tree.grid.code),
        ("北关路20号", tree.grid.code),
    ]
    members = items[0]["members"]
    assert {m["name"] for m in members} == {"张父", "张母", "张子"}
    father = next(m for m in members if m["name"] == "张父")
    assert father["relation"] == "户主"
    assert father["id_number_masked"] == homes["zhang"][0].id_number_masked
    body = response.content.decode()
    assert id_number(1) not in body and "13912340001" not in body
    assert "鸡川" not in body and "新庄村" not in body


def test_another_towns_households_are_neither_listed_nor_read(tree, client, worker, homes):
    headers = bearer(worker)
    assert client.get(f"{URL}/households", {"under": tree.other_grid.code},
                      headers=headers).status_code == 404  # fmt: skip
    far = homes["far"][0].household.household_id
    assert client.get(f"{URL}/households/{far}", headers=headers).status_code == 404
    mine = homes["zhang"][0].household.household_id
    one = client.get(f"{URL}/households/{mine}", headers=headers)
    assert one.status_code == 200 and one.json()["address"] == "北关路18号"


def test_a_resident_read_over_the_api_names_their_household(client, worker, homes):
    father = homes["zhang"][0]
    response = client.get(f"{URL}/residents/{father.pk}", headers=bearer(worker))
    assert response.json()["household"] == father.household.household_id


@pytest.mark.parametrize("count", [2, 12])
def test_households_are_paged_in_a_fixed_number_of_queries(
    tree, client, worker, django_assert_num_queries, count
):
    for n in range(count):
        household(tree.grid, worker, f"北关路{n}号", ["甲", "乙"], start=100 + 2 * n)
    headers = bearer(worker)
    client.get(f"{URL}/households", headers=headers)  # the token's first use is noted once
    with django_assert_num_queries(HOUSEHOLD_LIST_QUERIES):
        response = client.get(f"{URL}/households", {"limit": 5}, headers=headers)
    page = response.json()
    assert len(page["items"]) == min(count, 5) and page["has_more"] == (count > 5)
    assert all(len(h["members"]) == 2 for h in page["items"])


#: The token with the user's roles (one statement), the households, their members.
HOUSEHOLD_LIST_QUERIES = 3


def test_the_residents_page_shows_who_lives_with_them(tree, client, worker, homes):
    client.force_login(worker)
    father, mother, _son = homes["zhang"]
    page = client.get(f"/residents/{father.pk}/").content.decode()
    section = page[page.index('data-list="household"') :]
    assert "北关路18号" in page
    assert f'href="/residents/{mother.pk}/"' in section
    assert mother.id_number_masked in section and id_number(2) not in page
    alone = resident_create(name="独居", id_number=id_number(50), grid=tree.grid)
    page = client.get(f"/residents/{alone.pk}/").content.decode()
    assert 'data-list="household"' not in page
