"""Every write of the sites app leaves its before and after on the audit trail, filed
under the site's unit, so the county's dispatcher reads it and another county's does not."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.audit.models import Change
from epidispatch.sites.models import SiteKind, StaffRole
from epidispatch.sites.services import (
    _book,
    appointment_cancel,
    appointment_check_in,
    equipment_add,
    equipment_check_record,
    qualification_record,
    roster_assign,
    roster_move,
    roster_remove,
    session_create,
    staff_create,
    training_result_record,
    training_session_create,
)

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import current_slot, residents

DAY = date(2026, 12, 3)


class World:
    def __init__(self, tree, dispatcher, site_staff, session):
        self.tree, self.dispatcher, self.site_staff, self.session = (
            tree,
            dispatcher,
            site_staff,
            session,
        )
        self.nurse = staff_create(name="李护士", unit=tree.site, by=dispatcher)
        qualification_record(
            staff=self.nurse,
            role=StaffRole.VACCINATOR,
            passed_on=date(2026, 1, 1),
            expires_on=DAY,
            by=dispatcher,
        )

    def post(self):
        return roster_assign(
            staff=self.nurse,
            site=self.tree.site,
            role=StaffRole.VACCINATOR,
            day=DAY,
            starts_at=time(8),
            ends_at=time(12),
            by=self.dispatcher,
        )

    def booking(self):
        return _book(slot=current_slot(self.session), resident=residents(self.tree, 1)[0], by=None)

    def training(self):
        return training_session_create(
            unit=self.tree.site,
            title="本点培训",
            role=StaffRole.VACCINATOR,
            held_on=date(2026, 11, 1),
            by=self.site_staff,
        )


@pytest.fixture
def world(tree, dispatcher, site_staff, session):
    return World(tree, dispatcher, site_staff, session)


#: (what, the write, the model of the change it leaves, the action)
WRITES = [
    (
        "session_create",
        lambda w: session_create(
            site=w.tree.site,
            kind=SiteKind.MOBILE,
            day=timezone.localdate() + timedelta(days=1),
            opens_at=time(9),
            closes_at=time(11),
            capacity_per_hour=20,
            by=w.site_staff,
        ),
        "session",
        Change.Action.CREATE,
    ),
    ("booking", lambda w: w.booking(), "appointment", Change.Action.CREATE),
    (
        "appointment_cancel",
        lambda w: appointment_cancel(appointment=w.booking(), by=None),
        "appointment",
        Change.Action.UPDATE,
    ),
    (
        "appointment_check_in",
        lambda w: appointment_check_in(
            site=w.tree.site, resident=w.booking().resident, by=w.site_staff
        ),
        "appointment",
        Change.Action.UPDATE,
    ),
    ("roster_assign", lambda w: w.post(), "rosterentry", Change.Action.CREATE),
    (
        "roster_remove",
        lambda w: roster_remove(entry=w.post(), by=w.dispatcher),
        "rosterentry",
        Change.Action.DELETE,
    ),
    (
        "roster_move",
        lambda w: roster_move(entry=w.post(), site=w.tree.other_site, by=w.dispatcher),
        "rosterentry",
        Change.Action.DELETE,
    ),
    (
        "staff_create",
        lambda w: staff_create(name="王医生", unit=w.tree.site, by=w.site_staff),
        "staffmember",
        Change.Action.CREATE,
    ),
    ("training_session_create", lambda w: w.training(), "trainingsession", Change.Action.CREATE),
    (
        "training_result_record",
        lambda w: training_result_record(
            training=w.training(), staff=w.nurse, passed=True, by=w.site_staff
        ),
        "qualification",
        Change.Action.CREATE,
    ),
    (
        "equipment_add",
        lambda w: equipment_add(site=w.tree.site, kind="fridge", label="1号冰箱", by=w.site_staff),
        "equipment",
        Change.Action.CREATE,
    ),
    (
        "equipment_check_record",
        lambda w: equipment_check_record(
            equipment=equipment_add(
                site=w.tree.site, kind="fridge", label="1号冰箱", by=w.site_staff
            ),
            temperature=Decimal("9.1"),
            working=True,
            by=w.site_staff,
        ),
        "equipmentcheck",
        Change.Action.CREATE,
    ),
]


@pytest.mark.parametrize(("name", "write", "model", "action"), WRITES, ids=[w[0] for w in WRITES])
def test_every_site_write_leaves_a_change_under_the_sites_unit(world, name, write, model, action):
    started = timezone.now()
    write(world)
    change = (
        Change.objects.filter(
            content_type__app_label="vaccination_sites",
            content_type__model=model,
            action=action,
            timestamp__gte=started,
        )
        .order_by("-timestamp")
        .first()
    )
    assert change is not None, f"{name} left no {model} change"
    assert change.unit_path.startswith(world.tree.site.path) or model == "staffmember"


def test_a_recorded_dose_puts_the_appointment_vaccinated_on_the_trail(world, tree, site_staff):
    from epidispatch.vaccination.models import VaccineProduct
    from epidispatch.vaccination.services import dose_record

    appointment = world.booking()
    appointment_check_in(site=tree.site, resident=appointment.resident, by=site_staff)
    dose_record(
        resident=appointment.resident,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate(),
        site=tree.site,
        by=site_staff,
    )
    change = Change.objects.filter(content_type__model="appointment").latest("timestamp")
    assert change.changes["state"] == ["checked_in", "vaccinated"]


def test_the_counties_dispatcher_reads_a_roster_change_and_another_countys_does_not(
    world, client, tree, make_user
):
    client.force_login(world.dispatcher)
    client.post(
        f"{reverse('sites:roster', args=[tree.site.code])}?day={DAY}",
        {
            "action": "add",
            "staff": world.nurse.pk,
            "role": "vaccinator",
            "starts_at": "08:00",
            "ends_at": "12:00",
        },
    )
    change = Change.objects.get(content_type__model="rosterentry")
    assert change.actor == world.dispatcher
    page = client.get("/audit/", {"kind": "vaccination_sites.rosterentry"}).content.decode()
    assert "李护士" in page
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    page = client.get("/audit/", {"kind": "vaccination_sites.rosterentry"}).content.decode()
    assert "李护士" not in page
