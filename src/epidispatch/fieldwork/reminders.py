"""Reminder senders, chosen like Django's EMAIL_BACKEND: the setting (or environment
variable) EPIDISPATCH_REMINDER_BACKEND names a class with a `send(message)` method that
raises when the message could not be handed over.

The built-in ones are stand-ins for an SMS gateway: they write the masked phone only, so
no log file ever holds a resident's number in clear. A real gateway's backend reads
`message.phone`.
"""

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from . import conf


@dataclass(frozen=True)
class ReminderMessage:
    reminder_id: int
    phone: str
    phone_masked: str
    text: str

    def log_line(self) -> str:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp}\treminder {self.reminder_id}\t{self.phone_masked}\t{self.text}\n"


class BaseBackend:
    def __init__(self, **options):
        self.options = options

    def send(self, message: ReminderMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes each message to stdout (or the `stream` option)."""

    def send(self, message: ReminderMessage) -> None:
        stream = self.options.get("stream") or sys.stdout
        stream.write(message.log_line())
        stream.flush()


class FileBackend(BaseBackend):
    """Appends each message to DATA_DIR/outbox.log (or the `path` option). The default."""

    _lock = threading.Lock()

    def send(self, message: ReminderMessage) -> None:
        path = Path(self.options.get("path") or Path(settings.DATA_DIR) / "outbox.log")
        with self._lock, path.open("a", encoding="utf-8") as handle:
            handle.write(message.log_line())


#: What LocmemBackend sent, for tests (like django.core.mail.outbox).
outbox: list[ReminderMessage] = []


class LocmemBackend(BaseBackend):
    def send(self, message: ReminderMessage) -> None:
        outbox.append(message)


def get_backend(path: str | None = None, **options) -> BaseBackend:
    return import_string(path or conf.reminder_backend())(**options)
