"""Fixtures shared by the field-work tests (tests/test_fieldwork_*.py)."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .test_registry_pages import id_number

#: The fixtures, for `from .fieldwork_fixtures import *` (ruff reads a fixture imported by
#: name and taken as a parameter as a redefinition).
__all__ = [
    "_media_root",
    "coronavac",
    "far_worker",
    "leader",
    "resident",
    "second_worker",
    "sibling_worker",
    "site_staff",
    "worker",
]

#: The smallest files that are what they say (signatures of JPEG, PNG and PDF).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def upload(content: bytes = JPEG, name: str = "凭证.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def worker(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid, username="worker-beiguan-1")


@pytest.fixture
def second_worker(tree, make_user):
    """A second worker of the same grid (two people share a grid's round)."""
    return make_user(Role.GRID_WORKER, tree.grid, username="worker-beiguan-1b")


@pytest.fixture
def sibling_worker(tree, make_user):
    """The worker of the neighbouring grid of the same village."""
    return make_user(Role.GRID_WORKER, tree.sibling_grid, username="worker-beiguan-2")


@pytest.fixture
def far_worker(tree, make_user):
    """A grid worker of another town."""
    return make_user(Role.GRID_WORKER, tree.other_grid, username="worker-xinzhuang")


@pytest.fixture
def leader(tree, make_user):
    return make_user(Role.LEADER, tree.county, username="county-leader")


@pytest.fixture
def site_staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="site-staff")


@pytest.fixture
def coronavac(db):
    return VaccineProduct.objects.get(code="coronavac")


@pytest.fixture
def resident(tree):
    """An adult of 北关社区第1网格 with no dose: on the 清零 list."""
    return resident_create(name="张三", id_number=id_number(1), phone="13812345678", grid=tree.grid)


def give_dose(resident, site, by, product, days_ago: int = 0):
    return dose_record(
        resident=resident,
        product=product,
        given_on=timezone.localdate() - timedelta(days=days_ago),
        site=site,
        by=by,
    )


def new_submission() -> uuid.UUID:
    return uuid.uuid4()
