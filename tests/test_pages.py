"""The web pages: Chinese by default, the org tree with drill-down, a fixed query count."""

import pytest

from epidispatch.accounts.models import Role
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.services import resident_create

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_even_for_an_english_browser(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page
    assert "登录" in page


def test_language_switch_gives_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_wrong_password_is_refused_with_a_chinese_message(dispatcher, client):
    response = client.post(
        "/accounts/login/", {"username": dispatcher.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_login_then_home_lists_the_users_units(dispatcher, client):
    response = client.post(
        "/accounts/login/", {"username": dispatcher.username, "password": "secret-pass-1"}
    )
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "通渭县" in page
    assert "陇西县" not in page


def test_user_without_a_role_is_told_so(client, django_user_model, db):
    user = django_user_model.objects.create_user("nobody", password="secret-pass-1")
    client.force_login(user)
    assert "还没有绑定任何组织机构" in client.get("/").content.decode()


def test_unit_index_goes_straight_to_a_single_scope_root(dispatcher, client):
    client.force_login(dispatcher)
    response = client.get("/units/")
    assert response.status_code == 302
    assert response.url == "/units/621121/"


def test_county_page_lists_towns_with_counts(tree, dispatcher, client):
    resident_create(name="甲", id_number="622424198001010013", grid=tree.grid)
    resident_create(name="乙", id_number="622424198001010021", grid=tree.sibling_grid)
    resident_create(name="丙", id_number="62242419800101003X", grid=tree.other_grid)
    client.force_login(dispatcher)
    page = client.get(f"/units/{tree.county.code}/").content.decode()
    assert 'data-figure="residents">3<' in page
    assert 'data-figure="grids">3<' in page
    town_row = page[page.index(f'data-code="{tree.town.code}"') :].split("</tr>")[0]
    # 平襄镇: village, 2 grids and the site below it; 2 grids; 2 residents
    cells = [cell.split(">")[-1] for cell in town_row.split("</td>")[2:5]]
    assert cells == ["4", "2", "2"]


def test_breadcrumb_drills_from_the_scope_root_only(tree, make_user, client):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    client.force_login(official)
    page = client.get(f"/units/{tree.grid.code}/").content.decode()
    assert f'href="/units/{tree.town.code}/"' in page
    assert f'href="/units/{tree.county.code}/"' not in page


def _add_villages(town, how_many: int, start: int):
    for number in range(start, start + how_many):
        village = unit_create(
            code=f"{town.code[:9]}{number:03d}",
            name=f"村{number}",
            kind=UnitKind.VILLAGE,
            parent_code=town.code,
        )
        unit_create(
            code=f"{village.code}001",
            name=f"村{number}第1网格",
            kind=UnitKind.GRID,
            parent_code=village.code,
        )


def test_unit_page_query_count_does_not_grow_with_the_tree(
    tree, dispatcher, client, django_assert_num_queries
):
    client.force_login(dispatcher)
    url = f"/units/{tree.town.code}/"
    client.get(url)
    with django_assert_num_queries(8) as small:
        client.get(url)
    _add_villages(tree.town, 30, start=10)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("<tr data-code=") == 1 + 1 + 30


def test_logout_ends_the_session(dispatcher, client):
    client.force_login(dispatcher)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
