"""The demo county: 定西市 → 通渭县, modelled on seed 001 (57 community grids in the county
seat 平襄镇, 9 industry grids, departments such as 县邮政公司 and 县移动公司).

Town names are 通渭县's real ones; their statistical codes, the villages and the grids are
modelled, not authoritative. Residents are synthetic: generated names and ID numbers with
valid GB 11643 check digits, never real people. Everything is drawn from a seeded random
generator, so loading the demo twice, or loading more residents later, adds nothing twice.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from epidispatch.accounts import passwords as accounts_passwords
from epidispatch.accounts.models import Role, User
from epidispatch.accounts.services import user_create
from epidispatch.dispatch.models import DailyTarget, Snapshot
from epidispatch.dispatch.selectors import RANKED_KINDS
from epidispatch.dispatch.services import snapshot_backfill
from epidispatch.figures.rollups import rollups_recount
from epidispatch.imports.models import ImportBatch
from epidispatch.orgunits.models import OrgUnit, Responsibility, UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_build
from epidispatch.vaccination.models import DoseSource, VaccineProduct
from epidispatch.vaccination.rules import load_rules
from epidispatch.vaccination.services import RESIDENT_SCHEMA, STORED_DOSE_SCHEMA, doses_settle

CITY = ("621100", "定西市")
COUNTY = ("621121", "通渭县")
SEAT_TOWN = ("100", "平襄镇")
TOWNS = [
    SEAT_TOWN,
    ("101", "马营镇"),
    ("102", "鸡川镇"),
    ("103", "榜罗镇"),
    ("104", "常家河镇"),
    ("105", "义岗川镇"),
    ("106", "陇阳镇"),
    ("107", "陇山镇"),
    ("108", "陇川镇"),
    ("109", "碧玉镇"),
    ("110", "襄南镇"),
    ("111", "华家岭镇"),
    ("112", "北城铺镇"),
    ("113", "什川镇"),
    ("200", "寺子川乡"),
    ("201", "第三铺乡"),
    ("202", "李店乡"),
    ("203", "新景乡"),
]
#: The county seat's communities and how many grids each has: 57 in all, as in seed 001.
SEAT_COMMUNITIES = [
    ("北关社区", 10),
    ("南关社区", 10),
    ("东关社区", 10),
    ("西关社区", 9),
    ("锦屏社区", 9),
    ("温泉社区", 9),
]
VILLAGE_NAMES = [
    "王家岔",
    "李家坪",
    "张家川",
    "马家山",
    "何家湾",
    "杨家河",
    "新庄",
    "上川",
    "下川",
    "南坡",
    "北山",
    "石湾",
    "红崖",
    "柳坪",
    "阳山",
    "寺坪",
    "黄岔",
    "大庄",
]
VILLAGES_PER_TOWN = 4
GRIDS_PER_VILLAGE = 2
INDUSTRY_GRIDS = [
    "教育系统",
    "卫生健康",
    "交通运输",
    "商贸流通",
    "住房建设",
    "金融保险",
    "餐饮住宿",
    "邮政通信",
    "工业企业",
]
DEPARTMENTS = [
    "县邮政公司",
    "县移动公司",
    "县电信公司",
    "县供电公司",
    "县教育局",
    "县卫生健康局",
    "县疾病预防控制中心",
    "县公安局",
    "县交通运输局",
    "县市场监督管理局",
]
COUNTY_SITES = ["通渭县人民医院接种点", "县疾控中心预防接种门诊"]

DEMO_PASSWORD = accounts_passwords.DEMO_PASSWORD

SURNAMES = "王李张刘陈杨赵黄周吴牛马常何魏苟漆孙景冯郭曹雷谢"
GIVEN_CHARS = "建国华明军志红英兰芳霞平安福寿海涛文斌丽娟强伟静敏玉梅春秋桂花宏亮"
#: Region codes of birth registration: a number keeps the code in force when it was issued,
#: so people born in 通渭 before 2003 carry 622424 (定西地区) and later ones 621121.
BIRTH_REGIONS = [("622424", "621121")] * 17 + [("622421", "621102"), ("622425", "621122")]
REGION_CODE_CHANGE_YEAR = 2003
PHONE_PREFIXES = ["133", "135", "138", "139", "151", "153", "158", "177", "180", "189", "199"]
#: Days from the campaign's first dose to the demo's last cutoff (seed 001: 2021-03-29 to
#: 2021-08-06), so due dates, follow-ups and rankings look like a campaign under way.
CAMPAIGN_DAYS = 130
#: (youngest, oldest) age and weight: a rural county with many older residents.
AGE_BANDS = [((3, 11), 11), ((12, 17), 8), ((18, 59), 54), ((60, 79), 21), ((80, 95), 6)]
STATUSES = [
    (ResidentStatus.PRESENT, 93),
    (ResidentStatus.AWAY, 3),
    (ResidentStatus.CONTRAINDICATED, 1.5),
    (ResidentStatus.REFUSED, 1),
    (ResidentStatus.DECEASED, 0.5),
    (ResidentStatus.MOVED_OUT, 1),
]


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    roles: tuple[tuple[str, str], ...]  # (role, unit code)


def unit_specs() -> list[UnitSpec]:
    """Every unit of the demo tree, parents before children."""
    city_code, county_code = CITY[0], COUNTY[0]
    specs = [
        UnitSpec(city_code, CITY[1], UnitKind.CITY, None),
        UnitSpec(county_code, COUNTY[1], UnitKind.COUNTY, city_code),
    ]
    for segment, town_name in TOWNS:
        town_code = f"{county_code}{segment}000"
        specs.append(UnitSpec(town_code, town_name, UnitKind.TOWN, county_code))
        if (segment, town_name) == SEAT_TOWN:
            villages = SEAT_COMMUNITIES
        else:
            villages = [(f"{name}村", GRIDS_PER_VILLAGE) for name in _villages_of(segment)]
        for number, (village_name, grids) in enumerate(villages, start=1):
            village_code = f"{county_code}{segment}{number:03d}"
            specs.append(UnitSpec(village_code, village_name, UnitKind.VILLAGE, town_code))
            for grid in range(1, grids + 1):
                specs.append(
                    UnitSpec(
                        f"{village_code}{grid:03d}",
                        f"{village_name}第{grid}网格",
                        UnitKind.GRID,
                        village_code,
                    )
                )
    for number, name in enumerate(DEPARTMENTS, start=1):
        specs.append(
            UnitSpec(f"{county_code}98{number:04d}", name, UnitKind.DEPARTMENT, county_code)
        )
    for number, name in enumerate(INDUSTRY_GRIDS, start=1):
        specs.append(
            UnitSpec(
                f"{county_code}99{number:04d}",
                f"{name}行业网格",
                UnitKind.INDUSTRY_GRID,
                county_code,
            )
        )
    site_names = [(name, county_code) for name in COUNTY_SITES] + [
        (f"{town_name}卫生院接种点", f"{county_code}{segment}000") for segment, town_name in TOWNS
    ]
    for number, (name, parent) in enumerate(site_names, start=1):
        specs.append(UnitSpec(f"{county_code}97{number:04d}", name, UnitKind.SITE, parent))
    return specs


def _villages_of(segment: str) -> list[str]:
    picker = random.Random(f"villages-{segment}")
    return picker.sample(VILLAGE_NAMES, VILLAGES_PER_TOWN)


def demo_users() -> list[DemoUser]:
    county = COUNTY[0]
    seat = f"{county}{SEAT_TOWN[0]}000"
    return [
        DemoUser("dispatcher", "县防控办调度员", ((Role.DISPATCHER, county),)),
        DemoUser("leader", "县领导(演示)", ((Role.LEADER, county),)),
        DemoUser("town_pingxiang", "平襄镇干部", ((Role.TOWN_OFFICIAL, seat),)),
        DemoUser("town_jichuan", "鸡川镇干部", ((Role.TOWN_OFFICIAL, f"{county}102000"),)),
        DemoUser("dept_post", "县邮政公司联络员", ((Role.TOWN_OFFICIAL, f"{county}980001"),)),
        DemoUser(
            "grid_worker", "北关社区第1网格网格员", ((Role.GRID_WORKER, f"{seat[:9]}001001"),)
        ),
        DemoUser("site_staff", "平襄镇卫生院接种人员", ((Role.SITE_STAFF, f"{county}970003"),)),
        DemoUser("supply", "县疾控中心疫苗管理员", ((Role.SUPPLY_OFFICER, county),)),
        DemoUser(
            "inspector",
            "县督导组成员",
            ((Role.INSPECTOR, f"{county}102000"), (Role.INSPECTOR, f"{county}103000")),
        ),
        DemoUser("screening", "县核酸筛查专班", ((Role.SCREENING_OFFICER, county),)),
        DemoUser("control", "县管控组成员", ((Role.CONTROL_OFFICER, county),)),
    ]


@transaction.atomic
def load_units() -> int:
    """Create the demo tree's missing units; returns how many were created."""
    existing = set(OrgUnit.objects.values_list("code", flat=True))
    created = 0
    for spec in unit_specs():
        if spec.code not in existing:
            unit_create(
                code=spec.code, name=spec.name, kind=spec.kind, parent_code=spec.parent_code
            )
            created += 1
    return created


