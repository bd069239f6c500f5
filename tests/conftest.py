import importlib

import pytest

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import user_create
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.django_db(transaction=True))


def pytest_sessionstart(session):
    """The suite runs against a real PostgreSQL server, never SQLite or a mock."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            "Tests need PostgreSQL: run `make test`, or set DATABASE_URL=postgres://...",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush the database, taking the vaccine products and schedules,
    the supply items and AEFI deadlines data migrations seeded with it; put them back the
    way those migrations do."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from epidispatch.vaccination.models import VaccineProduct

    if not VaccineProduct.objects.exists():
        seed = importlib.import_module("epidispatch.vaccination.migrations.0002_reference_data")
        seed.seed(apps, None)
        supply = "epidispatch.supply.migrations."
        importlib.import_module(supply + "0002_ledger_guard_trace_indexes_reference_items").seed(
            apps, None
        )
        importlib.import_module(supply + "0003_aefi").seed_deadlines(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


#: (attribute, code, name, kind, parent attribute), parents first.
TREE_UNITS = [
    ("city", "621100", "定西市", UnitKind.CITY, None),
    ("county", "621121", "通渭县", UnitKind.COUNTY, "city"),
    ("other_county", "621122", "陇西县", UnitKind.COUNTY, "city"),
    ("town", "621121100000", "平襄镇", UnitKind.TOWN, "county"),
    ("other_town", "621121102000", "鸡川镇", UnitKind.TOWN, "county"),
    ("far_town", "621122100000", "巩昌镇", UnitKind.TOWN, "other_county"),
    ("village", "621121100001", "北关社区", UnitKind.VILLAGE, "town"),
    ("other_village", "621121102001", "新庄村", UnitKind.VILLAGE, "other_town"),
    ("far_village", "621122100001", "东关社区", UnitKind.VILLAGE, "far_town"),
    ("grid", "621121100001001", "北关社区第1网格", UnitKind.GRID, "village"),
    ("sibling_grid", "621121100001002", "北关社区第2网格", UnitKind.GRID, "village"),
    ("other_grid", "621121102001001", "新庄村第1网格", UnitKind.GRID, "other_village"),
    ("far_grid", "621122100001001", "东关社区第1网格", UnitKind.GRID, "far_village"),
    ("department", "621121980001", "县邮政公司", UnitKind.DEPARTMENT, "county"),
    ("industry_grid", "621121990001", "交通运输行业网格", UnitKind.INDUSTRY_GRID, "county"),
    ("site", "621121970001", "平襄镇卫生院接种点", UnitKind.SITE, "town"),
    ("other_site", "621121970002", "鸡川镇卫生院接种点", UnitKind.SITE, "other_town"),
]


class Tree:
    """Two counties of one city, each with towns, villages and grids, plus a department,
    an industry grid and sites: enough to try every kind of cross-scope read."""

    def __init__(self):
        for attribute, code, name, kind, parent in TREE_UNITS:
            parent_code = getattr(self, parent).code if parent else None
            setattr(
                self,
                attribute,
                unit_create(code=code, name=name, kind=kind, parent_code=parent_code),
            )


@pytest.fixture
def tree(db) -> Tree:
    return Tree()


@pytest.fixture
def make_user(db):
    counter = iter(range(10_000))

    def make(role: str, *units, username: str | None = None):
        return user_create(
            username=username or f"{role}-{next(counter)}",
            password="secret-pass-1",
            roles=[(role, unit) for unit in units],
        )

    return make


@pytest.fixture
def dispatcher(tree, make_user):
    return make_user(Role.DISPATCHER, tree.county)
