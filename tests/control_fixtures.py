"""Fixtures shared by the key-population control tests (tests/test_control_*.py)."""

import importlib
from datetime import date

import pytest

from epidispatch.accounts.models import Role
from epidispatch.control.models import ControlPolicy
from epidispatch.control.services import case_register, key_person_resolve
from epidispatch.registry.services import resident_create

from .test_registry_pages import id_number

__all__ = ["far_officer", "far_worker", "officer", "policies", "resident_a", "worker"]

#: Days on which each shipped version is in force.
NINTH = date(2022, 7, 1)
TWENTY = date(2022, 11, 20)


@pytest.fixture
def policies(db):
    """The shipped versions (a data migration seeds them; a transactional test's flush
    takes them away, so put them back the same way)."""
    if not ControlPolicy.objects.exists():
        from django.apps import apps

        importlib.import_module("epidispatch.control.migrations.0002_policies").seed(apps, None)


@pytest.fixture
def officer(tree, make_user, policies):
    return make_user(Role.CONTROL_OFFICER, tree.county, username="control-officer")


@pytest.fixture
def far_officer(tree, make_user, policies):
    return make_user(Role.CONTROL_OFFICER, tree.other_county, username="control-longxi")


@pytest.fixture
def worker(tree, make_user, policies):
    return make_user(Role.GRID_WORKER, tree.grid, username="worker-beiguan-1")


@pytest.fixture
def far_worker(tree, make_user, policies):
    return make_user(Role.GRID_WORKER, tree.other_grid, username="worker-xinzhuang")


@pytest.fixture
def resident_a(tree):
    return resident_create(name="张三", id_number=id_number(1), phone="13800000001", grid=tree.grid)


def register(
    *,
    sequence: int,
    grid,
    category: str = "close_contact",
    reference: date,
    registered: date | None = None,
    by=None,
    name: str = "",
):
    """A non-resident key person in `grid` with one case."""
    person = key_person_resolve(
        name=name or f"人员{sequence}", id_number=id_number(sequence), grid=grid
    )
    return case_register(
        person=person,
        category=category,
        reference_date=reference,
        registered_on=registered or reference,
        source="pushed",
        by=by,
    ).case
