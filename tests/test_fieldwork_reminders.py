"""Reminders of next doses coming due: queued into an outbox once per resident and dose
(a database constraint), sent once through the configured backend, retried on failure."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from epidispatch.fieldwork import reminders
from epidispatch.fieldwork.models import Reminder, ReminderState
from epidispatch.fieldwork.services import reminders_queue, reminders_send
from epidispatch.registry.models import ResidentStatus
from epidispatch.registry.services import resident_create, resident_status_change

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings):
    settings.EPIDISPATCH_REMINDER_BACKEND = "epidispatch.fieldwork.reminders.LocmemBackend"
    reminders.outbox.clear()
    return reminders.outbox


@pytest.fixture
def first_dose_21_days_ago(tree, resident, site_staff, coronavac):
    """CoronaVac: dose 2 may be given from day 21 and is due by day 56."""
    return give_dose(resident, tree.site, site_staff, coronavac, days_ago=21)


def test_a_second_dose_coming_due_is_queued_and_sent_once(resident, first_dose_21_days_ago, outbox):
    assert reminders_queue() == 1
    assert reminders_queue() == 0
    assert reminders_send().sent == 1
    assert reminders_send().sent == 0
    [message] = outbox
    assert message.phone == "13812345678" and message.phone_masked == "138****5678"
    assert "张三" in message.text and "2" in message.text
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.dose_number) == (ReminderState.SENT, 2)


def test_the_outbox_refuses_a_second_reminder_of_the_same_dose(resident, first_dose_21_days_ago):
    reminders_queue()
    reminder = Reminder.objects.get()
    with pytest.raises(IntegrityError):
        Reminder.objects.create(
            resident=resident,
            dose_number=2,
            due_from=reminder.due_from,
            due_by=reminder.due_by,
            county_code=reminder.county_code,
        )


def test_nobody_is_reminded_too_early_or_without_a_phone_or_once_gone(
    tree, resident, site_staff, coronavac, worker
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=5)
    silent = resident_create(name="无电话", id_number=id_number(8), grid=tree.grid)
    give_dose(silent, tree.site, site_staff, coronavac, days_ago=25)
    moved = resident_create(
        name="已迁出", id_number=id_number(9), phone="13900000000", grid=tree.grid
    )
    give_dose(moved, tree.site, site_staff, coronavac, days_ago=25)
    resident_status_change(resident=moved, status=ResidentStatus.MOVED_OUT, by=worker)
    overdue = resident_create(
        name="已逾期", id_number=id_number(10), phone="13900000001", grid=tree.grid
    )
    give_dose(overdue, tree.site, site_staff, coronavac, days_ago=60)
    assert reminders_queue() == 0


def test_the_lead_days_bring_the_reminder_forward(tree, resident, site_staff, coronavac, settings):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=18)
    assert reminders_queue() == 0
    settings.EPIDISPATCH_REMINDER_LEAD_DAYS = 3
    assert reminders_queue() == 1


class FailingBackend(reminders.BaseBackend):
    def send(self, message):
        raise ConnectionError("短信网关无响应")


def test_a_failed_send_is_retried_later_not_at_once(resident, first_dose_21_days_ago, outbox):
    reminders_queue()
    assert reminders_send(backend=FailingBackend()).failed == 1
    assert reminders_send().sent == 0  # not yet: retried after RETRY_AFTER_MINUTES
    Reminder.objects.update(attempted_at=timezone.now() - timedelta(minutes=11))
    assert reminders_send().sent == 1
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.attempts, reminder.error) == (ReminderState.SENT, 2, "")


def test_the_file_backend_writes_masked_phones_only(
    resident, first_dose_21_days_ago, settings, tmp_path
):
    settings.EPIDISPATCH_REMINDER_BACKEND = "epidispatch.fieldwork.reminders.FileBackend"
    settings.DATA_DIR = tmp_path
    reminders_queue()
    reminders_send()
    log = (tmp_path / "outbox.log").read_text(encoding="utf-8")
    assert "138****5678" in log and "13812345678" not in log


def test_the_command_queues_and_sends_and_running_it_again_sends_nothing(
    resident, first_dose_21_days_ago, outbox
):
    out = io.StringIO()
    call_command("send_reminders", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 1, "sent": 1, "failed": 0}
    out = io.StringIO()
    call_command("send_reminders", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 0, "sent": 0, "failed": 0}
    assert len(outbox) == 1


def test_the_periodic_task_sends_too(resident, first_dose_21_days_ago, outbox):
    from epidispatch.fieldwork.tasks import reminders_task

    reminders_task.call_local()
    reminders_task.call_local()
    assert len(outbox) == 1
