"""The audit trail (issue 18): every write service leaves an entry, filed under the record's
unit; the trail is read by dispatchers only, filtered, and nobody can change or delete it
through a page, the API or the admin."""

from copy import copy
from datetime import timedelta
from uuid import uuid4

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accountability.models import Cause
from epidispatch.accountability.services import accountability_decide, accountability_propose
from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create, role_assign, user_create
from epidispatch.audit.middleware import ChangeActorMiddleware
from epidispatch.audit.models import AuditAction, AuditEntry, Change
from epidispatch.audit.services import change_record_updated, changes_batched
from epidispatch.dispatch.models import RankingMeasure
from epidispatch.dispatch.services import snapshot_take, target_issue
from epidispatch.fieldwork.models import FollowUp, VisitOutcome
from epidispatch.fieldwork.services import (
    checkpoint_record_create,
    follow_up_complete,
    visit_record,
)
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create, resident_status_change, resident_unmask
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_correct, dose_delete, dose_record

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


class World:
    """The people and records every write service needs, in the town of 平襄镇."""

    def __init__(self, tree, make_user):
        self.tree = tree
        self.dispatcher = make_user(Role.DISPATCHER, tree.county, username="disp")
        self.worker = make_user(Role.GRID_WORKER, tree.grid, username="gw")
        self.site_staff = make_user(Role.SITE_STAFF, tree.site, username="staff")
        self.checkpoint = make_user(Role.TOWN_OFFICIAL, tree.town, username="official")
        self.product = VaccineProduct.objects.get(code="coronavac")
        self.resident = resident_create(
            name="牛建国", id_number=id_number(1, "19500101"), phone="13812345678", grid=tree.grid
        )

    def dose(self, days_ago=30):
        return dose_record(
            resident=self.resident,
            product=self.product,
            given_on=timezone.localdate() - timedelta(days=days_ago),
            site=self.tree.site,
            by=self.site_staff,
        )


@pytest.fixture
def world(tree, make_user):
    return World(tree, make_user)


def _candidate(world):
    snapshot = snapshot_take(by=None)
    return accountability_propose(
        unit=world.tree.town,
        cause=Cause.RANKING_STREAK,
        cause_object=snapshot,
        summary=str(RankingMeasure.COVERAGE.label),
        streak=3,
    )


#: (what, the write, the model of the change it leaves or the event action)
WRITES = [
    (
        "resident_create",
        lambda w: resident_create(name="王芳", id_number=id_number(2), grid=w.tree.grid),
        "registry.resident",
    ),
    (
        "resident_status_change",
        lambda w: resident_status_change(
            resident=w.resident, status=ResidentStatus.AWAY, by=w.worker
        ),
        "registry.resident",
    ),
    (
        "resident_unmask",
        lambda w: resident_unmask(user=w.dispatcher, resident=w.resident),
        AuditAction.UNMASK_RESIDENT,
    ),
    ("dose_record", lambda w: w.dose(), "vaccination.dose"),
    (
        "dose_correct",
        lambda w: dose_correct(
            dose=w.dose(),
            given_on=timezone.localdate() - timedelta(days=29),
            product=w.product,
            by=w.dispatcher,
            reason="录入错误",
        ),
        "vaccination.dose",
    ),
    (
        "dose_delete",
        lambda w: dose_delete(dose=w.dose(), by=w.dispatcher, reason="重复录入"),
        "vaccination.dose",
    ),
    (
        "visit_record",
        lambda w: visit_record(resident=w.resident, outcome=VisitOutcome.REFUSED, by=w.worker),
        "fieldwork.visit",
    ),
    (
        "checkpoint_record_create",
        lambda w: checkpoint_record_create(
            unit=w.tree.town,
            place="新世纪商场",
            seen_at=timezone.now(),
            by=w.checkpoint,
            phone="13812345678",
        ),
        "fieldwork.checkpointrecord",
    ),
    (
        "follow_up_complete",
        lambda w: follow_up_complete(
            follow_up=FollowUp.objects.get(dose=w.dose(days_ago=1)), outcome="well", by=w.worker
        ),
        "fieldwork.followup",
    ),
    (
        "target_issue",
        lambda w: target_issue(
            unit=w.tree.town,
            day=timezone.localdate() + timedelta(days=1),
            doses=100,
            by=w.dispatcher,
        ),
        "dispatch.dailytarget",
    ),
    ("snapshot_take", lambda w: snapshot_take(by=None), "dispatch.snapshot"),
    (
        "accountability_decide",
        lambda w: accountability_decide(case=_candidate(w), confirm=True, by=w.dispatcher),
        "accountability.accountability",
    ),
    (
        "user_create",
        lambda w: user_create(username="new-user", password="a-long-secret-9", roles=[]),
        "accounts.user",
    ),
    (
        "role_assign",
        lambda w: role_assign(user=w.worker, role=Role.GRID_WORKER, unit=w.tree.sibling_grid),
        "accounts.roleassignment",
    ),
    (
        "api_token_create",
        lambda w: api_token_create(user=w.worker, name="日报"),
        "accounts.apitoken",
    ),
]


