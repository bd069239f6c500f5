"""二码联查 checkpoints: a person seen unvaccinated is matched to a resident of the
checkpoint's county and lands as a task on their grid worker's round; an unknown person
is kept for the county office; nothing about anyone is told to the checkpoint staff."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.fieldwork.models import CheckpointRecord, CheckpointState
from epidispatch.fieldwork.selectors import checkpoint_tasks
from epidispatch.fieldwork.services import checkpoint_record_create
from epidispatch.registry.services import resident_create

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .test_registry_pages import id_number, wrong_check_digit

pytestmark = pytest.mark.django_db


@pytest.fixture
def station_staff(tree, make_user):
    """Checkpoint staff at the bus station: a worker of the transport industry grid."""
    return make_user(Role.GRID_WORKER, tree.industry_grid, username="station-staff")


def register(staff, unit, **identity):
    return checkpoint_record_create(
        unit=unit,
        place="通渭汽车站",
        seen_at=timezone.now() - timedelta(minutes=5),
        by=staff,
        **identity,
    )


def test_a_person_seen_at_a_station_lands_on_their_grid_workers_round(
    tree, resident, worker, sibling_worker, station_staff, client
):
    record = register(station_staff, tree.industry_grid, id_number=id_number(1))
    assert (record.resident, record.state) == (resident, CheckpointState.OPEN)
    assert list(checkpoint_tasks(worker, tree.grid)) == [record]
    assert list(checkpoint_tasks(sibling_worker, tree.village)) == []
    client.force_login(worker)
    page = client.get(f"/field/grids/{tree.grid.code}/").content.decode()
    assert f'data-task="{record.pk}"' in page and "通渭汽车站" in page


def test_a_person_is_matched_by_phone_when_no_id_number_is_given(tree, resident, station_staff):
    record = register(station_staff, tree.industry_grid, phone="138 1234 5678")
    assert record.resident == resident
    assert record.phone_masked == "138****5678"


def test_a_phone_shared_by_a_family_matches_nobody(tree, resident, station_staff):
    resident_create(name="张小三", id_number=id_number(7), phone="13812345678", grid=tree.grid)
    record = register(station_staff, tree.industry_grid, phone="13812345678")
    assert (record.resident, record.state) == (None, CheckpointState.UNMATCHED)


def test_an_unknown_person_is_kept_unmatched_for_the_county_office(
    tree, resident, station_staff, dispatcher, worker, client
):
    client.force_login(station_staff)
    response = client.post(
        "/field/checkpoint/",
        {
            "unit": tree.industry_grid.pk,
            "place": "通渭汽车站",
            "seen_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "id_number": id_number(99),
            "name": "过路人",
        },
        follow=True,
    )
    record = CheckpointRecord.objects.get()
    assert (record.resident, record.state) == (None, CheckpointState.UNMATCHED)
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]
    assert id_number(99) not in response.content.decode()
    assert record.id_number_masked in response.content.decode()
    # Nobody's round gets it; the county office sees it in its records.
    assert not checkpoint_tasks(worker, tree.county).exists()
    client.force_login(dispatcher)
    assert f'data-record="{record.pk}"' in client.get("/field/checkpoint/").content.decode()


def test_a_resident_of_another_county_is_unknown_here(tree, station_staff):
    resident_create(name="王五", id_number=id_number(5), grid=tree.far_grid)
    record = register(station_staff, tree.industry_grid, id_number=id_number(5))
    assert record.state == CheckpointState.UNMATCHED


def test_the_checkpoint_page_does_not_tell_who_was_matched(tree, resident, station_staff, client):
    client.force_login(station_staff)
    client.post(
        "/field/checkpoint/",
        {
            "unit": tree.industry_grid.pk,
            "place": "通渭汽车站",
            "seen_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "id_number": id_number(1),
        },
    )
    page = client.get("/field/checkpoint/").content.decode()
    assert resident.name not in page and tree.grid.name not in page
    assert 'data-state="open"' in page


def test_a_record_needs_an_id_number_or_a_phone(tree, station_staff):
    with pytest.raises(ValidationError):
        register(station_staff, tree.industry_grid)
    with pytest.raises(ValidationError) as error:
        register(station_staff, tree.industry_grid, id_number=wrong_check_digit(id_number(1)))
    assert "id_number" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        register(station_staff, tree.industry_grid, phone="12345")
    assert "phone" in error.value.error_dict
    assert not CheckpointRecord.objects.exists()


def test_a_time_in_the_future_is_refused(tree, station_staff):
    with pytest.raises(ValidationError):
        checkpoint_record_create(
            unit=tree.industry_grid,
            place="商场",
            seen_at=timezone.now() + timedelta(hours=2),
            id_number=id_number(1),
            by=station_staff,
        )


def test_records_are_only_registered_for_ones_own_units(tree, station_staff, leader, client):
    with pytest.raises(PermissionDenied):
        register(station_staff, tree.grid, id_number=id_number(1))
    client.force_login(leader)
    assert client.get("/field/checkpoint/").status_code == 403


def test_the_checkpoint_list_of_another_town_is_not_shown(
    tree, resident, station_staff, far_worker, client
):
    record = register(station_staff, tree.industry_grid, id_number=id_number(1))
    client.force_login(far_worker)
    assert f'data-record="{record.pk}"' not in client.get("/field/checkpoint/").content.decode()
