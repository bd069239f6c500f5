"""Equipment checks (配足配齐人员设备): a refrigerator's temperature outside 2–8 °C, a kit
not complete or a generator that does not start is flagged; checks are the site's own."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from epidispatch.accounts.models import Role
from epidispatch.sites.models import EquipmentCheck, EquipmentKind
from epidispatch.sites.selectors import equipment_alerts
from epidispatch.sites.services import equipment_add, equipment_check_record

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import equipment


@pytest.mark.parametrize(
    ("reading", "flagged"),
    [("2.0", False), ("4.5", False), ("8.0", False), ("8.1", True), ("1.9", True), ("-3", True)],
)
def test_a_refrigerator_outside_2_to_8_degrees_is_flagged(tree, site_staff, reading, flagged):
    fridge = equipment(tree.site, site_staff)
    check = equipment_check_record(
        equipment=fridge, temperature=Decimal(reading), working=True, by=site_staff
    )
    assert check.out_of_range is flagged


def test_a_refrigerator_check_without_a_temperature_is_refused(tree, site_staff):
    fridge = equipment(tree.site, site_staff)
    with pytest.raises(ValidationError, match="须填写温度"):
        equipment_check_record(equipment=fridge, working=True, by=site_staff)
    assert not EquipmentCheck.objects.exists()


def test_an_impossible_reading_is_refused_as_a_typo(tree, site_staff):
    fridge = equipment(tree.site, site_staff)
    with pytest.raises(ValidationError, match="不是冰箱的读数"):
        equipment_check_record(
            equipment=fridge, temperature=Decimal("45.0") * 2, working=True, by=site_staff
        )


def test_a_kit_or_generator_not_in_order_is_flagged_and_keeps_no_temperature(tree, site_staff):
    kit = equipment(tree.site, site_staff, kind=EquipmentKind.EMERGENCY_KIT, label="急救箱")
    generator = equipment(tree.site, site_staff, kind=EquipmentKind.GENERATOR, label="发电机")
    short = equipment_check_record(
        equipment=kit, working=False, temperature=Decimal("5"), note="肾上腺素过期", by=site_staff
    )
    fine = equipment_check_record(equipment=generator, working=True, by=site_staff)
    assert (short.out_of_range, short.temperature, fine.out_of_range) == (True, None, False)


def test_a_label_is_unique_per_site(tree, site_staff):
    equipment(tree.site, site_staff)
    with pytest.raises(ValidationError, match="已有名为"):
        equipment(tree.site, site_staff)


def test_staff_of_another_site_and_a_town_official_may_not_record_checks(
    tree, site_staff, make_user
):
    fridge = equipment(tree.site, site_staff)
    for user in (
        make_user(Role.SITE_STAFF, tree.other_site),
        make_user(Role.TOWN_OFFICIAL, tree.town),
    ):
        with pytest.raises(PermissionDenied):
            equipment_check_record(
                equipment=fridge, temperature=Decimal("5"), working=True, by=user
            )
    with pytest.raises(PermissionDenied):
        equipment_add(
            site=tree.site, kind="fridge", label="2号冰箱", by=make_user(Role.LEADER, tree.county)
        )


def test_the_alerts_show_the_latest_check_only_and_only_in_scope(
    tree, site_staff, dispatcher, make_user
):
    fridge = equipment(tree.site, site_staff)
    other_staff = make_user(Role.SITE_STAFF, tree.other_site)
    other_fridge = equipment(tree.other_site, other_staff)
    equipment_check_record(
        equipment=fridge, temperature=Decimal("9.5"), working=True, by=site_staff
    )
    equipment_check_record(
        equipment=other_fridge, temperature=Decimal("12"), working=True, by=other_staff
    )
    assert {item.pk for item in equipment_alerts(dispatcher)} == {fridge.pk, other_fridge.pk}
    assert [item.pk for item in equipment_alerts(site_staff)] == [fridge.pk]
    equipment_check_record(
        equipment=fridge, temperature=Decimal("5.0"), working=True, by=site_staff
    )
    assert [item.pk for item in equipment_alerts(dispatcher)] == [other_fridge.pk]
    assert equipment_alerts(make_user(Role.DISPATCHER, tree.other_county)) == []


def test_the_phone_page_records_a_warm_fridge_and_flags_it(client, tree, site_staff):
    fridge = equipment(tree.site, site_staff)
    client.force_login(site_staff)
    url = reverse("sites:equipment", args=[tree.site.code])
    response = client.post(
        url, {"equipment": fridge.pk, "temperature": "9.4", "working": "1", "note": "停电"}
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "超出范围" in html and "9.4" in html and "停电" in html
    assert 'data-flag="out_of_range"' in html


def test_a_missing_temperature_on_the_page_says_so_and_stores_nothing(client, tree, site_staff):
    fridge = equipment(tree.site, site_staff)
    client.force_login(site_staff)
    response = client.post(
        reverse("sites:equipment", args=[tree.site.code]),
        {"equipment": fridge.pk, "temperature": "", "working": "1"},
    )
    assert response.status_code == 200
    assert "检查冰箱须填写温度" in response.content.decode()
    assert not EquipmentCheck.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"equipment": "99999999999999", "temperature": "5", "working": "1"},
        {"equipment": "-1", "temperature": "5", "working": "1"},
        {"equipment": "x", "temperature": "五度", "working": "maybe"},
        {"temperature": "1e400", "working": "1"},
    ],
)
def test_hostile_input_on_the_equipment_page_is_answered_not_a_500(client, tree, site_staff, data):
    equipment(tree.site, site_staff)
    client.force_login(site_staff)
    response = client.post(reverse("sites:equipment", args=[tree.site.code]), data)
    assert response.status_code in (200, 404)
    assert not EquipmentCheck.objects.exists()


def test_another_sites_equipment_cannot_be_checked_through_this_sites_page(
    client, tree, site_staff, dispatcher
):
    other_fridge = equipment(tree.other_site, dispatcher)
    client.force_login(site_staff)
    response = client.post(
        reverse("sites:equipment", args=[tree.site.code]),
        {"equipment": other_fridge.pk, "temperature": "5", "working": "1"},
    )
    assert response.status_code == 404
    assert client.get(reverse("sites:equipment", args=[tree.other_site.code])).status_code == 404
    assert not EquipmentCheck.objects.exists()


def test_the_api_lists_and_records_checks_scoped_to_the_caller(client, tree, site_staff, make_user):
    fridge = equipment(tree.site, site_staff)
    client.force_login(site_staff)
    response = client.post(
        f"/api/v1/sites/equipment/{fridge.pk}/checks",
        {"temperature": "8.6", "working": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["out_of_range"] is True
    [item] = client.get(f"/api/v1/sites/{tree.site.code}/equipment").json()
    assert (item["label"], item["out_of_range"], item["checked_today"]) == ("1号冰箱", True, True)
    client.force_login(make_user(Role.SITE_STAFF, tree.other_site))
    assert client.get(f"/api/v1/sites/{tree.site.code}/equipment").status_code == 404
    refused = client.post(
        f"/api/v1/sites/equipment/{fridge.pk}/checks",
        {"temperature": "5", "working": True},
        content_type="application/json",
    )
    assert refused.status_code == 404
    assert EquipmentCheck.objects.count() == 1


def test_equipment_never_checked_is_listed_with_no_flag_yet(client, tree, site_staff):
    equipment(tree.site, site_staff, kind=EquipmentKind.GENERATOR, label="发电机")
    client.force_login(site_staff)
    response = client.get(f"/api/v1/sites/{tree.site.code}/equipment")
    assert response.status_code == 200
    [item] = response.json()
    assert (item["last_checked_at"], item["out_of_range"], item["checked_today"]) == (
        None,
        None,
        False,
    )
    html = client.get(reverse("sites:equipment", args=[tree.site.code])).content.decode()
    assert "从未检查" in html


@pytest.mark.parametrize("pieces", [1, 6])
def test_the_equipment_page_runs_a_fixed_number_of_queries(
    client, tree, site_staff, django_assert_num_queries, pieces
):
    for n in range(pieces):
        item = equipment(tree.site, site_staff, label=f"{n + 1}号冰箱")
        for reading in ("4.0", "9.0"):
            equipment_check_record(
                equipment=item, temperature=Decimal(reading), working=True, by=site_staff
            )
    client.force_login(site_staff)
    with django_assert_num_queries(6):
        assert client.get(reverse("sites:equipment", args=[tree.site.code])).status_code == 200