@transaction.atomic
def load_users() -> list[DemoUser]:
    """Create the demo users that are missing (existing ones are left as they are)."""
    units = {unit.code: unit for unit in OrgUnit.objects.all()}
    users = demo_users()
    existing = set(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    for demo in users:
        if demo.username in existing:
            continue
        user = user_create(
            username=demo.username,
            password=DEMO_PASSWORD,
            full_name=demo.full_name,
            roles=[(role, units[code]) for role, code in demo.roles],
        )
        if demo.username == "dispatcher":
            # The dispatcher maintains reference data (products, units) in the admin.
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
    return users


def reference_day() -> date:
    """The demo's last cutoff, from which ages, doses and history are drawn: the day
    before the demo was first loaded (the dispatcher's account records when). So a fresh
    demo's last cutoff was yesterday, and loading it again later adds nothing twice."""
    joined = (
        User.objects.filter(username="dispatcher").values_list("date_joined", flat=True).first()
    )
    first_load = timezone.localdate(joined) if joined else timezone.localdate()
    return first_load - timedelta(days=1)


def synthetic_residents(count: int, grids: list[OrgUnit], reference: date, seed: int = 2021):
    """Yield `count` synthetic residents (unsaved) of ages on `reference`, the same ones
    for the same seed and day."""
    rng = random.Random(seed)
    weights = [3 if grid.code.startswith(f"{COUNTY[0]}{SEAT_TOWN[0]}") else 2 for grid in grids]
    seen: set[str] = set()
    produced = 0
    while produced < count:
        (youngest, oldest), _weight = rng.choices(AGE_BANDS, [w for _b, w in AGE_BANDS])[0]
        birth = reference - timedelta(days=rng.randint(youngest * 365 + 1, oldest * 365 + 364))
        sex_digit = rng.randrange(10)
        old_region, new_region = rng.choice(BIRTH_REGIONS)
        region = old_region if birth.year < REGION_CODE_CHANGE_YEAR else new_region
        body = f"{region}{birth:%Y%m%d}{rng.randint(0, 99):02d}{sex_digit}"
        number = body + ric.calc_check_digit(body + "0")
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))
        phone = (
            rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}" if rng.random() < 0.9 else ""
        )
        grid = rng.choices(grids, weights)[0]
        status = rng.choices([s for s, _w in STATUSES], [w for _s, w in STATUSES])[0]
        if number in seen:
            continue
        seen.add(number)
        produced += 1
        yield resident_build(name=name, id_number=number, phone=phone, grid=grid, status=status)


