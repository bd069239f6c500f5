"""Escalation of overdue problems, every 5 minutes on the huey consumer (`epidispatch
run_huey`); by hand: `epidispatch escalate_problems`."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import problems_escalate

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def escalate_task() -> None:
    escalated = problems_escalate()
    if escalated:
        log.info("inspection: %d overdue problems escalated", len(escalated))
