"""The nightly age re-banding, a periodic task of the huey consumer (`epidispatch
run_huey`); `epidispatch recount` rebuilds every figure by hand."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .rollups import rollups_reband

log = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="0", minute="1"))
def reband_task() -> None:
    moved = rollups_reband()
    log.info("age bands: %d residents moved", moved)
