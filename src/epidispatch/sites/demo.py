"""Sites of the demo county: today's and tomorrow's sessions at every site, the sites'
equipment with this morning's checks (one refrigerator at 鸡川镇 reads 9.2 °C, so the
load view flags it), staff trained and qualified through two training sessions, and
today's roster. One vaccinator of 平襄镇卫生院 (`site_staff`'s site) holds a
qualification that expired yesterday, so the roster page shows the refusal."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import Equipment, EquipmentKind, SiteKind, StaffRole
from .services import (
    equipment_add,
    equipment_check_record,
    qualification_record,
    roster_assign,
    session_create,
    staff_create,
    training_result_record,
    training_session_create,
)

DEMO_COUNTY = "621121"
DEMO_PLANNER = "dispatcher"
#: 平襄镇卫生院接种点, where the demo's `site_staff` works.
SEAT_SITE = "621121970003"
#: The site whose refrigerator is out of range this morning (鸡川镇卫生院接种点).
WARM_FRIDGE_SITE = "621121970005"
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["晓燕", "海霞", "建军", "丽娟", "文斌", "春梅", "志强", "玉兰", "红霞", "国平"]


@transaction.atomic
def load_sites() -> int:
    """Add the sites' sessions, equipment, staff, training and roster once; returns the
    number of sites set up (0 when already present or the county is missing)."""
    planner = User.objects.filter(username=DEMO_PLANNER).first()
    county = OrgUnit.objects.filter(code=DEMO_COUNTY).first()
    if planner is None or county is None or Equipment.objects.filter(site__code=SEAT_SITE).exists():
        return 0
    sites = list(
        OrgUnit.objects.filter(kind=UnitKind.SITE, county_code=DEMO_COUNTY).order_by("code")
    )
    today = timezone.localdate()
    vaccinator_training = training_session_create(
        unit=county,
        title="新冠疫苗接种人员培训（第一期）",
        role=StaffRole.VACCINATOR,
        held_on=today - timedelta(days=60),
        valid_months=12,
        by=planner,
    )
    doctor_training = training_session_create(
        unit=county,
        title="接种点留观医生急救培训",
        role=StaffRole.OBSERVING_DOCTOR,
        held_on=today - timedelta(days=45),
        valid_months=12,
        by=planner,
    )
    morning = timezone.make_aware(datetime.combine(today, time(8, 10)))
    for index, site in enumerate(sites):
        kind = SiteKind.FIXED if site.parent.kind == UnitKind.COUNTY else SiteKind.TEMPORARY
        for day in (today, today + timedelta(days=1)):
            for opens, closes in ((time(8), time(12)), (time(14), time(17, 30))):
                session_create(
                    site=site,
                    kind=kind,
                    day=day,
                    opens_at=opens,
                    closes_at=closes,
                    capacity_per_hour=30,
                    by=planner,
                )
        fridge = equipment_add(site=site, kind=EquipmentKind.FRIDGE, label="1号冰箱", by=planner)
        kit = equipment_add(site=site, kind=EquipmentKind.EMERGENCY_KIT, label="急救箱", by=planner)
        equipment_check_record(
            equipment=fridge,
            temperature=Decimal("9.2") if site.code == WARM_FRIDGE_SITE else Decimal("4.5"),
            working=True,
            note="门未关严" if site.code == WARM_FRIDGE_SITE else "",
            checked_at=morning,
            by=planner,
        )
        equipment_check_record(equipment=kit, working=True, checked_at=morning, by=planner)
        if kind == SiteKind.TEMPORARY:
            equipment_add(site=site, kind=EquipmentKind.GENERATOR, label="备用发电机", by=planner)
        names = [
            f"{SURNAMES[(index + n) % len(SURNAMES)]}{GIVEN[(index * 3 + n) % 10]}"
            for n in range(3)
        ]
        vaccinators = [staff_create(name=name, unit=site, by=planner) for name in names[:2]]
        doctor = staff_create(name=names[2], unit=site, by=planner)
        for member in vaccinators:
            training_result_record(
                training=vaccinator_training, staff=member, passed=True, by=planner
            )
            roster_assign(
                staff=member,
                site=site,
                role=StaffRole.VACCINATOR,
                day=today,
                starts_at=time(8),
                ends_at=time(12),
                by=planner,
            )
        training_result_record(training=doctor_training, staff=doctor, passed=True, by=planner)
        roster_assign(
            staff=doctor,
            site=site,
            role=StaffRole.OBSERVING_DOCTOR,
            day=today,
            starts_at=time(8),
            ends_at=time(17, 30),
            by=planner,
        )
        if site.code == SEAT_SITE:
            expired = staff_create(name="牛玉梅", unit=site, by=planner)
            qualification_record(
                staff=expired,
                role=StaffRole.VACCINATOR,
                passed_on=today - timedelta(days=366),
                expires_on=today - timedelta(days=1),
                by=planner,
            )
            training_result_record(
                training=vaccinator_training, staff=expired, passed=False, by=planner
            )
    return len(sites)
