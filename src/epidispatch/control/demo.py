"""Key persons of the demo county: a few people under measures today in the demo grid
worker's grid, a positive case whose trajectory crosses the demo's checkpoint records (so
`control` has candidates to confirm), households of the grid's residents, a control area
and the county's emergency plan."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.core import protection
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident
from epidispatch.registry.services import household_member_place

from .models import ControlArea, KeyPerson, ReadinessItem
from .policy import policy_in_force
from .services import Stop, case_register, key_person_resolve, plan_item_check, positive_record

DEMO_GRID = "621121100001001"
#: (category, days since the last exposure or arrival) of the residents put under measures.
CASES = [("close_contact", 2), ("close_contact", 6), ("high_risk_arrival", 4)]
#: A traveller staying in the grid, not a resident (a valid, synthetic ID number).
TRAVELLER = ("王建国", "620102198703154517", "北关路18号")
POSITIVE = ("刘某某", "62010219900220351X", "北关路18号")
#: The grid's first residents, three a household from 北关路18号 on (the demo's control
#: area), so the household page and the area's resident count have something to show.
DEMO_HOUSEHOLD_MEMBERS = 30


@transaction.atomic
def load_control() -> int:
    """Add the demo's key persons once (nothing when the grid has some already, or the
    demo has no residents); returns how many cases were added."""
    grid = OrgUnit.objects.filter(code=DEMO_GRID).first()
    officer = User.objects.filter(username="control").first()
    if grid is None or officer is None or KeyPerson.objects.filter(grid=grid).exists():
        return 0
    residents = list(Resident.objects.filter(grid=grid).order_by("pk")[: len(CASES)])
    if not residents:
        return 0
    today = timezone.localdate()
    for resident, (category, days) in zip(residents, CASES, strict=False):
        person = key_person_resolve(
            name=resident.name, id_number=protection.decrypt(resident.id_number_encrypted)
        )
        case_register(
            person=person, category=category, reference_date=today - timedelta(days=days),
            registered_on=today, source="pushed", by=officer,
        )  # fmt: skip
    households = list(Resident.objects.filter(grid=grid).order_by("pk")[:DEMO_HOUSEHOLD_MEMBERS])
    for number, resident in enumerate(households):
        household_member_place(
            resident=resident, address=f"北关路{18 + 2 * (number // 3)}号",
            relation="户主" if number % 3 == 0 else "", by=None,
        )  # fmt: skip
    name, number, address = TRAVELLER
    traveller = key_person_resolve(name=name, id_number=number, grid=grid, address=address)
    case_register(
        person=traveller, category="inbound", reference_date=today - timedelta(days=1),
        registered_on=today, source="self_report", by=officer,
    )  # fmt: skip
    name, number, address = POSITIVE
    now = timezone.now()
    positive_record(
        person=key_person_resolve(name=name, id_number=number, grid=grid, address=address),
        found_on=today,
        trajectory=[
            Stop("通渭县汽车站", now - timedelta(hours=4), now - timedelta(hours=2)),
            Stop("通渭县百货大楼", now - timedelta(hours=3, minutes=30), now - timedelta(hours=3)),
        ],
        by=officer,
    )
    county = OrgUnit.objects.get(code=grid.county_code)
    ControlArea.objects.create(
        name="北关路18号楼", unit=grid, addresses="北关路18号", level="high",
        policy=policy_in_force(today), started_on=today, last_case_on=today,
        county_code=grid.county_code,
    )  # fmt: skip
    for item in ReadinessItem:
        plan_item_check(
            unit=county, item=item, ready=item != ReadinessItem.SUPPLIES,
            note="" if item != ReadinessItem.SUPPLIES else "防护服库存不足3天用量",
            on=today - timedelta(days=3), by=officer,
        )  # fmt: skip
    return len(residents) + 1
