"""Cross-town scoping over the whole API (issue 28): for every operation of the OpenAPI
spec, a user of town A (平襄镇: its official, grid worker, site staff and inspector) asks
for town B's (鸡川镇) objects and gets 403 or 404, or a list and figures without a trace
of B. The operations come from the spec itself, so a new endpoint without a case here
fails `test_every_operation_of_the_spec_has_a_cross_town_case` until one is written.

Each case is first asked about town A's own objects, which must succeed (or be refused
for the role alone, where a town's user may not do it anywhere): a refusal of town B then
comes from the scope, not from a malformed request. Writes to town B must change nothing.
"""

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from epidispatch.accountability.models import Cause
from epidispatch.accountability.services import accountability_propose
from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create, user_create
from epidispatch.api.api import api
from epidispatch.audit.models import AuditEntry, Change
from epidispatch.certificates.services import certificate_issue
from epidispatch.control.models import (
    CaseChange,
    CaseTest,
    ControlArea,
    ControlCase,
    ControlPolicy,
    HealthCheck,
    KeyPerson,
    PlanItem,
    PositiveCase,
    ResponseCheck,
)
from epidispatch.control.services import area_create, key_person_resolve, positive_record
from epidispatch.core.protection import decrypt
from epidispatch.dispatch.models import Bulletin
from epidispatch.dispatch.services import snapshot_take, target_issue
from epidispatch.fieldwork.models import CheckpointRecord, FollowUp, Visit, VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.inspection.models import Problem, Rectification, Team
from epidispatch.inspection.services import (
    PlaceFields,
    place_save,
    rectification_submit,
)
from epidispatch.meetings.models import (
    ActionItem,
    Meeting,
    MeetingKind,
    MeetingSeries,
    ProgressPost,
    UnitReport,
)
from epidispatch.meetings.services import (
    item_create,
    meeting_create,
    progress_post,
    report_submit,
)
from epidispatch.registry.services import household_member_place, resident_create
from epidispatch.screening.models import (
    GroupMember,
    MissedSample,
    Sample,
    ScreeningRound,
    Tube,
)
from epidispatch.screening.models import (
    TestingGroup as KeyGroup,
)
from epidispatch.screening.services import (
    group_create,
    group_member_add,
    round_create,
    sample_collect,
)
from epidispatch.sites.models import Appointment, EquipmentCheck, RosterEntry, SiteKind
from epidispatch.sites.services import (
    appointments_book_batch,
    equipment_add,
    qualification_record,
    roster_assign,
    session_create,
    staff_create,
    training_session_create,
)
from epidispatch.supply.models import AEFIReport, Lot, StockMove
from epidispatch.supply.services import aefi_report_file, stock_receive, supply_item_for_product
from epidispatch.vaccination.models import Dose, VaccineProduct
from epidispatch.vaccination.services import dose_record

from .conftest import Tree
from .control_fixtures import register
from .dose_files import write_table
from .inspection_fixtures import inspect_with_problem, mall_category_with_checklist, photo
from .test_interop_hl7 import vxu
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"
#: What only town B's objects carry: its names all hold 鸡川 (and its village 新庄村), its
#: codes start 621121102 (the site's is 621121970002), its lot is LOT-JC.
B_MARKS = ("鸡川", "新庄村", "621121102", "621121970002", "LOT-JC")
RECEIPT_HEADERS = ["入库单号", "入库单位编码", "物资名称", "批号", "有效期至", "数量"]


