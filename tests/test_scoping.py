"""Every role sees its own units and below, and nothing else: through the selectors and
through the pages. A unit outside the scope answers 404, exactly like a unit that does
not exist."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import role_assign, user_create
from epidispatch.orgunits.selectors import unit_for_user, units_visible_to
from epidispatch.registry.selectors import residents_visible_to
from epidispatch.registry.services import resident_create

pytestmark = pytest.mark.django_db

# (role, the unit it is bound to, a unit inside its scope, a unit outside it)
ROLE_CASES = [
    (Role.DISPATCHER, "county", "grid", "far_grid"),
    (Role.LEADER, "county", "other_grid", "far_town"),
    (Role.SUPPLY_OFFICER, "county", "site", "other_county"),
    (Role.SCREENING_OFFICER, "county", "village", "far_village"),
    (Role.CONTROL_OFFICER, "county", "department", "far_grid"),
    (Role.TOWN_OFFICIAL, "town", "grid", "other_grid"),
    (Role.TOWN_OFFICIAL, "department", "department", "town"),
    (Role.GRID_WORKER, "grid", "grid", "sibling_grid"),
    (Role.GRID_WORKER, "industry_grid", "industry_grid", "grid"),
    (Role.SITE_STAFF, "site", "site", "other_site"),
    (Role.INSPECTOR, "other_town", "other_grid", "grid"),
]
IDS = [f"{role}@{bound}" for role, bound, _inside, _outside in ROLE_CASES]


@pytest.fixture
def residents(tree):
    """One resident in each residential grid of the tree."""
    numbers = {
        "grid": "622424198001010013",
        "sibling_grid": "622424198001010021",
        "other_grid": "62242419800101003X",
        "far_grid": "622425198001010044",
    }
    return {
        attr: resident_create(name=f"居民{attr}", id_number=number, grid=getattr(tree, attr))
        for attr, number in numbers.items()
    }


@pytest.mark.parametrize(("role", "bound", "inside", "outside"), ROLE_CASES, ids=IDS)
def test_role_reads_inside_its_scope(tree, make_user, role, bound, inside, outside):
    user = make_user(role, getattr(tree, bound))
    assert unit_for_user(user, getattr(tree, inside).code) == getattr(tree, inside)
    assert getattr(tree, inside) in units_visible_to(user)


@pytest.mark.parametrize(("role", "bound", "inside", "outside"), ROLE_CASES, ids=IDS)
def test_role_is_refused_outside_its_scope(tree, make_user, role, bound, inside, outside):
    user = make_user(role, getattr(tree, bound))
    with pytest.raises(Http404):
        unit_for_user(user, getattr(tree, outside).code)
    assert getattr(tree, outside) not in units_visible_to(user)


@pytest.mark.parametrize(("role", "bound", "inside", "outside"), ROLE_CASES, ids=IDS)
def test_role_page_of_a_unit_outside_its_scope_is_404(
    tree, make_user, client, role, bound, inside, outside
):
    user = make_user(role, getattr(tree, bound))
    client.force_login(user)
    assert client.get(f"/units/{getattr(tree, inside).code}/").status_code == 200
    assert client.get(f"/units/{getattr(tree, outside).code}/").status_code == 404


@pytest.mark.parametrize(("role", "bound", "inside", "outside"), ROLE_CASES, ids=IDS)
def test_role_sees_only_residents_of_its_scope(
    tree, residents, make_user, role, bound, inside, outside
):
    user = make_user(role, getattr(tree, bound))
    bound_unit = getattr(tree, bound)
    visible = set(residents_visible_to(user))
    expected = {r for r in residents.values() if r.grid.path.startswith(bound_unit.path)}
    assert visible == expected


def test_unit_page_counts_only_what_the_user_may_see(tree, residents, make_user, client):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    client.force_login(official)
    page = client.get(f"/units/{tree.town.code}/").content.decode()
    assert 'data-figure="residents">2<' in page
    assert tree.other_town.name not in page


def test_a_user_bound_to_two_towns_sees_both_and_not_a_third(tree, make_user):
    inspector = make_user(Role.INSPECTOR, tree.town, tree.other_town)
    codes = set(units_visible_to(inspector).values_list("code", flat=True))
    assert {tree.grid.code, tree.other_grid.code} <= codes
    assert tree.far_town.code not in codes
    assert tree.county.code not in codes


def test_superuser_without_a_role_sees_no_unit_and_no_resident(tree, residents, django_user_model):
    """No bypass for superusers (the ohcnetwork/care lesson): scope comes only from roles."""
    root = django_user_model.objects.create_superuser("root", password="x-secret-1")
    assert not units_visible_to(root).exists()
    assert not residents_visible_to(root).exists()
    with pytest.raises(Http404):
        unit_for_user(root, tree.county.code)


def test_deactivated_user_sees_nothing(tree, make_user):
    user = make_user(Role.DISPATCHER, tree.county)
    user.is_active = False
    assert not units_visible_to(user).exists()


def test_anonymous_visitor_is_sent_to_login(tree, client):
    response = client.get(f"/units/{tree.county.code}/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "wrong_unit"),
    [
        (Role.GRID_WORKER, "town"),
        (Role.SITE_STAFF, "grid"),
        (Role.TOWN_OFFICIAL, "county"),
        (Role.DISPATCHER, "town"),
        (Role.LEADER, "grid"),
    ],
)
def test_role_bound_to_the_wrong_kind_of_unit_is_refused(tree, role, wrong_unit):
    user = user_create(username=f"u-{role}", password="secret-pass-1", roles=[])
    with pytest.raises(ValidationError) as caught:
        role_assign(user=user, role=role, unit=getattr(tree, wrong_unit))
    assert "unit" in caught.value.message_dict
    assert not user.role_assignments.exists()


def test_page_outside_the_scope_says_not_found_without_naming_the_unit(tree, make_user, client):
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    response = client.get(f"/units/{tree.other_town.code}/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page
    assert tree.other_town.name not in page
