"""The audit trail as a reader meets it (issue 20, from the review of issue 18): stored
values read as the pages say them, with the stored value kept; a command run with no
user names the account that ran it; entries filed under no unit are the whole
deployment's; certificates issued and revoked are on the trail."""

import getpass
import html
import re
from datetime import time, timedelta

import pytest
from auditlog.context import auditlog_value
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from huey.contrib.djhuey import HUEY

from epidispatch.accountability.models import Cause
from epidispatch.accountability.services import accountability_propose
from epidispatch.accounts.models import Role
from epidispatch.audit.models import AuditAction, AuditEntry, Change
from epidispatch.audit.selectors import TrailFilters, audit_trail
from epidispatch.certificates.services import certificate_issue, certificate_revoke
from epidispatch.core import process
from epidispatch.dispatch.models import RankingMeasure
from epidispatch.dispatch.services import snapshot_take
from epidispatch.dispatch.tasks import cutoff_task
from epidispatch.fieldwork import reminders
from epidispatch.fieldwork.models import VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.imports.services import import_batch_create
from epidispatch.imports.tasks import import_file_task
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create
from epidispatch.sites.models import Appointment, SiteKind
from epidispatch.sites.services import session_create
from epidispatch.vaccination.models import Dose, VaccineProduct
from epidispatch.vaccination.services import dose_correct, dose_delete

from .certificate_fixtures import *  # noqa: F403 - the fixtures
from .cli import run
from .dose_files import RESIDENT_HEADERS, write_table
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .test_imports_framework import resident_row
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


RECEIPT_HEADERS = ["入库单号", "入库单位编码", "物资名称", "批号", "有效期至", "数量"]


def trail(client, **filters) -> str:
    response = client.get("/audit/", filters)
    assert response.status_code == 200
    return response.content.decode()


def changes_of(page: str) -> list[str]:
    """The before → after lines of the page, as text (tags dropped)."""
    lines = re.findall(r"<div data-field-change>(.*?)</div>", page)
    return [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in lines]


class TestValuesReadAsThePagesSayThem:
    def test_a_choice_reads_as_its_label_and_keeps_the_stored_code(
        self, tree, client, resident, worker, dispatcher
    ):
        visit_record(resident=resident, outcome=VisitOutcome.MOVED, by=worker)
        client.force_login(dispatcher)
        page = trail(client, kind="registry.resident")
        with translation.override("zh-hans"):
            present, moved = str(ResidentStatus.PRESENT.label), str(ResidentStatus.MOVED_OUT.label)
        assert f"{label(Resident, 'status')}: {present} → {moved}" in changes_of(page)
        assert 'data-stored="present"' in page and 'data-stored="moved_out"' in page
        assert "moved_out<" not in page

    def test_a_related_record_reads_as_its_name(
        self, tree, client, vaccinated, dispatcher, coronavac
    ):
        second = Dose.objects.get(resident=vaccinated, dose_number=2)
        other = VaccineProduct.objects.filter(platform=coronavac.platform).exclude(pk=coronavac.pk)
        other = other[0]
        dose_correct(
            dose=second, given_on=second.given_on, product=other, by=dispatcher, reason="疫苗录错"
        )
        client.force_login(dispatcher)
        lines = changes_of(trail(client, kind="vaccination.dose"))
        assert f"{label(Dose, 'product')}: {coronavac.name} → {other.name}" in lines, lines
        created = [line for line in lines if line.startswith(f"{label(Dose, 'resident')}:")]
        assert created and all(f"— → {vaccinated}" in line for line in created), lines
        series = f"{label(Dose, 'completes_series')}: — → "
        assert {line for line in lines if line.startswith(series)} == {series + "否", series + "是"}

    def test_the_accountability_records_cause_reads_as_one_linked_record(
        self, tree, client, dispatcher
    ):
        snapshot = snapshot_take(by=None)
        accountability_propose(
            unit=tree.town,
            cause=Cause.RANKING_STREAK,
            cause_object=snapshot,
            summary=str(RankingMeasure.COVERAGE.label),
            streak=3,
        )
        client.force_login(dispatcher)
        page = trail(client, kind="accountability.accountability")
        lines = changes_of(page)
        [linked] = [line for line in lines if line.startswith("关联记录:")]
        assert linked == f"关联记录: — → {snapshot}"
        assert not any(re.search(r"cause[ _](type|id)", line) for line in lines), lines

    def test_the_page_reads_every_related_name_in_one_query_per_kind(
        self, tree, client, resident, worker, dispatcher, django_assert_num_queries
    ):
        for outcome in (VisitOutcome.REFUSED, VisitOutcome.MOVED, VisitOutcome.REFUSED):
            visit_record(resident=resident, outcome=outcome, by=worker)
        client.force_login(dispatcher)
        trail(client)
        with django_assert_num_queries(8) as few:
            trail(client)
        for _ in range(6):
            visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=worker)
        with django_assert_num_queries(len(few.captured_queries)):
            trail(client)


