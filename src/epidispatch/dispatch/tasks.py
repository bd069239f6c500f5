"""The daily cutoff, a periodic task of the huey consumer (`epidispatch run_huey`); it can
be run by hand: `epidispatch cutoff`."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import snapshot_take

log = logging.getLogger(__name__)
CUTOFF_HOUR, CUTOFF_MINUTE = settings.EPIDISPATCH_CUTOFF


@db_periodic_task(crontab(hour=str(CUTOFF_HOUR), minute=str(CUTOFF_MINUTE)))
def cutoff_task() -> None:
    try:
        snapshot = snapshot_take()
    except ValidationError as error:  # taken by hand already
        log.info("cutoff skipped: %s", " ".join(error.messages))
        return
    log.info("cutoff: snapshot of %s taken", snapshot.day)
