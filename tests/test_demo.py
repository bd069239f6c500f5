"""The demo county generator (seed 001: 通渭县)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from epidispatch.accounts.models import Role, RoleAssignment, User
from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.demo import generator
from epidispatch.dispatch.models import Snapshot
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import Dose

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    generator.load_units()
    generator.load_users()
    generator.load_residents(300)


def test_county_seat_has_57_community_grids_and_the_county_9_industry_grids(demo):
    seat = OrgUnit.objects.get(name="平襄镇")
    grids = OrgUnit.objects.filter(path__startswith=seat.path, kind=UnitKind.GRID)
    assert grids.count() == 57
    assert OrgUnit.objects.filter(kind=UnitKind.INDUSTRY_GRID, county_code="621121").count() == 9


def test_real_town_names_and_departments_are_there(demo):
    names = set(OrgUnit.objects.values_list("name", flat=True))
    assert {"通渭县", "平襄镇", "鸡川镇", "榜罗镇", "县邮政公司", "县移动公司"} <= names
    assert OrgUnit.objects.filter(kind=UnitKind.SITE).count() >= len(generator.TOWNS)


def test_every_role_has_a_demo_user_who_can_log_in(demo, client):
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    for username in ("dispatcher", "grid_worker", "site_staff"):
        response = client.post(
            "/accounts/login/", {"username": username, "password": generator.DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        client.logout()


def test_demo_residents_have_valid_ids_that_match_their_derived_fields(demo):
    residents = list(Resident.objects.select_related("grid"))
    assert len(residents) == 300
    for resident in residents:
        card = parse_id_number(protection.decrypt(resident.id_number_encrypted))
        assert (card.birth_date, card.sex) == (resident.birth_date, resident.sex)
        assert resident.id_number_digest == protection.lookup_digest(card.number)
        assert resident.grid.kind == UnitKind.GRID


def test_no_id_number_or_phone_is_stored_in_clear(demo):
    resident = Resident.objects.first()
    number = protection.decrypt(resident.id_number_encrypted)
    phone = protection.decrypt(resident.phone_encrypted) if resident.phone_encrypted else None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_resident WHERE id = %s", [resident.pk])
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert number not in stored
    assert number[6:14] not in stored  # not even the birth date part
    if phone:
        assert phone not in stored


def test_loading_again_adds_nothing_and_loading_more_adds_only_the_rest(demo):
    counts = (OrgUnit.objects.count(), User.objects.count(), Resident.objects.count())
    assert generator.load_units() == 0
    generator.load_users()
    assert generator.load_residents(300) == 0
    assert (OrgUnit.objects.count(), User.objects.count(), Resident.objects.count()) == counts
    assert generator.load_residents(350) == 50


def test_residents_spread_over_the_age_bands_and_grids(demo):
    births = list(Resident.objects.values_list("birth_date", flat=True))
    reference = generator.reference_day()
    ages = [(reference - born).days // 365 for born in births]
    assert any(age >= 60 for age in ages)
    assert any(age < 18 for age in ages)
    assert Resident.objects.values("grid").distinct().count() > 50


def test_the_demo_is_current_its_last_cutoff_was_yesterday(demo):
    """A county whose history ends years ago shows every due date overdue: the demo's
    history runs HISTORY_DAYS up to yesterday, and its doses up to then."""
    generator.load_doses()
    generator.load_dispatch()
    yesterday = timezone.localdate() - timedelta(days=1)
    days = list(Snapshot.objects.order_by("day").values_list("day", flat=True))
    assert days[-1] == yesterday
    assert days[0] == yesterday - timedelta(days=generator.HISTORY_DAYS - 1)
    latest_dose = Dose.objects.aggregate(latest=Max("given_on"))["latest"]
    assert yesterday - timedelta(days=30) <= latest_dose <= yesterday


def test_loading_the_demo_again_on_a_later_day_adds_nothing(demo, monkeypatch):
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert generator.load_residents(300) == 0