class TestWhoActed:
    def test_a_command_line_import_with_no_user_names_the_account(
        self, tree, client, dispatcher, tmp_path
    ):
        rows = [resident_row("甲", id_number(7, "19800601"), tree.grid)]
        path = write_table(tmp_path / "cli", RESIDENT_HEADERS, rows, "utf-8")
        call_command("import_residents", str(path), "--json")
        entry = AuditEntry.objects.get(action=AuditAction.IMPORT_FILE)
        assert (entry.user, entry.actor) == (None, getpass.getuser())
        assert entry.unit_path == tree.county.path
        client.force_login(dispatcher)
        page = trail(client, kind=AuditAction.IMPORT_FILE)
        assert f"命令行({getpass.getuser()})" in page

    def test_an_import_by_a_user_names_the_user(self, tree, client, make_user, tmp_path):
        official = make_user(Role.TOWN_OFFICIAL, tree.town)
        rows = [resident_row("乙", id_number(8, "19800601"), tree.grid)]
        path = write_table(tmp_path / "cli", RESIDENT_HEADERS, rows, "utf-8")
        call_command("import_residents", str(path), "--json", "--user", official.username)
        entry = AuditEntry.objects.get(action=AuditAction.IMPORT_FILE)
        assert (entry.user, entry.actor) == (official, "")


