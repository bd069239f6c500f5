"""The JSON API: token or session auth, the same scoping as the pages."""

import pytest
from django.utils import timezone

from epidispatch.accounts.models import ApiToken, Role, User
from epidispatch.accounts.services import api_token_create
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.services import resident_create

from .cli import run

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def official_token(tree, make_user):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    _record, token = api_token_create(user=official, name="daily report script")
    return token


def test_without_credentials_the_api_answers_401_in_chinese(tree, client):
    response = client.get("/api/v1/units")
    assert response.status_code == 401
    assert response.json() == {"detail": "需要有效的接口令牌或登录。"}


def test_an_unknown_or_revoked_token_answers_401(tree, client, official_token):
    assert client.get("/api/v1/units", headers=bearer("not-a-token")).status_code == 401
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/api/v1/units", headers=bearer(official_token)).status_code == 401


def test_a_token_of_a_deactivated_user_answers_401(tree, client, official_token):
    User.objects.update(is_active=False)
    assert client.get("/api/v1/units", headers=bearer(official_token)).status_code == 401


def test_units_list_holds_only_the_callers_subtree(tree, client, official_token):
    response = client.get("/api/v1/units", headers=bearer(official_token))
    assert response.status_code == 200
    codes = [unit["code"] for unit in response.json()]
    assert codes == [
        tree.town.code,
        tree.village.code,
        tree.grid.code,
        tree.sibling_grid.code,
        tree.site.code,
    ]
    assert response.json()[0] == {
        "code": tree.town.code,
        "name": "平襄镇",
        "kind": "town",
        "parent": "621121",
    }


def test_units_under_a_unit_outside_the_scope_is_404(tree, client, official_token):
    response = client.get(
        f"/api/v1/units?under={tree.other_town.code}", headers=bearer(official_token)
    )
    assert response.status_code == 404


def test_framework_errors_are_json_in_the_apis_shape_and_in_chinese(tree, client, official_token):
    """A script reads every answer under /api/v1/ as `{"detail": …}`: an unknown path, a
    method the operation does not take and a unit outside the caller's scope alike."""
    headers = bearer(official_token)
    unknown = client.get("/api/v1/no-such-thing", headers=headers)
    assert unknown.status_code == 404 and unknown["Content-Type"].startswith("application/json")
    assert unknown.json() == {"detail": "没有此路径的接口；接口清单见 /api/v1/docs。"}
    refused = client.delete("/api/v1/units", headers=headers)
    assert refused.status_code == 405 and refused["Allow"] == "GET"
    assert refused.json() == {"detail": "此接口不接受 DELETE 请求，可用的方法：GET。"}
    outside = client.get(f"/api/v1/units/{tree.other_town.code}", headers=headers)
    assert outside.status_code == 404
    assert outside.json() == {"detail": "不存在，或不在您负责的单位范围内。"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_unit_detail_outside_the_scope_is_404_and_inside_has_counts(tree, client, official_token):
    resident_create(name="甲", id_number="622424198001010013", grid=tree.grid)
    resident_create(name="乙", id_number="62242419800101003X", grid=tree.other_grid)
    assert (
        client.get(
            f"/api/v1/units/{tree.other_town.code}", headers=bearer(official_token)
        ).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/units/{tree.county.code}", headers=bearer(official_token)).status_code
        == 404
    )
    detail = client.get(f"/api/v1/units/{tree.town.code}", headers=bearer(official_token)).json()
    assert (detail["residents"], detail["grids"]) == (1, 2)
    assert [child["code"] for child in detail["children"]] == [tree.village.code, tree.site.code]


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.SITE_STAFF, Role.LEADER])
def test_every_role_gets_its_own_units_through_the_session_too(tree, client, make_user, role):
    bound = {Role.GRID_WORKER: tree.grid, Role.SITE_STAFF: tree.site, Role.LEADER: tree.county}[
        role
    ]
    client.force_login(make_user(role, bound))
    codes = {unit["code"] for unit in client.get("/api/v1/units").json()}
    assert bound.code in codes
    assert tree.far_grid.code not in codes
    assert client.get(f"/api/v1/units/{tree.far_town.code}").status_code == 404


def test_units_list_query_count_does_not_grow_with_the_tree(
    tree, client, official_token, django_assert_num_queries
):
    client.get("/api/v1/units", headers=bearer(official_token))
    # The token, its user and their roles in one statement; then the units.
    with django_assert_num_queries(2) as small:
        client.get("/api/v1/units", headers=bearer(official_token))
    for number in range(10, 40):
        unit_create(
            code=f"621121100{number:03d}",
            name=f"村{number}",
            kind="village",
            parent_code=tree.town.code,
        )
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/api/v1/units", headers=bearer(official_token))
    assert len(response.json()) == 5 + 30


def test_openapi_docs_use_the_bundled_assets(tree, client, dispatcher):
    client.force_login(dispatcher)
    page = client.get("/api/docs", follow=True).content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


@pytest.mark.django_db(transaction=True)
def test_create_api_token_prints_a_token_that_works(tree, make_user, client):
    make_user(Role.DISPATCHER, tree.county, username="county-it")
    result = run("create_api_token", "county-it", "--name", "nightly import")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert client.get(f"/api/v1/units/{tree.county.code}", headers=bearer(token)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_create_api_token_for_an_unknown_user_fails(tree):
    result = run("create_api_token", "nobody")
    assert result.returncode != 0
    assert "nobody" in result.stderr


def test_token_use_is_noted_without_a_write_on_every_call(tree, client, official_token):
    client.get("/api/v1/units", headers=bearer(official_token))
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    client.get("/api/v1/units", headers=bearer(official_token))
    assert ApiToken.objects.get().last_used_at == first_use