def load_residents(count: int, *, batch_size: int = 2000) -> int:
    """Insert the first `count` synthetic residents; ones already there are skipped."""
    grids = list(OrgUnit.objects.filter(kind=UnitKind.GRID, county_code=COUNTY[0]).order_by("code"))
    before = Resident.objects.count()
    batch: list[Resident] = []
    for resident in synthetic_residents(count, grids, reference_day()):
        batch.append(resident)
        if len(batch) >= batch_size:
            Resident.objects.bulk_create(batch, ignore_conflicts=True)
            batch.clear()
    if batch:
        Resident.objects.bulk_create(batch, ignore_conflicts=True)
    return Resident.objects.count() - before


#: Share of each age band vaccinated by the reference day (a county behind its targets).
VACCINATED_SHARE = {3: 0.55, 12: 0.85, 18: 0.9, 60: 0.78, 80: 0.5}
#: Products by share of doses given in the county.
PRODUCT_SHARES = {"coronavac": 40, "bibp": 35, "wibp": 10, "zf2001": 5, "ad5-ncov": 5, "kconvac": 5}
#: People unwilling, contraindicated or gone get no dose.
UNVACCINATED_STATUSES = (
    ResidentStatus.REFUSED,
    ResidentStatus.CONTRAINDICATED,
    ResidentStatus.DECEASED,
    ResidentStatus.MOVED_OUT,
)


