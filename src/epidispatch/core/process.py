"""Who acts when no user does: the command this process runs and the operating-system
account that runs it.

The `epidispatch` console script names the command as it starts (`command_set`); the audit
trail writes both beside a change made outside any request (a command, the huey consumer
started by `epidispatch run_huey`, a shell), as it names the account on its events. A
request is marked while it runs (`request_running`, the audit middleware), so a change
made on a page is never taken for a command's.
"""

import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_command = ""
_in_request: ContextVar[bool] = ContextVar("epidispatch_in_request", default=False)


def command_set(argv: Sequence[str]) -> None:
    """Remember the command of a command line `epidispatch COMMAND …` (nothing for
    `epidispatch --help` and the like)."""
    global _command
    name = argv[1] if len(argv) > 1 else ""
    _command = "" if name.startswith("-") else name[:60]


def command_name() -> str:
    """The command this process runs ("" when it was not started as `epidispatch
    COMMAND`, e.g. `call_command` in a test or a shell)."""
    return _command


def os_account() -> str:
    """The operating-system account running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@contextmanager
def request_running() -> Iterator[None]:
    token = _in_request.set(True)
    try:
        yield
    finally:
        _in_request.reset(token)


def in_request() -> bool:
    return _in_request.get()