@dataclass
class Side:
    """One town's objects, made by the county's staff and the town's own."""

    label: str
    town: Any
    grid: Any
    site: Any
    lot: str
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def _side(tree, make_user, county_staff, *, label, town, grid, site, lot, sequence):
    today = timezone.localdate()
    product = VaccineProduct.objects.get(code="coronavac")
    staff = make_user(Role.SITE_STAFF, site, username=f"staff-{label}")
    worker = make_user(Role.GRID_WORKER, grid, username=f"worker-{label}")
    official = make_user(Role.TOWN_OFFICIAL, town, username=f"official-{label}")
    name = town.name[:2]
    number = id_number(sequence, "19550101")
    resident = resident_create(
        name=f"{name}居民", id_number=number, phone=f"1380000{sequence:04d}", grid=grid
    )
    newcomer_number = id_number(sequence + 1, "19900101")
    newcomer = resident_create(name=f"{name}新人", id_number=newcomer_number, grid=grid)
    stock_receive(
        holder=site,
        item=supply_item_for_product(product),
        lot_number=lot,
        expires_on=today + timedelta(days=300),
        quantity=20,
        by=county_staff["supply"],
    )
    dose = dose_record(
        resident=resident,
        product=product,
        given_on=today - timedelta(days=1),
        site=site,
        by=staff,
        lot_number=lot,
    )
    visit_record(resident=newcomer, outcome=VisitOutcome.REFUSED, by=worker)
    aefi = aefi_report_file(
        dose=dose,
        severity="non_severe",
        description=f"{name}接种后发热",
        discovered_at=timezone.now(),
        by=staff,
    )
    certificate = certificate_issue(resident=resident)
    case = register(
        sequence=sequence + 2,
        grid=grid,
        reference=today - timedelta(days=1),
        registered=today,
        by=county_staff["control"],
        name=f"{name}隔离人员",
    )
    positive = positive_record(
        person=key_person_resolve(
            name=f"{name}阳性人员", id_number=id_number(sequence + 3), grid=grid
        ),
        found_on=today,
        trajectory=[],
        by=county_staff["control"],
    )
    place, _created = place_save(
        fields=PlaceFields(
            name=f"{name}超市",
            category=county_staff["category"],
            responsible_unit=town,
            grid=grid,
        )
    )
    inspection = inspect_with_problem(place, county_staff["inspector"])
    problem = Problem.objects.get(inspection=inspection)
    rectification = rectification_submit(
        problem=problem, note="已安排专人查验", evidence=[photo()], by=official
    )
    accountability = accountability_propose(
        unit=town, cause=Cause.INSPECTION_PROBLEM, cause_object=problem, summary=f"{name}整改"
    )
    screening_round = round_create(
        unit=town, name=f"{name}第1轮", day=today, by=county_staff["screening"]
    )
    sample_collect(
        screening_round=screening_round,
        barcode=f"{label}0001",
        id_number=number,
        by=county_staff["screening"],
    )
    session = session_create(
        site=site,
        kind=SiteKind.FIXED,
        day=today,
        opens_at=time(0, 0),
        closes_at=time(23, 59),
        capacity_per_hour=10,
        by=county_staff["dispatcher"],
    )
    slot = session.slots.order_by("-starts_at").first()
    # A booking in the session's first hour (begun: the staff may mark it not come).
    [appointment] = appointments_book_batch(
        slot=session.slots.order_by("starts_at").first(), residents=[resident], by=worker,
        group="",
    )  # fmt: skip
    target_issue(unit=town, day=today, doses=100, by=county_staff["dispatcher"])
    receipts = write_table(
        county_staff["tmp"] / f"{name}入库单",
        RECEIPT_HEADERS,
        [[f"{label}-RK1", site.code, product.name, lot, str(today + timedelta(days=300)), "5"]],
        "utf-8",
    )
    batch = import_batch_create(
        kind="stock_receipts", path=receipts, file_name=receipts.name, user=staff
    )
    import_batch_run(batch, receipts)
    dispatcher = county_staff["dispatcher"]
    area = area_create(
        unit=town,
        name=f"{name}封控区",
        level="high",
        started_on=today,
        addresses=f"{name}街1号",
        by=county_staff["control"],
    )
    # A meeting of the county's series that only this town takes part in; in the meeting
    # both towns take part in, the town's report filed and an action item the town owns.
    meeting = meeting_create(
        series=county_staff["series"],
        held_at=timezone.now() + timedelta(hours=2),
        report_deadline=timezone.now() + timedelta(hours=1),
        participants=[town],
        sub_venues=f"{town.name}视频会议室",
        by=dispatcher,
    )
    report = report_submit(
        report=county_staff["shared_meeting"].reports.get(unit=town),
        progress=f"{name}已接种完毕",
        difficulties="",
        next_measures="",
        by=official,
    )
    item = item_create(
        meeting=county_staff["shared_meeting"],
        decision=f"{name}加快老年人接种",
        deadline=today + timedelta(days=7),
        owner_unit=town,
        by=dispatcher,
    )
    post = progress_post(item=item, note=f"{name}已入户动员", attachments=[photo()], by=official)
    group = group_create(
        unit=town, name=f"{name}冷链从业人员", kind="cold_chain", every_days=7,
        by=county_staff["screening"],
    )  # fmt: skip
    group_member_add(group=group, id_number=number, employer=f"{name}冷库", by=official)
    household, _changed = household_member_place(
        resident=resident, address=f"{name}街2号", relation="户主", by=worker
    )
    staff_member = staff_create(name=f"{name}护士", unit=site, by=dispatcher)
    qualification_record(
        staff=staff_member,
        role="vaccinator",
        passed_on=today - timedelta(days=30),
        expires_on=today + timedelta(days=300),
        by=dispatcher,
    )
    roster_assign(
        staff=staff_member, site=site, role="vaccinator", day=today,
        starts_at=time(8, 0), ends_at=time(12, 0), by=dispatcher,
    )  # fmt: skip
    fridge = equipment_add(site=site, kind="fridge", label=f"{name}1号冰箱", by=dispatcher)
    training = training_session_create(
        unit=site, title=f"{name}接种人员培训", role="vaccinator",
        held_on=today - timedelta(days=30), by=dispatcher,
    )  # fmt: skip
    return Side(
        label=label,
        town=town,
        grid=grid,
        site=site,
        lot=lot,
        objects={
            "resident": resident,
            "number": number,
            "newcomer": newcomer,
            "newcomer_number": newcomer_number,
            "dose": dose,
            "lot_id": Lot.objects.get(number=lot).pk,
            "follow_up": FollowUp.objects.get(dose=dose),
            "aefi": aefi,
            "certificate": certificate,
            "case": case,
            "positive": positive,
            "problem": problem,
            "rectification": rectification,
            "accountability": accountability,
            "round": screening_round,
            "slot": slot,
            "batch": batch,
            "official": official,
            "area": area,
            "meeting": meeting,
            "report": report,
            "item": item,
            "attachment": post.attachments.get(),
            "appointment": appointment,
            "group": group,
            "staff_member": staff_member,
            "fridge": fridge,
            "training": training,
            "household": household.household,
        },
    )


