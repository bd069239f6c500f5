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
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Tree:
    """Two counties of one city, each with two towns, villages, grids, a department,
    an industry grid and a site: enough to try every kind of cross-scope read."""

    def __init__(self):
        self.city = unit_create(code="621100", name="定西市", kind=UnitKind.CITY)
        self.county = unit_create(
            code="621121", name="通渭县", kind=UnitKind.COUNTY, parent_code="621100"
        )
        self.other_county = unit_create(
            code="621122", name="陇西县", kind=UnitKind.COUNTY, parent_code="621100"
        )
        self.town = unit_create(
            code="621121100000", name="平襄镇", kind=UnitKind.TOWN, parent_code="621121"
        )
        self.other_town = unit_create(
            code="621121102000", name="鸡川镇", kind=UnitKind.TOWN, parent_code="621121"
        )
        self.far_town = unit_create(
            code="621122100000", name="巩昌镇", kind=UnitKind.TOWN, parent_code="621122"
        )
        self.village = unit_create(
            code="621121100001", name="北关社区", kind=UnitKind.VILLAGE, parent_code=self.town.code
        )
        self.other_village = unit_create(
            code="621121102001",
            name="新庄村",
            kind=UnitKind.VILLAGE,
            parent_code=self.other_town.code,
        )
        self.far_village = unit_create(
            code="621122100001",
            name="东关社区",
            kind=UnitKind.VILLAGE,
            parent_code=self.far_town.code,
        )
        self.grid = unit_create(
            code="621121100001001",
            name="北关社区第1网格",
            kind=UnitKind.GRID,
            parent_code=self.village.code,
        )
        self.sibling_grid = unit_create(
            code="621121100001002",
            name="北关社区第2网格",
            kind=UnitKind.GRID,
            parent_code=self.village.code,
        )
        self.other_grid = unit_create(
            code="621121102001001",
            name="新庄村第1网格",
            kind=UnitKind.GRID,
            parent_code=self.other_village.code,
        )
        self.far_grid = unit_create(
            code="621122100001001",
            name="东关社区第1网格",
            kind=UnitKind.GRID,
            parent_code=self.far_village.code,
        )
        self.department = unit_create(
            code="621121980001", name="县邮政公司", kind=UnitKind.DEPARTMENT, parent_code="621121"
        )
        self.industry_grid = unit_create(
            code="621121990001",
            name="交通运输行业网格",
            kind=UnitKind.INDUSTRY_GRID,
            parent_code="621121",
        )
        self.site = unit_create(
            code="621121970001",
            name="平襄镇卫生院接种点",
            kind=UnitKind.SITE,
            parent_code=self.town.code,
        )
        self.other_site = unit_create(
            code="621121970002",
            name="鸡川镇卫生院接种点",
            kind=UnitKind.SITE,
            parent_code=self.other_town.code,
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
