"""Escalation of overdue action items, every 5 minutes on the huey consumer (`epidispatch
run_huey`); by hand: `epidispatch escalate_items`."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import items_escalate

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def escalate_items_task() -> None:
    escalated = items_escalate()
    if escalated:
        log.info("meetings: %d overdue action items escalated", len(escalated))