@dataclass
class World:
    a: Side
    b: Side
    user: Any
    token: str


@pytest.fixture(scope="module")
def _world_dir(tmp_path_factory):
    """The world's files (uploads, signing keys, import files), kept for the module."""
    return tmp_path_factory.mktemp("cross-town")


@pytest.fixture(autouse=True)
def _keys_dir(settings, _world_dir):
    """The certificates of the world are signed with keys every test of it can read."""
    settings.EPIDISPATCH_KEYS_DIR = _world_dir / "keys"


@pytest.fixture(autouse=True)
def _media_root(settings, _world_dir):
    settings.MEDIA_ROOT = _world_dir / "uploads"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, _world_dir):
    """Both towns' objects, built once for the module inside a transaction that is rolled
    back at its end; each test runs in a savepoint of it (as Django's setUpTestData), so
    what a test writes is gone before the next one."""
    previous = HUEY.immediate
    HUEY.immediate = True  # uploads are imported inside the request (TASKS_IMMEDIATE=1)
    overrides = override_settings(
        EPIDISPATCH_DATA_DIR=str(_world_dir),
        EPIDISPATCH_KEYS_DIR=_world_dir / "keys",
        MEDIA_ROOT=_world_dir / "uploads",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    try:
        with overrides, django_db_blocker.unblock(), transaction.atomic():
            yield _world(_world_dir)
            transaction.set_rollback(True)
    finally:
        HUEY.immediate = previous


def _world(folder) -> World:
    if not ControlPolicy.objects.exists():  # flushed by a transactional test: seed again
        from django.apps import apps

        importlib.import_module("epidispatch.control.migrations.0002_policies").seed(apps, None)
    tree = Tree()

    def make_user(role: str, *units, username: str):
        return user_create(
            username=username, password="secret-pass-1", roles=[(role, unit) for unit in units]
        )

    office = make_user(Role.DISPATCHER, tree.county, username="office")
    category = mall_category_with_checklist(office)
    county_staff = {
        "supply": make_user(Role.SUPPLY_OFFICER, tree.county, username="cdc"),
        "control": make_user(Role.CONTROL_OFFICER, tree.county, username="control"),
        "screening": make_user(Role.SCREENING_OFFICER, tree.county, username="screening"),
        "dispatcher": make_user(Role.DISPATCHER, tree.county, username="dispatcher"),
        "inspector": make_user(Role.INSPECTOR, tree.county, username="inspector"),
        "category": category,
        "tmp": folder,
    }
    county_staff["series"] = MeetingSeries.objects.create(
        unit=tree.county, name="县疫苗接种工作调度会议", kind=MeetingKind.DISPATCH
    )
    county_staff["shared_meeting"] = meeting_create(
        series=county_staff["series"],
        held_at=timezone.now() + timedelta(hours=3),
        report_deadline=timezone.now() + timedelta(hours=1),
        participants=[tree.town, tree.other_town],
        sub_venues="各乡镇视频会议室",
        by=county_staff["dispatcher"],
    )
    team = Team.objects.create(name="县督导组")
    team.members.add(county_staff["inspector"])
    team.units.add(tree.town, tree.other_town)
    a = _side(
        tree,
        make_user,
        county_staff,
        label="A",
        town=tree.town,
        grid=tree.grid,
        site=tree.site,
        lot="LOT-PX",
        sequence=10,
    )
    b = _side(
        tree,
        make_user,
        county_staff,
        label="B",
        town=tree.other_town,
        grid=tree.other_grid,
        site=tree.other_site,
        lot="LOT-JC",
        sequence=20,
    )
    snapshot_take(by=None)
    user = make_user(Role.TOWN_OFFICIAL, tree.town, username="town-a")
    for role, unit in (
        (Role.GRID_WORKER, tree.grid),
        (Role.SITE_STAFF, tree.site),
        (Role.INSPECTOR, tree.town),
    ):
        user.role_assignments.create(role=role, unit=unit)
    _record, token = api_token_create(user=user, name="cross-town")
    return World(a=a, b=b, user=user, token=token)


def _none(side: Side) -> dict:
    return {}


@dataclass(frozen=True)
class Case:
    """How to ask an operation about one side's objects, and what town B must get.

    `refused`: town B's request is answered 403 or 404. Otherwise (`refused=False`) it is
    answered like town A's and the body must carry nothing of town B (a list, figures).
    `own`: what town A's own request may answer (a 403 only where the town's user lacks
    the role everywhere, so the request still reached the permission check).
    `refusals`: the statuses that count as refused (a 422 where the body names B's person,
    whom the caller's units do not hold). `check`: a further check of town B's answer.
    """

    path: Callable[[Side], dict] = _none
    query: Callable[[Side], dict] = _none
    body: Callable[[Side], Any] | None = None
    files: Callable[[Side], dict] | None = None
    content_type: str | None = None
    refused: bool = True
    refusals: tuple[int, ...] = (403, 404)
    own: tuple[int, ...] = (200,)
    #: False where the answer carries, by design, what the request itself brought (a
    #: certificate's payload names its holder; a trace echoes the lot number asked).
    marks: bool = True
    check: Callable[[Any, "World"], None] | None = None


def _trace_is_empty(response, world) -> None:
    """Nothing given, received or held in town B shows; the lot's product may (a lot is
    reference data, printed on packs across the country)."""
    trace = response.json()
    assert (trace["doses"], trace["residents"], trace["sites"]) == (0, 0, [])
    assert (trace["received"], trace["on_hand"]) == (0, 0)


def _no_dose_stored_for_b(response, world) -> None:
    assert "MSA|AA" not in response.content.decode()
    assert not Dose.objects.filter(resident=world.b.newcomer).exists()


def _no_receipt_posted_for_b(response, world) -> None:
    assert response.json()["stored"] == 0
    assert StockMove.objects.filter(holder=world.b.site).count() == 3  # receipt, file, dose


def _verifies_offline(response, world) -> None:
    assert response.json()["valid"] is True


def _upload(side: Side) -> dict:
    today = timezone.localdate()
    row = [f"{side.label}-RK2", side.site.code, "科兴", side.lot, str(today + timedelta(300)), "1"]
    header = ",".join(RECEIPT_HEADERS) + "\n" + ",".join(row) + "\n"
    return {"file": SimpleUploadedFile("入库单.csv", header.encode(), content_type="text/csv")}


def _vxu(side: Side) -> str:
    return vxu(
        f"X{side.label}",
        side.newcomer_number,
        given=timezone.localdate().strftime("%Y%m%d"),
        lot=side.lot,
    ).replace("621121970001", side.site.code)


def _unit(attribute: str):
    return lambda side: {"code": getattr(side, attribute).code}


RESIDENT = {"path": lambda s: {"resident_id": s.resident.pk}}
TOWN = {"path": _unit("town")}
ROUND = {"path": lambda s: {"round_id": s.round.pk}}

#: Every operation of the spec, "METHOD /path" → its case.
CASES: dict[str, Case] = {
    "GET /units": Case(query=lambda s: {"under": s.town.code}),
    "GET /units/{code}": Case(**TOWN),
    "GET /units/{code}/coverage": Case(**TOWN),
    "POST /field/residents/{resident_id}/visits": Case(
        path=lambda s: {"resident_id": s.newcomer.pk},
        files=lambda s: {"outcome": "refused"},
        own=(201,),
    ),
    "GET /field/residents/{resident_id}/visits": Case(
        path=lambda s: {"resident_id": s.newcomer.pk}
    ),
    "GET /field/units/{code}/round": Case(path=_unit("grid")),
    "POST /field/checkpoint-records": Case(
        body=lambda s: {
            "unit": s.town.code,
            "place": "汽车站",
            "seen_at": timezone.now().isoformat(),
            "phone": "13912345678",
        },
        own=(201,),
    ),
    "GET /field/units/{code}/follow-ups": Case(path=_unit("grid")),
    "POST /field/follow-ups/{follow_up_id}": Case(
        path=lambda s: {"follow_up_id": s.follow_up.pk}, body=lambda s: {"outcome": "well"}
    ),
    "GET /dispatch/units/{code}/dashboard": Case(**TOWN),
    "GET /dispatch/rankings": Case(refused=False),
    "GET /dispatch/targets": Case(refused=False),
    "GET /control/units/{code}/board": Case(**TOWN),
    "GET /control/units/{code}/persons": Case(**TOWN),
    "POST /control/cases/{case_id}/check-ins": Case(
        path=lambda s: {"case_id": s.case.pk},
        body=lambda s: {"temperature": "36.5"},
        own=(201, 403),
    ),
    "GET /inspection/places": Case(query=lambda s: {"unit": s.town.code}),
    "GET /inspection/inspections": Case(
        query=lambda s: {"place": s.problem.inspection.place_id}, refused=False
    ),
    "GET /inspection/problems": Case(refused=False),
    "GET /inspection/problems/{problem_id}": Case(path=lambda s: {"problem_id": s.problem.pk}),
    "GET /inspection/problems/{problem_id}/rectifications": Case(
        path=lambda s: {"problem_id": s.problem.pk}
    ),
    "POST /inspection/problems/{problem_id}/rectifications": Case(
        path=lambda s: {"problem_id": s.problem.pk},
        files=lambda s: {"note": "再次整改", "evidence": photo()},
        own=(201, 422),
    ),
    "POST /inspection/rectifications/{rectification_id}/review": Case(
        path=lambda s: {"rectification_id": s.rectification.pk},
        body=lambda s: {"verify": True},
        own=(403,),
    ),
    "GET /imports/batches": Case(refused=False),
    "GET /imports/batches/{batch_id}": Case(path=lambda s: {"batch_id": s.batch.pk}),
    "POST /imports/{kind}": Case(
        path=lambda s: {"kind": "stock_receipts"},
        files=_upload,
        refused=False,
        own=(202,),
        check=_no_receipt_posted_for_b,
    ),
    "GET /certificates/residents/{resident_id}": Case(**RESIDENT),
    "POST /certificates/verify": Case(
        body=lambda s: {"payload": s.certificate.payload},
        refused=False,
        marks=False,
        check=_verifies_offline,
    ),
    "GET /supply/stock": Case(refused=False),
    "GET /supply/lots/{number}/trace": Case(
        path=lambda s: {"number": s.lot}, refused=False, marks=False, check=_trace_is_empty
    ),
    "GET /supply/moves": Case(query=lambda s: {"holder": s.site.code}),
    "POST /supply/transfers": Case(
        body=lambda s: {
            "source": s.site.code,
            "target": s.town.code,
            "lot": s.lot_id,
            "quantity": 1,
        },
        own=(403,),  # ordered by the supply officer, whom a town does not have
    ),
    "POST /supply/stocktakes": Case(
        body=lambda s: {"holder": s.site.code, "lot": s.lot_id, "counted": 3}, own=(201,)
    ),
    "POST /supply/write-offs": Case(
        body=lambda s: {
            "holder": s.site.code,
            "lot": s.lot_id,
            "quantity": 1,
            "reason": "冷链断链",
        },
        own=(201,),
    ),
    "GET /supply/residents/{resident_id}/lots": Case(**RESIDENT),
    "GET /supply/units/{code}/quality": Case(**TOWN),
    "GET /supply/units/{code}/demand": Case(**TOWN),
    "GET /supply/aefi-reports": Case(refused=False),
    "GET /supply/aefi-reports/{report_id}": Case(path=lambda s: {"report_id": s.aefi.pk}),
    "GET /screening/rounds": Case(refused=False),
    "GET /screening/rounds/{round_id}/coverage": Case(**ROUND),
    "GET /screening/rounds/{round_id}/retests": Case(**ROUND),
    "GET /screening/rounds/{round_id}/not-sampled": Case(**ROUND),
    "POST /screening/rounds/{round_id}/samples": Case(
        **ROUND,
        body=lambda s: {"barcode": f"{s.label}0002", "id_number": s.newcomer_number},
        own=(201,),
    ),
    "POST /hl7/vxu": Case(
        body=_vxu,
        content_type="x-application/hl7-v2+er7",
        refused=False,
        check=_no_dose_stored_for_b,
    ),
    "GET /fhir/units/{code}/Bundle": Case(**TOWN),
    "GET /fhir/Patient/{resident_id}": Case(**RESIDENT),
    "GET /fhir/Immunization/{dose_id}": Case(path=lambda s: {"dose_id": s.dose.pk}),
    "GET /changes/doses": Case(refused=False),
    "POST /sites/slots/{slot_id}/bookings": Case(
        path=lambda s: {"slot_id": s.slot.pk},
        body=lambda s: {"id_numbers": [s.newcomer_number]},
        refusals=(403, 404, 422),
        own=(201,),
    ),
    "GET /sites/load": Case(refused=False),
    "GET /sites/{code}/appointments": Case(path=_unit("site")),
    "GET /sites/{code}/slots": Case(path=_unit("site")),
    "GET /registry/residents": Case(query=lambda s: {"under": s.town.code}),
    "GET /registry/residents/{resident_id}": Case(**RESIDENT),
    "POST /registry/residents/{resident_id}/unmask": Case(**RESIDENT),
    "GET /vaccination/units/{code}/clearance-list": Case(**TOWN),
    "GET /vaccination/units/{code}/due": Case(**TOWN),
    "GET /accountability/cases": Case(refused=False),
    "GET /accountability/cases/{case_id}": Case(path=lambda s: {"case_id": s.accountability.pk}),
    "GET /control/units/{code}/areas": Case(**TOWN),
    "GET /meetings/meetings": Case(refused=False),
    "GET /meetings/meetings/{meeting_id}/pack": Case(
        path=lambda s: {"meeting_id": s.meeting.pk},
        own=(403,),  # the pack is the office's and the leaders', not a town's
    ),
    "GET /meetings/reports": Case(refused=False),
    "POST /meetings/reports/{report_id}": Case(
        path=lambda s: {"report_id": s.report.pk},
        body=lambda s: {"progress": "补报：已完成", "next_measures": "继续入户"},
    ),
    "GET /meetings/items": Case(refused=False),
    "GET /meetings/items/{item_id}": Case(path=lambda s: {"item_id": s.item.pk}),
    "POST /meetings/items/{item_id}/progress": Case(
        path=lambda s: {"item_id": s.item.pk},
        files=lambda s: {"note": "已完成入户动员", "attachments": photo()},
        own=(201,),
    ),
    "POST /meetings/items/{item_id}/confirm": Case(
        path=lambda s: {"item_id": s.item.pk},
        own=(403,),  # confirmed by the issuing office, never by the owning town
    ),
    "GET /screening/groups": Case(refused=False),
    "GET /screening/groups/{group_id}/members": Case(path=lambda s: {"group_id": s.group.pk}),
    "POST /screening/groups/{group_id}/members": Case(
        path=lambda s: {"group_id": s.group.pk},
        body=lambda s: {"id_number": s.newcomer_number, "employer": "冷库"},
        own=(201,),
    ),
    "GET /sites/training": Case(refused=False),
    "GET /sites/{code}/equipment": Case(path=_unit("site")),
    "POST /sites/equipment/{equipment_id}/checks": Case(
        path=lambda s: {"equipment_id": s.fridge.pk},
        body=lambda s: {"working": True, "temperature": "5.0"},
        own=(201,),
    ),
    "GET /sites/{code}/roster": Case(path=_unit("site")),
    "POST /sites/{code}/roster": Case(
        path=_unit("site"),
        body=lambda s: {
            "staff_id": s.staff_member.pk,
            "role": "vaccinator",
            "day": timezone.localdate().isoformat(),
            "starts_at": "13:00",
            "ends_at": "17:00",
        },
        own=(201,),
    ),
    "GET /changes/key-persons": Case(refused=False),
    "POST /control/key-persons": Case(
        body=lambda s: {
            "name": f"{s.label}自报人员",
            "id_number": id_number(70 if s.label == "A" else 80),
            "category": "close_contact",
            "reference_date": str(timezone.localdate() - timedelta(days=1)),
            "source": "self_report",
            "grid": s.grid.code,
        },
        refusals=(403, 404, 422),
        own=(403,),  # the control group registers, not a town
    ),
    "POST /control/cases/{case_id}/tests": Case(
        path=lambda s: {"case_id": s.case.pk}, body=lambda s: {"result": "negative"}, own=(201,)
    ),
    "POST /control/cases/{case_id}/release": Case(
        path=lambda s: {"case_id": s.case.pk},
        own=(422,),  # its phases have not ended
    ),
    "POST /control/cases/{case_id}/transfer": Case(
        path=lambda s: {"case_id": s.case.pk},
        body=lambda s: {"place": "县集中隔离点"},
        own=(200, 422),  # 422: in centralized isolation already
    ),
    "POST /control/cases/{case_id}/extend": Case(
        path=lambda s: {"case_id": s.case.pk},
        body=lambda s: {"days": 2, "decision": "县指挥部决定"},
        own=(403,),
    ),
    "POST /control/units/{code}/areas": Case(
        **TOWN,
        body=lambda s: {
            "name": "新封控区",
            "level": "high",
            "started_on": str(timezone.localdate()),
        },
        own=(403,),
    ),
    "POST /control/areas/{area_id}": Case(
        path=lambda s: {"area_id": s.area.pk},
        body=lambda s: {
            "name": "改名封控区",
            "level": "high",
            "last_case_on": str(timezone.localdate()),
        },
        own=(403,),
    ),
    "POST /control/areas/{area_id}/lift": Case(
        path=lambda s: {"area_id": s.area.pk},
        body=lambda s: {"on": str(timezone.localdate())},
        own=(403,),
    ),
    "POST /screening/rounds": Case(
        body=lambda s: {"unit": s.town.code, "name": "第2轮", "day": str(timezone.localdate())},
        own=(403,),  # opened by the screening officers
    ),
    "POST /screening/rounds/{round_id}/tubes/send": Case(
        **ROUND, body=lambda s: {"barcodes": [f"{s.label}0001"], "courier": "王师傅"}, own=(403,)
    ),
    "POST /screening/rounds/{round_id}/tubes/receive": Case(
        **ROUND, body=lambda s: {"barcodes": [f"{s.label}0001"]}, own=(403,)
    ),
    "POST /screening/rounds/{round_id}/results": Case(
        **ROUND,
        body=lambda s: {
            "barcode": f"{s.label}0001",
            "result": "negative",
            "tested_at": timezone.now().isoformat(),
            "lab": "县疾控中心",
        },
        own=(403,),
    ),
    "POST /screening/rounds/{round_id}/missed": Case(
        **ROUND,
        body=lambda s: {"resident_id": s.newcomer.pk, "reason": "away"},
        own=(201,),
    ),
    "POST /supply/aefi-reports": Case(
        body=lambda s: {"dose": s.dose.pk, "severity": "non_severe", "description": "局部红肿"},
        own=(201,),
    ),
    "POST /supply/aefi-reports/{report_id}/report": Case(path=lambda s: {"report_id": s.aefi.pk}),
    "POST /supply/aefi-reports/{report_id}/investigation": Case(
        path=lambda s: {"report_id": s.aefi.pk},
        own=(403,),  # the CDC's step
    ),
    "POST /supply/aefi-reports/{report_id}/classification": Case(
        path=lambda s: {"report_id": s.aefi.pk},
        body=lambda s: {"classification": "common_reaction"},
        own=(403,),
    ),
    "POST /supply/aefi-reports/{report_id}/close": Case(
        path=lambda s: {"report_id": s.aefi.pk}, own=(403,)
    ),
    "POST /screening/groups": Case(
        body=lambda s: {
            "unit": s.town.code,
            "name": "快递从业人员",
            "kind": "cold_chain",
            "every_days": 7,
        },
        own=(403,),  # opened by the screening officers
    ),
    "POST /screening/groups/{group_id}/members/{member_id}/leave": Case(
        path=lambda s: {
            "group_id": s.group.pk,
            "member_id": GroupMember.objects.get(group=s.group).pk,
        },
    ),
    "POST /control/positives": Case(
        body=lambda s: {
            "name": f"{s.label}新阳性",
            "id_number": id_number(71 if s.label == "A" else 81),
            "grid": s.grid.code,
            "found_on": str(timezone.localdate()),
        },
        refusals=(403, 404, 422),
        own=(403,),  # the control group records positives
    ),
    "GET /control/positives/{positive_id}": Case(path=lambda s: {"positive_id": s.positive.pk}),
    "POST /control/positives/{positive_id}/steps/{step}": Case(
        path=lambda s: {"positive_id": s.positive.pk, "step": "trace"}, own=(403,)
    ),
    "POST /control/positives/{positive_id}/contacts": Case(
        path=lambda s: {"positive_id": s.positive.pk},
        body=lambda s: {"contacts": [{"candidate": 1, "category": "close_contact"}]},
        own=(403,),
    ),
}


def _bulletin(side: Side) -> dict:
    """The county's bulletin of the world's cutoff: both towns' county reads it, a town
    does not (a role-wide 403, whichever town asks)."""
    return {"number": Bulletin.objects.get().number}


def _fresh_dose(side: Side) -> dict:
    return {"dose_id": side.dose.pk}


def _dose_version(side: Side) -> str:
    return Dose.objects.get(pk=side.dose.pk).version


def _day(offset: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


CASES.update(
    {
        "GET /dispatch/snapshots": Case(refused=False),
        "GET /dispatch/snapshots/{day}/units/{code}": Case(
            path=lambda s: {"day": _day(), "code": s.town.code}
        ),
        "GET /dispatch/bulletins": Case(refused=False),
        "GET /dispatch/bulletins/{number}": Case(path=_bulletin, own=(403,)),
        "GET /dispatch/bulletins/{number}/docx": Case(path=_bulletin, own=(403,)),
        "GET /dispatch/bulletins/{number}/xlsx": Case(path=_bulletin, own=(403,)),
        "POST /vaccination/sites/{code}/doses": Case(
            path=_unit("site"),
            body=lambda s: {
                "id_number": s.newcomer_number,
                "product": "coronavac",
                "given_on": _day(),
            },
            own=(201,),
        ),
        "GET /vaccination/doses/{dose_id}": Case(path=_fresh_dose),
        "POST /vaccination/doses/{dose_id}/correction": Case(
            path=_fresh_dose,
            body=lambda s: {
                "version": _dose_version(s),
                "reason": "日期录错",
                "given_on": _day(-2),
            },
        ),
        "DELETE /vaccination/doses/{dose_id}": Case(
            path=_fresh_dose,
            query=lambda s: {"version": _dose_version(s), "reason": "录错人"},
            own=(409,),  # kept: an AEFI report refers to the dose
        ),
        "GET /meetings/series": Case(refused=False),
        "POST /meetings/meetings": Case(
            body=lambda s: {
                "series": s.meeting.series_id,
                "held_at": (timezone.now() + timedelta(hours=5)).isoformat(),
                "report_deadline": (timezone.now() + timedelta(hours=4)).isoformat(),
                "participants": [s.town.code],
            },
            own=(403,),  # held by the county's office, not by a town
        ),
        "POST /meetings/meetings/{meeting_id}/items": Case(
            path=lambda s: {"meeting_id": s.meeting.pk},
            body=lambda s: {"decision": "加快接种", "deadline": _day(7), "owner_unit": s.town.code},
            own=(403,),  # recorded by the office holding the meeting
        ),
        "POST /sites/{code}/appointments/{appointment_id}/cancel": Case(
            path=lambda s: {"code": s.site.code, "appointment_id": s.appointment.pk}
        ),
        "POST /sites/{code}/appointments/{appointment_id}/no-show": Case(
            path=lambda s: {"code": s.site.code, "appointment_id": s.appointment.pk}
        ),
        "POST /control/units/{code}/plan/{item}": Case(
            path=lambda s: {"code": s.town.code, "item": "leadership"},
            body=lambda s: {"ready": True, "note": "指挥部已成立"},
        ),
        "GET /meetings/items/{item_id}/progress": Case(path=lambda s: {"item_id": s.item.pk}),
        "GET /meetings/attachments/{attachment_id}": Case(
            path=lambda s: {"attachment_id": s.attachment.pk}
        ),
        "GET /registry/households": Case(query=lambda s: {"under": s.town.code}),
        "GET /registry/households/{household_id}": Case(
            path=lambda s: {"household_id": s.household.pk}
        ),
    }
)


def _operations() -> list[str]:
    spec = api.get_openapi_schema(path_prefix=f"{PREFIX}/")
    return sorted(
        f"{method.upper()} {path.removeprefix(PREFIX)}"
        for path, operations in spec["paths"].items()
        for method in operations
    )


OPERATIONS = _operations()

#: The records a write may create or change, counted before and after town B's request.
WRITTEN = (Visit, CheckpointRecord, HealthCheck, Rectification, Sample, Appointment, Dose,
           StockMove, ProgressPost, GroupMember, RosterEntry, EquipmentCheck,
           AuditEntry, Meeting, ActionItem, KeyPerson, ControlCase, CaseChange, CaseTest,
           ControlArea, ScreeningRound, MissedSample, AEFIReport, Change, KeyGroup,
           PositiveCase, ResponseCheck)  # fmt: skip


def _footprint(world) -> dict:
    counts = {model.__name__: model.objects.count() for model in WRITTEN}
    counts["follow_ups_done"] = FollowUp.objects.exclude(outcome="").count()
    counts["rectifications"] = list(Rectification.objects.values_list("outcome", flat=True))
    counts["reports"] = list(
        UnitReport.objects.order_by("pk").values_list("progress", "next_measures", "submitted_at")
    )
    counts["items"] = list(ActionItem.objects.order_by("pk").values_list("state", "closed_at"))
    counts["areas"] = list(ControlArea.objects.order_by("pk").values_list("name", "ended_on"))
    counts["members"] = list(GroupMember.objects.order_by("pk").values_list("left_on", flat=True))
    counts["aefi"] = list(AEFIReport.objects.order_by("pk").values_list("status", flat=True))
    counts["appointments"] = list(
        Appointment.objects.order_by("pk").values_list("state", flat=True)
    )
    counts["plan"] = list(PlanItem.objects.order_by("pk").values_list("unit_id", "ready", "note"))
    counts["tubes"] = list(
        Tube.objects.order_by("pk").values_list("sent_at", "received_at", "result")
    )
    return counts


def ask(client, world, operation: str, case: Case, side: Side):
    method, path = operation.split(" ", 1)
    url = PREFIX + path.format(**case.path(side))
    headers = {"Authorization": f"Bearer {world.token}"}
    if method == "GET":
        return client.get(url, case.query(side), headers=headers)
    if method != "POST":
        return client.generic(method, f"{url}?{urlencode(case.query(side))}", headers=headers)
    if case.files is not None:
        return client.post(url, case.files(side), headers=headers)
    body = case.body(side) if case.body else None
    if case.content_type:
        return client.generic("POST", url, body.encode(), case.content_type, headers=headers)
    return client.post(url, json.dumps(body or {}), "application/json", headers=headers)


def _marks(response) -> list[str]:
    text = response.content.decode("utf-8", errors="replace")
    return [mark for mark in B_MARKS if mark in text]


def test_every_operation_of_the_spec_has_a_cross_town_case():
    missing = [operation for operation in OPERATIONS if operation not in CASES]
    stale = [operation for operation in CASES if operation not in OPERATIONS]
    assert not missing, f"operations without a cross-town case (add them to CASES): {missing}"
    assert not stale, f"cases of operations the spec no longer has: {stale}"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_user_of_one_town_gets_nothing_of_another_town(client, world, operation):
    case = CASES.get(operation)
    assert case is not None, f"{operation} has no cross-town case: add one to CASES"

    own = ask(client, world, operation, case, world.a)
    assert own.status_code in case.own, (operation, own.status_code, own.content[:300])
    before = _footprint(world)
    other = ask(client, world, operation, case, world.b)
    if case.refused:
        assert other.status_code in case.refusals, (operation, other.status_code, other.content)
        assert _footprint(world) == before, f"{operation} wrote for town B"
    else:
        assert other.status_code == own.status_code, (operation, other.content[:300])
        if case.marks:
            assert not _marks(other), f"{operation} answers town B's {_marks(other)}"
    if case.check:
        case.check(other, world)


@pytest.mark.parametrize(
    "operation",
    [op for op in OPERATIONS if op.startswith("GET ") and "{" not in op],
)
def test_every_list_asked_without_filters_holds_nothing_of_another_town(client, world, operation):
    response = client.get(
        PREFIX + operation.removeprefix("GET "), headers={"Authorization": f"Bearer {world.token}"}
    )
    assert response.status_code == 200, (operation, response.content[:300])
    assert not _marks(response), f"{operation} answers town B's {_marks(response)}"
    assert "平襄" in response.content.decode() or operation in NOT_ABOUT_PEOPLE_OR_PLACES, (
        f"{operation} answers nothing of town A either: the check above proves nothing"
    )


#: Lists whose answer names no town, place or person (figures, codes only).
NOT_ABOUT_PEOPLE_OR_PLACES = {
    "GET /changes/doses",
    "GET /supply/stock",
    "GET /supply/moves",
    "GET /supply/aefi-reports",
    "GET /inspection/inspections",
    "GET /dispatch/snapshots",  # cutoff days
    "GET /dispatch/bulletins",  # for a county's readers only: empty for a town
    "GET /meetings/series",  # the office's series: empty for a town
}


def test_the_world_holds_each_towns_objects(world):
    """The fixture itself: town B's objects exist and carry the marks looked for."""
    assert world.b.resident.name.startswith("鸡川") and world.b.lot == "LOT-JC"
    assert decrypt(world.b.resident.id_number_encrypted) == world.b.number