@transaction.atomic
def load_doses() -> int:
    """Give the demo residents who have no dose yet the doses a county had by the reference
    day: most a full series, some a first dose only (some of those now past day 56), none
    for refusers. Drawn per resident from a seeded generator, so a re-run adds nothing."""
    reference = reference_day()
    day_one = reference - timedelta(days=CAMPAIGN_DAYS)
    rules = load_rules()
    products = dict(VaccineProduct.objects.values_list("code", "id"))
    series = {code: rules.schedule_for(pk, day_one)[1] for code, pk in products.items()}
    sites = list(OrgUnit.objects.filter(kind=UnitKind.SITE, county_code=COUNTY[0]))
    residents = (
        Resident.objects.filter(county_code=COUNTY[0], doses__isnull=True)
        .exclude(status__in=UNVACCINATED_STATUSES)
        .values_list("id", "id_number_masked", "name", "birth_date", "county_code")
    )
    doses, people = [], []
    now = timezone.now()
    for resident_id, masked, name, birth, county in residents:
        rng = random.Random(f"{masked}{name}{birth}")
        age = (reference - birth).days // 365
        band = max(low for low in VACCINATED_SHARE if low <= age) if age >= 3 else None
        if band is None or rng.random() > VACCINATED_SHARE[band]:
            continue
        code = rng.choices(list(PRODUCT_SHARES), list(PRODUCT_SHARES.values()))[0]
        day = day_one + timedelta(days=rng.randint(0, CAMPAIGN_DAYS - 20))
        site = rng.choice(sites)
        people.append((resident_id, birth, county))
        for number in range(1, series[code] + 1):
            if number > 1:
                day += timedelta(days=rng.randint(21 if code != "zf2001" else 28, 45))
                if day > reference or rng.random() < 0.06:
                    break
            doses.append(
                (resident_id, number, products[code], day, site.pk, site.name, county, now)
            )
    new = pl.DataFrame(
        doses,
        schema={
            "resident_id": pl.Int64,
            "dose_number": pl.Int64,
            "product_id": pl.Int64,
            "given_on": pl.Date,
            "site_id": pl.Int64,
            "site_name": pl.String,
            "county_code": pl.String,
            "created_at": pl.Datetime(time_zone="UTC"),
        },
        orient="row",
    ).with_columns(source=pl.lit(DoseSource.SITE.value))
    doses_settle(
        new=new,
        existing=pl.DataFrame(schema=STORED_DOSE_SCHEMA),
        residents=pl.DataFrame(people, schema=RESIDENT_SCHEMA, orient="row"),
        rules=rules,
    )
    return len(doses)


#: Days of dispatch history before the reference day: snapshots, targets and rankings.
HISTORY_DAYS = 14


@transaction.atomic
def load_dispatch() -> int:
    """Recount the live figures, give each department grids to answer for (包抓) and, once,
    the HISTORY_DAYS cutoffs up to the reference day with the targets issued for them;
    returns the snapshots added."""
    rollups_recount()
    county = OrgUnit.objects.get(code=COUNTY[0])
    grids = list(OrgUnit.objects.filter(kind=UnitKind.GRID, county_code=county.code))
    picker = random.Random("responsibilities")
    for department in OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT, parent=county):
        for grid in picker.sample(grids, min(3, len(grids))):
            Responsibility.objects.get_or_create(unit=department, grid=grid)
    if Snapshot.objects.exists():
        return 0
    dispatcher = User.objects.get(username="dispatcher")
    towns = list(OrgUnit.objects.filter(kind__in=RANKED_KINDS.values(), parent=county))
    first = reference_day() - timedelta(days=HISTORY_DAYS - 1)
    for offset in range(HISTORY_DAYS):
        day = first + timedelta(days=offset)
        evening = timezone.make_aware(datetime.combine(day - timedelta(days=1), time(19, 30)))
        for town in towns:
            late = picker.random() < 0.05
            DailyTarget.objects.create(
                unit=town,
                day=day,
                doses=picker.randint(1, 4),
                issued_by=dispatcher,
                issued_at=evening + timedelta(hours=1) if late else evening,
                late=late,
            )
        snapshot_backfill(day=day)
    return HISTORY_DAYS


def non_demo_data() -> str | None:
    """What in the database is not the demo's (a user, an org unit outside the demo county,
    an import), or None: `load_demo` must not add public-password accounts beside it."""
    demo_names = [demo.username for demo in demo_users()]
    stranger = User.objects.exclude(username__in=demo_names).values_list("username", flat=True)
    if name := stranger.first():
        return _("the user %(name)s") % {"name": name}
    outside = OrgUnit.objects.exclude(code__in=[CITY[0]]).exclude(code__startswith=COUNTY[0])
    if unit := outside.first():
        return _("the org unit %(code)s %(name)s") % {"code": unit.code, "name": unit.name}
    if ImportBatch.objects.exists():
        return _("imported files")
    return None