def _last_entry_time(kind: str):
    if "." in kind:
        app_label, model = kind.split(".")
        entries = Change.objects.filter(
            content_type__app_label=app_label, content_type__model=model
        )
        return entries.order_by("-timestamp").values_list("timestamp", flat=True).first()
    return (
        AuditEntry.objects.filter(action=kind).order_by("-at").values_list("at", flat=True).first()
    )


@pytest.mark.parametrize(("name", "write", "kind"), WRITES, ids=[w[0] for w in WRITES])
def test_every_write_service_leaves_an_entry_on_the_trail(world, name, write, kind):
    started = timezone.now()
    write(world)
    at = _last_entry_time(kind)
    assert at is not None and at >= started, f"{name} left no {kind} entry"


def test_a_change_keeps_who_when_and_each_field_before_and_after(world, client):
    client.force_login(world.worker)
    response = client.post(
        f"/field/residents/{world.resident.pk}/visit/",
        {
            "outcome": VisitOutcome.MOVED,
            "seen_visit": 0,
            "submission_id": "8c0e6bd4-3c47-4a63-9f5e-1f1f1f1f1f1f",
        },
    )
    assert response.status_code in (200, 302)
    change = Change.objects.filter(
        content_type__model="resident", action=Change.Action.UPDATE
    ).latest("timestamp")
    assert change.actor == world.worker
    assert change.changes["status"] == [ResidentStatus.PRESENT, ResidentStatus.MOVED_OUT]
    assert change.unit_path == world.tree.grid.path
    assert change.remote_addr == "127.0.0.1"


def test_a_change_through_the_api_names_the_tokens_user(world, client):
    token = api_token_create(user=world.worker, name="script")[1]
    response = client.post(
        f"/api/v1/field/residents/{world.resident.pk}/visits",
        {"outcome": VisitOutcome.REFUSED},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    visit_change = Change.objects.filter(content_type__model="visit").latest("timestamp")
    assert visit_change.actor == world.worker


def test_a_visit_through_the_api_writes_its_two_entries_in_one_insert(world, client):
    """A visit that changes the status leaves the visit's entry and the status change's,
    inserted together at the end of the service (`changes_batched`), with everything a
    save would have written: the token's user, the client address, the unit, the fields."""
    token = api_token_create(user=world.worker, name="script")[1]
    with CaptureQueriesContext(connection) as context:
        response = client.post(
            f"/api/v1/field/residents/{world.resident.pk}/visits",
            {"outcome": VisitOutcome.MOVED},
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "10.1.2.3"},
        )
    assert response.status_code == 201, response.content
    inserts = [
        q["sql"] for q in context.captured_queries if 'INSERT INTO "audit_change"' in q["sql"]
    ]
    assert len(inserts) == 1, inserts
    visit_change = Change.objects.get(content_type__model="visit")
    status_change = Change.objects.get(content_type__model="resident", action=Change.Action.UPDATE)
    assert visit_change.pk < status_change.pk
    assert visit_change.timestamp <= status_change.timestamp
    for change in (visit_change, status_change):
        assert change.actor == world.worker
        assert change.remote_addr == "10.1.2.3"
        assert change.unit_path == world.tree.grid.path
        assert "public_page" not in change.additional_data
        assert "command" not in change.additional_data
    assert visit_change.action == Change.Action.CREATE
    assert visit_change.object_pk == str(response.json()["id"])
    assert visit_change.changes["outcome"] == [None, VisitOutcome.MOVED]
    assert status_change.changes == {"status": [ResidentStatus.PRESENT, ResidentStatus.MOVED_OUT]}
    assert status_change.object_repr == str(world.resident)


