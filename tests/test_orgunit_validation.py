"""Bad input to the tree is refused with a clear message and changes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import UnknownUnitCode, unit_by_code
from epidispatch.orgunits.services import unit_create, unit_move

pytestmark = pytest.mark.django_db


def messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


def test_unknown_parent_code_is_refused(tree):
    with pytest.raises(UnknownUnitCode) as caught:
        unit_create(code="621121105000", name="义岗川镇", kind=UnitKind.TOWN, parent_code="629999")
    assert "629999" in messages_of(caught.value)
    assert not OrgUnit.objects.filter(code="621121105000").exists()


def test_unknown_code_lookup_names_the_code_in_chinese(tree):
    with translation.override("zh-hans"), pytest.raises(UnknownUnitCode) as caught:
        unit_by_code("621199")
    assert messages_of(caught.value) == "未知的组织机构编码：621199。"


@pytest.mark.parametrize(
    ("kind", "code", "parent_attr"),
    [
        (UnitKind.VILLAGE, "621121103001", "county"),  # a village straight under a county
        (UnitKind.GRID, "621121100000009", "town"),  # a grid under a town
        (UnitKind.TOWN, "621121104000", "town"),  # a town under a town
        (UnitKind.DEPARTMENT, "621121980009", "town"),  # a department under a town
        (UnitKind.COUNTY, "621123", "county"),  # a county under a county
    ],
)
def test_unit_under_the_wrong_kind_of_parent_is_refused(tree, kind, code, parent_attr):
    parent = getattr(tree, parent_attr)
    with pytest.raises(ValidationError) as caught:
        unit_create(code=code, name="x", kind=kind, parent_code=parent.code)
    assert "parent" in caught.value.message_dict
    assert parent.get_kind_display() in messages_of(caught.value)
    assert not OrgUnit.objects.filter(code=code).exists()


def test_wrong_kind_message_is_chinese_and_names_the_right_parent(tree):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        unit_create(code="621121103001", name="x", kind=UnitKind.VILLAGE, parent_code="621121")
    assert messages_of(caught.value) == "村/社区不能放在县/区之下，应放在乡镇/街道之下。"


def test_a_county_without_a_parent_is_refused(tree):
    with pytest.raises(ValidationError) as caught:
        unit_create(code="621123", name="漳县", kind=UnitKind.COUNTY)
    assert "parent" in caught.value.message_dict


def test_a_city_under_a_parent_is_refused(tree):
    with pytest.raises(ValidationError) as caught:
        unit_create(code="621200", name="陇南市", kind=UnitKind.CITY, parent_code="621121")
    assert "parent" in caught.value.message_dict


def test_duplicate_code_is_refused(tree):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        unit_create(
            code=tree.town.code, name="平襄镇(重复)", kind=UnitKind.TOWN, parent_code="621121"
        )
    assert messages_of(caught.value) == "该编码的组织机构已存在。"
    assert OrgUnit.objects.filter(code=tree.town.code).count() == 1


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (UnitKind.TOWN, "62112110000"),  # 11 digits
        (UnitKind.TOWN, "621121100001"),  # a village-style code for a town
        (UnitKind.TOWN, "621121980000"),  # the departments' reserved segment
        (UnitKind.VILLAGE, "621121100000"),  # a town-style code for a village
        (UnitKind.GRID, "62112110000100A"),
        (UnitKind.DEPARTMENT, "621121970001"),  # the sites' segment
        (UnitKind.COUNTY, "621100"),  # a city-style code
    ],
)
def test_malformed_code_is_refused(tree, kind, code):
    parent = {
        UnitKind.TOWN: tree.county,
        UnitKind.VILLAGE: tree.town,
        UnitKind.GRID: tree.village,
        UnitKind.DEPARTMENT: tree.county,
        UnitKind.COUNTY: tree.city,
    }[kind]
    with pytest.raises(ValidationError) as caught:
        unit_create(code=code, name="x", kind=kind, parent_code=parent.code)
    assert "code" in caught.value.message_dict


def test_code_that_does_not_extend_the_parent_code_is_refused(tree):
    with pytest.raises(ValidationError) as caught:
        # A village code of 鸡川镇 (621121102…) placed under 平襄镇.
        unit_create(
            code="621121102009", name="x", kind=UnitKind.VILLAGE, parent_code=tree.town.code
        )
    assert tree.town.code in messages_of(caught.value)


def test_moving_a_unit_under_its_own_descendant_is_refused_as_a_cycle(tree):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        unit_move(unit=tree.county, new_parent=tree.town)
    assert messages_of(caught.value) == "不能把通渭县放到它自己或它的下级单位之下。"
    tree.county.refresh_from_db()
    assert tree.county.parent_id == tree.city.pk


def test_moving_a_unit_under_itself_is_refused_as_a_cycle(tree):
    with pytest.raises(ValidationError) as caught:
        unit_move(unit=tree.site, new_parent=tree.site)
    assert "parent" in caught.value.message_dict


def test_moving_a_site_to_another_county_is_refused(tree):
    with pytest.raises(ValidationError):
        unit_move(unit=tree.site, new_parent=tree.far_town)
    tree.site.refresh_from_db()
    assert tree.site.parent_id == tree.town.pk


def test_admin_form_shows_the_wrong_parent_message(tree, admin_client):
    response = admin_client.post(
        "/admin/orgunits/orgunit/add/",
        {
            "code": "621121103001",
            "name": "错误村",
            "kind": UnitKind.VILLAGE,
            "parent": tree.county.pk,
        },
    )
    assert response.status_code == 200
    assert "村/社区不能放在县/区之下" in response.content.decode()
    assert not OrgUnit.objects.filter(code="621121103001").exists()


def test_admin_form_adds_a_unit_with_its_path(tree, admin_client):
    response = admin_client.post(
        "/admin/orgunits/orgunit/add/",
        {
            "code": "621121100002",
            "name": "南关社区",
            "kind": UnitKind.VILLAGE,
            "parent": tree.town.pk,
        },
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(code="621121100002").path == f"{tree.town.path}621121100002/"