class TestWhoChanged:
    """A change no user made names what made it: the command and the account, as the
    events do; a page nobody is logged in to says so."""

    @pytest.mark.django_db(transaction=True)
    def test_a_change_by_a_command_names_the_command_and_the_account(self, tree, client, make_user):
        result = run("cutoff")
        assert result.returncode == 0, result.stderr
        change = Change.objects.get(content_type__model="snapshot")
        assert change.actor is None
        assert (change.additional_data["command"], change.additional_data["os_account"]) == (
            "cutoff",
            getpass.getuser(),
        )
        client.force_login(make_user(Role.DISPATCHER, tree.city))
        rows = who_of(trail(client, kind="dispatch.snapshot"))
        assert rows == [f"命令 cutoff({getpass.getuser()})"]

    def test_a_change_by_code_run_outside_a_request_names_the_account(
        self, tree, client, make_user
    ):
        call_command("cutoff")
        client.force_login(make_user(Role.DISPATCHER, tree.city))
        assert who_of(trail(client, kind="dispatch.snapshot")) == [f"命令行({getpass.getuser()})"]

    def test_a_change_by_a_queued_task_names_the_task(self, tree, client, make_user):
        previous, HUEY.immediate = HUEY.immediate, True
        try:
            cutoff_task()
        finally:
            HUEY.immediate = previous
        assert process.task_name() == ""
        change = Change.objects.get(content_type__model="snapshot")
        assert change.additional_data["task"] == "cutoff_task"
        client.force_login(make_user(Role.DISPATCHER, tree.city))
        assert who_of(trail(client, kind="dispatch.snapshot")) == [
            f"后台任务 cutoff_task({getpass.getuser()})"
        ]

    def test_a_file_the_queue_imports_is_the_uploaders_and_the_next_task_is_nobodys(
        self, tree, client, make_user, tmp_path
    ):
        """A delivery note uploaded by a site's staff: its stock moves are theirs on the
        trail, though the queue's worker wrote them; the next task is nobody's."""
        staff = make_user(Role.SITE_STAFF, tree.site)
        product = VaccineProduct.objects.get(code="coronavac")
        expires = str(timezone.localdate() + timedelta(days=300))
        rows = [["RK-1", tree.site.code, product.name, "LOT-Q1", expires, "5"]]
        path = write_table(tmp_path / "receipts", RECEIPT_HEADERS, rows, "utf-8")
        batch = import_batch_create(
            kind="stock_receipts", path=path, file_name=path.name, user=staff
        )
        worker_context = auditlog_value.get(None)
        previous, HUEY.immediate = HUEY.immediate, True
        try:
            import_file_task(batch.pk, str(path))
            cutoff_task()
        finally:
            HUEY.immediate = previous

        # The task ran in a copy of the worker's context: nothing of it stays behind.
        assert auditlog_value.get(None) is worker_context
        received = Change.objects.get(content_type__model="stockmove")
        assert received.actor == staff
        assert received.additional_data["task"] == "import_file_task"
        assert Change.objects.get(content_type__model="snapshot").actor is None
        client.force_login(make_user(Role.DISPATCHER, tree.city))
        assert who_of(trail(client, kind="supply.stockmove")) == [str(staff)]
        assert who_of(trail(client, kind="dispatch.snapshot")) == [
            f"后台任务 cutoff_task({getpass.getuser()})"
        ]

    def test_a_booking_on_the_public_page_reads_as_the_public_page_and_a_desk_change_as_the_user(
        self, tree, client, dispatcher, make_user, settings
    ):
        settings.EPIDISPATCH_REMINDER_BACKEND = "epidispatch.fieldwork.reminders.LocmemBackend"
        reminders.outbox.clear()
        resident_create(name="丙", id_number=id_number(41), phone="13812340041", grid=tree.grid)
        session = session_create(
            site=tree.site,
            kind=SiteKind.FIXED,
            day=timezone.localdate(),
            opens_at=time(0),
            closes_at=time(23, 59),
            capacity_per_hour=10,
            by=dispatcher,
        )
        slot = session.slots.order_by("-starts_at").first()
        url = reverse("sites:book", args=[tree.site.code])
        client.post(url, {"id_number": id_number(41)})
        code = re.search(r"\b(\d{6})\b", reminders.outbox[0].text).group(1)
        client.post(url, {"id_number": id_number(41), "code": code, "slot": slot.pk})
        booking = Change.objects.get(content_type__model="appointment")
        assert booking.actor is None and booking.additional_data.get("public_page") is True
        assert "command" not in booking.additional_data
        staff = make_user(Role.SITE_STAFF, tree.site)
        client.force_login(staff)
        appointment = Appointment.objects.get()
        client.post(
            reverse("sites:appointment", args=[tree.site.code, appointment.pk]),
            {"action": "cancel"},
        )
        cancel = Change.objects.filter(content_type__model="appointment").latest("pk")
        assert cancel.actor == staff
        assert not {"command", "os_account", "public_page"} & set(cancel.additional_data)
        client.force_login(dispatcher)
        assert who_of(trail(client, kind="vaccination_sites.appointment")) == [
            str(staff),
            "公开页面(未登录)",
        ]


def who_of(page: str) -> list[str]:
    """The "who" cell of each row of the trail, newest first."""
    cells = re.findall(r'<td data-label="操作人" class="field">(.*?)</td>', page)
    return [html.unescape(cell) for cell in cells]


