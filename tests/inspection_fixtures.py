"""Fixtures shared by the inspection tests (tests/test_inspection_*.py)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.inspection.models import InspectionKind, PlaceCategory, Team
from epidispatch.inspection.services import (
    PlaceFields,
    ProblemInput,
    checklist_in_force,
    checklist_publish,
    inspection_record,
    place_save,
)

from .fieldwork_fixtures import JPEG

__all__ = [
    "_media_root",
    "inspector",
    "mall",
    "mall_category",
    "office",
    "other_mall",
    "team",
    "town_official",
]

#: The smallest MP4 a phone would send: a box of type "ftyp" first.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def photo(name: str = "现场.jpg", content: bytes = JPEG):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def office(tree, make_user):
    return make_user(Role.DISPATCHER, tree.county, username="office")


def mall_category_with_checklist(by) -> PlaceCategory:
    """商场 and its checklist as seeded; a test that flushed the seed (browser tests, the
    cross-town world) gets it back, published by `by`."""
    category, _created = PlaceCategory.objects.get_or_create(name="商场")
    if not category.checklists.exists():
        checklist_publish(
            category=category,
            items=["扫码查验（健康码、行程码）", "测温", "佩戴口罩", "限流"],
            effective_from=date(2021, 1, 1),
            by=by,
        )
    return category


@pytest.fixture
def mall_category(office):
    return mall_category_with_checklist(office)


def items_of(place):
    """The items of the checklist in force for the place today."""
    return list(checklist_in_force(place.category, timezone.localdate()).items.all())


@pytest.fixture
def mall(tree, mall_category):
    place, _ = place_save(
        fields=PlaceFields(
            name="平襄商厦",
            category=mall_category,
            responsible_unit=tree.town,
            address="平襄镇北关路1号",
            grid=tree.grid,
            contact_name="王经理",
            contact_phone="13912345678",
        )
    )
    return place


@pytest.fixture
def other_mall(tree, mall_category):
    place, _ = place_save(
        fields=PlaceFields(
            name="鸡川超市", category=mall_category, responsible_unit=tree.other_town
        )
    )
    return place


@pytest.fixture
def inspector(tree, make_user):
    return make_user(Role.INSPECTOR, tree.town, username="inspector")


@pytest.fixture
def team(tree, inspector, mall):
    """督导组 assigned to 平襄镇 (every key place under it)."""
    team = Team.objects.create(name="县第一督导组")
    team.members.add(inspector)
    team.units.add(tree.town)
    return team


@pytest.fixture
def town_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town, username="pingxiang")


def inspect_with_problem(place, by, *, done_at=None, deadline=None, kind=InspectionKind.PLANNED):
    """An inspection where the first item (扫码查验) is not met, with a photo of it."""
    items = items_of(place)
    return inspection_record(
        place=place,
        kind=kind,
        by=by,
        results={item.pk: index != 0 for index, item in enumerate(items)},
        problems=[ProblemInput(item=items[0], description="入口无人查验", evidence=[photo()])],
        person_on_duty="李四",
        deadline=deadline,
        done_at=done_at,
    )
