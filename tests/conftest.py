import fcntl
import importlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg import sql

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


def _database(cursor, name: str) -> tuple[bool, str | None]:
    """(whether the database is on the server, its comment)."""
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    )
    found = cursor.fetchone()
    return found is not None, found and found[0]


def _copy_of_migrated_template(keep: bool) -> None:
    """Point the connection at this xdist worker's test database, a copy (CREATE DATABASE ...
    TEMPLATE, about a second) of a template the first worker of the run migrated: the
    migrations run once a run, not once a worker (~30 s each). The workers take turns through
    a file lock; the template carries the run's id, so one left by another run is rebuilt.
    With `keep` (--reuse-db) a worker's database already there is migrated and used as is."""
    from django.conf import settings
    from django.db import connection

    run = os.environ["PYTEST_XDIST_TESTRUNUID"]
    name = connection.creation._get_test_db_name()  # test_<database>_gw<n>
    template = name.rsplit("_", 1)[0] + "_template"
    quote = connection.ops.quote_name
    with _template_lock(template):
        with connection._nodb_cursor() as cursor:
            kept = keep and _database(cursor, name)[0]
            fresh = _database(cursor, template)[1] == run
        if kept:
            connection.creation.create_test_db(verbosity=0, serialize=False, keepdb=True)
            return
        if not fresh:
            connection.settings_dict["TEST"]["NAME"] = template
            try:
                connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            finally:
                connection.settings_dict["TEST"]["NAME"] = name
            connection.close()
            with connection._nodb_cursor() as cursor:
                # A utility statement takes no bound parameter: the id goes in as a literal.
                comment = sql.SQL("COMMENT ON DATABASE {} IS {}")
                cursor.execute(comment.format(sql.Identifier(template), sql.Literal(run)))
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name
    connection.ensure_connection()


@contextmanager
def _template_lock(template: str):
    with (Path(tempfile.gettempdir()) / f"epidispatch-{template}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


if os.environ.get("PYTEST_XDIST_WORKER"):

    @pytest.fixture(scope="session")
    def django_db_setup(
        request, django_test_environment, django_db_blocker, django_db_modify_db_settings
    ):
        """pytest-django's fixture, for an xdist worker: its test database is a copy of one
        migrated template (_copy_of_migrated_template)."""
        from django.db import connection

        keep = request.config.getvalue("reuse_db") and not request.config.getvalue("create_db")
        original = connection.settings_dict["NAME"]
        with django_db_blocker.unblock():
            _copy_of_migrated_template(keep)
        yield
        if keep:
            return
        with django_db_blocker.unblock():
            connection.creation.destroy_test_db(original, verbosity=0)
            template = connection.creation._get_test_db_name().rsplit("_", 1)[0] + "_template"
            with _template_lock(template), connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(template)}")


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
