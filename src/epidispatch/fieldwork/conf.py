"""Field-work settings: a Django setting of the same name wins, then the environment
variable, then the default (so a deployment can set them either way).

EPIDISPATCH_REMINDER_BACKEND   dotted path of the reminder sender (like EMAIL_BACKEND);
                               default: a file backend writing DATA_DIR/outbox.log.
EPIDISPATCH_PROOF_MAX_BYTES    largest proof upload accepted (default 5 MB).
EPIDISPATCH_REMINDER_LEAD_DAYS remind this many days before a dose may be given (default 1).
"""

import os

from django.conf import settings

DEFAULT_REMINDER_BACKEND = "epidispatch.fieldwork.reminders.FileBackend"


def _get(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name) or default)


def reminder_backend() -> str:
    return _get("EPIDISPATCH_REMINDER_BACKEND", DEFAULT_REMINDER_BACKEND)


def proof_max_bytes() -> int:
    return int(_get("EPIDISPATCH_PROOF_MAX_BYTES", str(5 * 1024 * 1024)))


def reminder_lead_days() -> int:
    return int(_get("EPIDISPATCH_REMINDER_LEAD_DAYS", "1"))
