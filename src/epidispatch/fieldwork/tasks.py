"""Background work of field work (huey): the reminder outbox, every 15 minutes."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import reminders_queue, reminders_send

BATCH = 500


@db_periodic_task(crontab(minute="*/15"))
def reminders_task() -> None:
    reminders_queue()
    while True:
        result = reminders_send(limit=BATCH)
        if result.sent + result.failed < BATCH:
            break