class TestEntriesOfNoUnit:
    def test_only_a_dispatcher_of_the_trees_root_reads_them(self, tree, client, make_user):
        client.post("/accounts/login/", {"username": "nobody", "password": "hunter2"})
        unfiled = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
        assert unfiled.unit_path == ""
        city = make_user(Role.DISPATCHER, tree.city)
        county = make_user(Role.DISPATCHER, tree.county)
        other_county = make_user(Role.DISPATCHER, tree.other_county)
        kind = TrailFilters(kind=AuditAction.LOGIN_FAILED)
        assert len(audit_trail(city, kind, limit=10)) == 1
        assert audit_trail(county, kind, limit=10) == []
        assert audit_trail(other_county, kind, limit=10) == []
        client.force_login(county)
        assert trail(client, kind=AuditAction.LOGIN_FAILED).count("<tr data-entry") == 0
        client.force_login(city)
        assert trail(client, kind=AuditAction.LOGIN_FAILED).count("<tr data-entry") == 1

    def test_a_county_dispatcher_still_reads_the_entries_of_their_county(
        self, tree, client, resident, worker, dispatcher, make_user
    ):
        visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=worker)
        client.force_login(dispatcher)
        assert trail(client, kind="fieldwork.visit").count("<tr data-entry") == 1
        client.force_login(make_user(Role.DISPATCHER, tree.other_county))
        assert trail(client, kind="fieldwork.visit").count("<tr data-entry") == 0


class TestCertificatesOnTheTrail:
    def test_issuing_and_revoking_leave_entries_under_the_residents_grid(
        self, tree, vaccinated, dispatcher
    ):
        certificate = certificate_issue(resident=vaccinated, by=dispatcher)
        assert certificate_issue(resident=vaccinated, by=dispatcher) == certificate
        issued = AuditEntry.objects.get(action=AuditAction.ISSUE_CERTIFICATE)
        assert (issued.user, issued.unit_path) == (dispatcher, tree.grid.path)
        assert certificate.serial in issued.subject and vaccinated.name in issued.subject
        certificate_revoke(certificate=certificate, by=dispatcher, reason="遗失补办")
        certificate_revoke(certificate=certificate, by=dispatcher, reason="再次吊销")
        revoked = AuditEntry.objects.get(action=AuditAction.REVOKE_CERTIFICATE)
        assert revoked.user == dispatcher and "遗失补办" in revoked.subject

    def test_a_dose_change_revokes_and_reissues_on_the_trail(self, vaccinated, dispatcher):
        certificate_issue(resident=vaccinated, by=dispatcher)
        dose_delete(dose=Dose.objects.get(dose_number=2), by=dispatcher, reason="重复录入")
        actions = list(
            AuditEntry.objects.filter(
                action__in=(AuditAction.ISSUE_CERTIFICATE, AuditAction.REVOKE_CERTIFICATE)
            )
            .order_by("at", "pk")
            .values_list("action", flat=True)
        )
        assert actions == ["issue_certificate", "revoke_certificate", "issue_certificate"]
        revoke = AuditEntry.objects.get(action=AuditAction.REVOKE_CERTIFICATE)
        assert "重复录入" in revoke.subject

    def test_the_command_names_the_account_that_ran_it(self, vaccinated, client, dispatcher):
        call_command("certificate_issue", id_number(1), "--json")
        issued = AuditEntry.objects.get(action=AuditAction.ISSUE_CERTIFICATE)
        assert (issued.user, issued.actor) == (None, getpass.getuser())
        client.force_login(dispatcher)
        page = trail(client, kind=AuditAction.ISSUE_CERTIFICATE)
        assert "签发接种凭证" in page and f"命令行({getpass.getuser()})" in page


def test_a_field_the_model_no_longer_has_reads_as_stored(
    tree, client, resident, worker, dispatcher
):
    visit_record(resident=resident, outcome=VisitOutcome.MOVED, by=worker)
    change = Change.objects.filter(content_type__model="resident").latest("timestamp")
    Change.objects.filter(pk=change.pk).update(changes={**change.changes, "gone": ["a", "b"]})
    client.force_login(dispatcher)
    assert "gone: a → b" in changes_of(trail(client, kind="registry.resident"))


def label(model, name: str) -> str:
    with translation.override("zh-hans"):
        return str(model._meta.get_field(name).verbose_name)


def test_a_moment_reads_in_local_time_to_the_second(tree, client, resident, worker, dispatcher):
    visit = visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=worker).visit
    client.force_login(dispatcher)
    lines = changes_of(trail(client, kind="fieldwork.visit"))
    shown = f"{timezone.localtime(visit.visited_at):%Y-%m-%d %H:%M:%S}"
    assert f"{label(type(visit), 'visited_at')}: — → {shown}" in lines, lines
