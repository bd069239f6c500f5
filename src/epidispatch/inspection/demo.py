"""Inspections of the demo county: key places of 鸡川镇 and 榜罗镇 (the demo inspector's
towns), the county's first inspection team, and one unannounced inspection at a mall
whose problem waits for 鸡川镇 (`town_jichuan`) to rectify it."""

import base64
from datetime import timedelta

from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.orgunits.models import OrgUnit

from .models import Inspection, InspectionKind, PlaceCategory, Team
from .reference import reference_data_load
from .services import (
    PlaceFields,
    ProblemInput,
    checklist_in_force,
    inspection_record,
    place_save,
)

TEAM = "县第一督导组"
TEAM_TOWNS = ("621121102000", "621121103000")
#: (name, category, address, responsible unit, person in charge, phone)
PLACES = [
    ("鸡川商贸城", "商场", "鸡川镇街道1号", "621121102000", "牛建华", "13909321234"),
    ("鸡川镇农贸市场", "农贸市场", "鸡川镇南街", "621121102000", "马国平", "13519325678"),
    ("鸡川镇中心小学", "学校", "鸡川镇北街8号", "621121102000", "常文斌", "18093214321"),
    ("榜罗镇敬老院", "养老机构", "榜罗镇东街", "621121103000", "赵玉梅", "15393218765"),
    ("榜罗客运站", "交通场站", "榜罗镇西关", "621121103000", "魏海涛", "17793210000"),
]
#: A 1×1 PNG standing in for the inspector's photo.
DEMO_PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@transaction.atomic
def load_inspection() -> int:
    """Add the demo's key places, team and one inspection, once; returns the places added."""
    inspector = User.objects.filter(username="inspector").first()
    towns = list(OrgUnit.objects.filter(code__in=TEAM_TOWNS))
    if inspector is None or len(towns) != len(TEAM_TOWNS):
        return 0
    reference_data_load(django_apps)
    categories = {category.name: category for category in PlaceCategory.objects.all()}
    units = {town.code: town for town in towns}
    added = 0
    places = []
    for name, category, address, unit, contact, phone in PLACES:
        place, outcome = place_save(
            fields=PlaceFields(
                name=name,
                category=categories[category],
                responsible_unit=units[unit],
                address=address,
                contact_name=contact,
                contact_phone=phone,
            )
        )
        added += outcome == "stored"
        places.append(place)
    team, created = Team.objects.get_or_create(name=TEAM)
    if created:
        team.members.add(inspector)
        team.units.add(*towns)
    mall = places[0]
    if not Inspection.objects.filter(place=mall).exists():
        items = list(checklist_in_force(mall.category, timezone.localdate()).items.all())
        now = timezone.now()
        inspection_record(
            place=mall,
            kind=InspectionKind.UNANNOUNCED,
            by=inspector,
            results={item.pk: index != 0 for index, item in enumerate(items)},
            problems=[
                ProblemInput(
                    item=items[0],
                    description="入口查验点无人值守，顾客未扫码进入",
                    evidence=[SimpleUploadedFile("现场.png", DEMO_PHOTO, "image/png")],
                )
            ],
            person_on_duty="牛建华",
            deadline=now + timedelta(days=2),
            done_at=now - timedelta(hours=2),
        )
    return added
