"""Fixtures shared by the vaccination-site tests (tests/test_sites_*.py)."""

from datetime import time

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.fieldwork import reminders
from epidispatch.registry.services import resident_create
from epidispatch.sites.models import SiteKind, Slot
from epidispatch.sites.services import session_create

from .test_registry_pages import id_number

#: The fixtures, for `from .sites_fixtures import *`.
__all__ = ["outbox", "resident", "session", "site_staff"]


@pytest.fixture
def site_staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="site-staff")


@pytest.fixture
def resident(tree):
    """An adult of 北关社区第1网格 with a phone on file and no dose."""
    return resident_create(name="张三", id_number=id_number(1), phone="13812345678", grid=tree.grid)


@pytest.fixture
def session(tree, dispatcher):
    """Today's whole-day session at 平襄镇's site, 10 people an hour."""
    return session_create(
        site=tree.site,
        kind=SiteKind.FIXED,
        day=timezone.localdate(),
        opens_at=time(0, 0),
        closes_at=time(23, 59),
        capacity_per_hour=10,
        by=dispatcher,
    )


@pytest.fixture
def outbox(settings):
    settings.EPIDISPATCH_REMINDER_BACKEND = "epidispatch.fieldwork.reminders.LocmemBackend"
    reminders.outbox.clear()
    return reminders.outbox


def current_slot(session) -> Slot:
    """The slot of the hour we are in (so the public page counts it as still to come)."""
    hour = timezone.localtime().time().replace(minute=0, second=0, microsecond=0)
    return session.slots.get(starts_at=hour)


def residents(tree, count: int, start: int = 100, grid=None):
    return [
        resident_create(name=f"居民{n}", id_number=id_number(n), grid=grid or tree.grid)
        for n in range(start, start + count)
    ]


def staff_member(tree, by, name: str = "李护士", unit=None):
    from epidispatch.sites.services import staff_create

    return staff_create(name=name, unit=unit or tree.site, by=by)


def equipment(site, by, kind: str = "fridge", label: str = "1号冰箱"):
    from epidispatch.sites.services import equipment_add

    return equipment_add(site=site, kind=kind, label=label, by=by)
