"""First response to a positive (第一时间第一落点): trajectory, candidate contacts from
what the platform holds, confirmation as 密接/次密接 in one step, the first-hour checklist."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from epidispatch.accounts.models import Role
from epidispatch.control.models import CandidateState, ContactCandidate, ControlCase
from epidispatch.control.services import (
    Stop,
    contacts_confirm,
    key_person_resolve,
    positive_record,
    response_step_done,
)
from epidispatch.control.signals import Proposal, contact_candidates_wanted
from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number
from epidispatch.fieldwork.services import checkpoint_record_create

from .control_fixtures import *  # noqa: F403 - the fixtures
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FOUND = date(2022, 7, 5)
AT_MALL = datetime(2022, 7, 4, 15, 0, tzinfo=SHANGHAI)


def _positive(tree, officer, address=""):
    person = key_person_resolve(
        name="病例一", id_number=id_number(100), grid=tree.grid, address=address
    )
    return positive_record(
        person=person, found_on=FOUND,
        trajectory=[Stop("万达广场", AT_MALL, AT_MALL + timedelta(hours=2))], by=officer,
    )  # fmt: skip


@pytest.fixture
def checkpoint_staff(tree, make_user):
    return make_user(Role.CONTROL_OFFICER, tree.county, username="checkpoint-staff")


@pytest.fixture
def seen_at_mall(tree, checkpoint_staff, resident_a, policies):
    """Three people seen at checkpoints: two at the mall within the window, one too late."""
    for sequence, place, at in [
        (1, "万达广场", AT_MALL + timedelta(minutes=30)),
        (2, "万达广场", AT_MALL - timedelta(minutes=50)),
        (3, "万达广场", AT_MALL + timedelta(hours=4)),
        (4, "火车站", AT_MALL),
    ]:
        checkpoint_record_create(
            unit=tree.county, place=place, seen_at=at, id_number=id_number(sequence),
            name=f"人员{sequence}", by=checkpoint_staff,
        )  # fmt: skip


class PooledTube:
    """What the screening module answers on the hook: the other members of the positive
    person's pooled tube (here, one tube of 10 of which the positive person is one)."""

    def __init__(self, positive_number: str, members: list[str]):
        self.positive = protection.lookup_digest(positive_number)
        self.members = members

    def __call__(self, sender, id_number_digest, found_on, **kwargs):
        if id_number_digest != self.positive:
            return []
        return [
            Proposal(
                reason="pooled_tube", id_number_digest=protection.lookup_digest(number),
                id_number_encrypted=protection.encrypt(number),
                id_number_masked=mask_id_number(number), name=f"同管{n}",
                exposed_on=found_on - timedelta(days=1), detail="试管 T0001",
            )
            for n, number in enumerate(self.members)
        ]  # fmt: skip


def test_checkpoint_records_at_a_trajectory_place_within_the_hour_are_proposed(
    tree, officer, seen_at_mall
):
    positive = _positive(tree, officer)
    candidates = list(positive.candidates.order_by("name"))
    assert [(c.name, c.reason) for c in candidates] == [
        ("人员2", "checkpoint"), ("张三", "checkpoint")]  # fmt: skip
    zhang = next(c for c in candidates if c.name == "张三")
    assert zhang.resident is not None and zhang.grid == tree.grid
    assert zhang.exposed_on == date(2022, 7, 4)


def test_a_positive_pooled_tube_proposes_exactly_its_members_as_contacts(tree, officer):
    members = [id_number(n) for n in range(200, 209)] + [id_number(100)]
    tube = PooledTube(id_number(100), members)
    contact_candidates_wanted.connect(tube, dispatch_uid="test-pooled-tube")
    try:
        positive = _positive(tree, officer)
    finally:
        contact_candidates_wanted.disconnect(dispatch_uid="test-pooled-tube")
    proposed = set(positive.candidates.values_list("id_number_digest", flat=True))
    assert proposed == {protection.lookup_digest(n) for n in members[:-1]}
    assert set(positive.candidates.values_list("reason", flat=True)) == {"pooled_tube"}


def test_people_at_the_same_address_are_proposed(tree, officer):
    key_person_resolve(name="同住", id_number=id_number(50), grid=tree.grid, address="北关路1号")
    positive = _positive(tree, officer, address="北关路1号")
    assert [(c.name, c.reason) for c in positive.candidates.all()] == [("同住", "address")]


def test_the_officer_confirms_two_candidates_in_one_step(tree, officer, seen_at_mall):
    positive = _positive(tree, officer)
    first, second = positive.candidates.order_by("id")
    cases = contacts_confirm(
        positive=positive,
        choices={first.pk: "close_contact", second.pk: "secondary_contact"},
        on=FOUND, by=officer,
    )  # fmt: skip
    assert sorted(c.category for c in cases) == ["close_contact", "secondary_contact"]
    assert all(c.positive == positive and c.source == "tracing" for c in cases)
    assert set(ContactCandidate.objects.values_list("state", flat=True)) == {
        CandidateState.CONFIRMED}  # fmt: skip
    assert {c.reference_date for c in cases} == {date(2022, 7, 4)}


def test_a_confirmation_with_one_refused_category_stores_none(tree, officer, seen_at_mall):
    positive = _positive(tree, officer)
    first, second = positive.candidates.order_by("id")
    with pytest.raises(ValidationError):
        contacts_confirm(
            positive=positive,
            choices={first.pk: "close_contact", second.pk: "secondary_contact"},
            on=date(2022, 11, 20), by=officer,
        )  # fmt: skip
    assert not ControlCase.objects.exists()
    assert set(positive.candidates.values_list("state", flat=True)) == {"proposed"}


def test_the_first_hour_checklist_keeps_the_time_of_each_step_once(tree, officer):
    positive = _positive(tree, officer)
    assert list(positive.steps.values_list("step", flat=True)) == ["report"]
    first = response_step_done(positive=positive, step="trace", by=officer)
    again = response_step_done(positive=positive, step="trace", by=officer)
    assert again.done_at == first.done_at
    assert positive.steps.count() == 2


def test_a_grid_worker_or_another_countys_officer_cannot_record_a_positive(
    tree, worker, far_officer
):
    person = key_person_resolve(name="病例一", id_number=id_number(100), grid=tree.grid)
    for user in (worker, far_officer):
        with pytest.raises(PermissionDenied):
            positive_record(person=person, found_on=FOUND, trajectory=[], by=user)