def test_a_batched_entry_is_the_row_a_save_writes(world, rf):
    """The same change, written by a save inside a request and inside `changes_batched`:
    every column but the key and the time is equal."""
    before = Resident.objects.get(pk=world.resident.pk)
    after = copy(before)
    after.status = ResidentStatus.REFUSED

    def write(request):
        change_record_updated(before, after, fields=["status"])
        with transaction.atomic(), changes_batched():
            change_record_updated(before, after)
        return HttpResponse()

    request = rf.post("/", REMOTE_ADDR="192.0.2.7")
    request.user = world.worker
    ChangeActorMiddleware(write)(request)
    saved, batched = (
        Change.objects.filter(content_type__model="resident", action=Change.Action.UPDATE)
        .order_by("pk")
        .values()
    )
    for row in (saved, batched):
        del row["id"], row["timestamp"]
    assert saved == batched
    assert saved["actor_id"] == world.worker.pk and saved["remote_addr"] == "192.0.2.7"
    assert saved["changes"] == {"status": [ResidentStatus.PRESENT, ResidentStatus.REFUSED]}


def test_a_visit_that_fails_leaves_no_entry(world, tree):
    """A form already used for another resident's visit fails the transaction: the
    entries gathered for it are dropped with it."""
    submission = uuid4()
    visit_record(
        resident=world.resident,
        outcome=VisitOutcome.REFUSED,
        by=world.worker,
        submission_id=submission,
    )
    neighbour = resident_create(name="李四", id_number=id_number(2), grid=tree.grid)
    entries = Change.objects.count()
    with pytest.raises(ValidationError):
        visit_record(
            resident=neighbour,
            outcome=VisitOutcome.MOVED,
            by=world.worker,
            submission_id=submission,
        )
    assert Change.objects.count() == entries


def test_a_requests_actor_does_not_outlive_the_request(world, client):
    """What the request set (the token's user, the address) is not given to a change made
    after it in the same thread (a command, the next request's unauthenticated page)."""
    token = api_token_create(user=world.worker, name="script")[1]
    response = client.post(
        f"/api/v1/field/residents/{world.resident.pk}/visits",
        {"outcome": VisitOutcome.REFUSED},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    resident_status_change(resident=world.resident, status=ResidentStatus.PRESENT, by=None)
    later = Change.objects.filter(content_type__model="resident").latest("pk")
    assert later.changes["status"] == [ResidentStatus.REFUSED, ResidentStatus.PRESENT]
    assert later.actor is None and later.remote_addr is None
    assert "command" in later.additional_data


def test_an_admin_deletion_leaves_the_before_on_the_trail(world, client, tree):
    admin = user_create(
        username="root", password="a-long-secret-9", roles=[(Role.DISPATCHER, tree.county)]
    )
    admin.is_staff = admin.is_superuser = True
    admin.save()
    visit = visit_record(
        resident=world.resident, outcome=VisitOutcome.REFUSED, by=world.worker
    ).visit
    client.force_login(admin)
    response = client.post(f"/admin/fieldwork/visit/{visit.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deletion = Change.objects.get(content_type__model="visit", action=Change.Action.DELETE)
    assert deletion.actor == admin
    assert deletion.changes["outcome"][0] == VisitOutcome.REFUSED
    page = client.get("/audit/", {"kind": "fieldwork.visit"}).content.decode()
    assert "删除" in page


def test_logins_and_failed_logins_are_on_the_trail(world, client):
    client.post("/accounts/login/", {"username": "gw", "password": "wrong-password"})
    client.post("/accounts/login/", {"username": "nobody", "password": "hunter2"})
    assert (
        client.post("/accounts/login/", {"username": "gw", "password": "secret-pass-1"}).status_code
        == 302
    )
    failed = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("at")
    assert [(e.user, e.unit_path) for e in failed] == [
        (world.worker, world.tree.grid.path),
        (None, ""),
    ]
    assert "hunter2" not in str(list(failed.values()))
    login = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert (login.user, login.ip_address) == (world.worker, "127.0.0.1")


def test_a_list_export_is_on_the_trail(world, client, tree):
    official = get_user_model().objects.get(username="official")
    client.force_login(official)
    response = client.get(f"/units/{tree.town.code}/clearance/", {"format": "xlsx"})
    assert response.status_code == 200
    export = AuditEntry.objects.get(action=AuditAction.EXPORT_LIST)
    assert (export.user, export.unit_path) == (official, tree.town.path)


class TestReading:
    def test_the_dispatcher_filters_by_unit_user_kind_and_day(self, world, client, tree):
        client.force_login(world.worker)
        client.post(
            f"/field/residents/{world.resident.pk}/visit/",
            {"outcome": VisitOutcome.REFUSED, "seen_visit": 0, "submission_id": str(uuid4())},
        )
        resident_unmask(user=world.dispatcher, resident=world.resident)
        client.force_login(world.dispatcher)

        def rows(**filters):
            response = client.get("/audit/", filters)
            assert response.status_code == 200
            return response.content.decode().count("<tr data-entry")

        everything = rows()
        assert everything >= 3
        assert rows(kind="fieldwork.visit") == 1
        assert rows(kind=AuditAction.UNMASK_RESIDENT) == 1
        assert rows(user="gw", kind="fieldwork.visit") == 1
        assert rows(user="disp", kind="fieldwork.visit") == 0
        assert rows(unit=tree.grid.code) >= 2
        assert rows(unit=tree.other_town.code) == 0
        today = timezone.localdate()
        assert rows(since=today.isoformat(), until=today.isoformat()) == everything
        assert rows(until=(today - timedelta(days=1)).isoformat()) == 0

    def test_another_countys_unit_is_404_and_its_entries_are_not_shown(
        self, world, client, tree, make_user
    ):
        far = make_user(Role.DISPATCHER, tree.other_county)
        client.force_login(far)
        assert client.get("/audit/", {"unit": tree.town.code}).status_code == 404
        page = client.get("/audit/").content.decode()
        assert world.resident.name not in page

    def test_only_dispatchers_read_it(self, world, client):
        client.force_login(world.worker)
        assert client.get("/audit/").status_code == 403

    def test_bad_filters_are_a_400_not_a_500(self, world, client):
        client.force_login(world.dispatcher)
        assert client.get("/audit/", {"since": "0001-01-01"}).status_code == 400
        assert client.get("/audit/", {"page": "9223372036854775808"}).status_code == 400
        assert client.get("/audit/", {"kind": "nothing"}).status_code == 400
        assert client.get("/audit/", {"unit": "6" * 200}).status_code == 400

    @pytest.mark.parametrize("visits", [2, 12])
    def test_the_page_reads_in_a_fixed_number_of_queries(
        self, world, client, django_assert_num_queries, visits
    ):
        for _ in range(visits):
            visit_record(resident=world.resident, outcome=VisitOutcome.REFUSED, by=world.worker)
            resident_unmask(user=world.dispatcher, resident=world.resident)
        client.force_login(world.dispatcher)
        # 5, and one per kind of record the changes name (a visit's resident, worker, grid)
        with django_assert_num_queries(8):
            response = client.get("/audit/")
        assert response.content.decode().count("<tr data-entry") >= 2 * visits


class TestNobodyChangesTheTrail:
    @pytest.fixture
    def superuser(self, tree):
        user = user_create(
            username="root", password="a-long-secret-9", roles=[(Role.DISPATCHER, tree.county)]
        )
        user.is_staff = user.is_superuser = True
        user.save()
        return user

    def test_the_admin_offers_no_add_change_or_delete(self, world, superuser, client):
        resident_unmask(user=world.dispatcher, resident=world.resident)
        entry = AuditEntry.objects.get(action=AuditAction.UNMASK_RESIDENT)
        change = Change.objects.filter(content_type__model="resident").first()
        client.force_login(superuser)
        for model, pk in (("auditentry", entry.pk), ("change", change.pk)):
            base = f"/admin/audit/{model}/"
            assert client.get(f"{base}add/").status_code == 403
            assert client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
            assert client.post(f"{base}{pk}/change/", {"subject": "x"}).status_code == 403
            client.post(
                base, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
            )
        assert AuditEntry.objects.filter(pk=entry.pk, subject=entry.subject).exists()
        assert Change.objects.filter(pk=change.pk).exists()

    def test_users_are_never_deleted_so_the_trail_keeps_who(self, world, superuser, client):
        client.force_login(superuser)
        response = client.post(f"/admin/accounts/user/{world.worker.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert get_user_model().objects.filter(pk=world.worker.pk).exists()

    def test_the_api_has_no_operation_on_the_trail(self, client):
        paths = client.get("/api/v1/openapi.json").json()["paths"]
        assert not [path for path in paths if "audit" in path or "trail" in path]
        # The dose change feed (interop) only reads doses; nothing writes a change.
        feeds = [operations for path, operations in paths.items() if "change" in path]
        assert all(set(operations) <= {"get"} for operations in feeds)

    def test_the_audit_page_takes_no_writes(self, world, client):
        client.force_login(world.dispatcher)
        for method in (client.post, client.put, client.delete):
            assert method("/audit/").status_code == 405
