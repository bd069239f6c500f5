"""Who acts when no user does: the command this process runs and the operating-system
account that runs it.

The `epidispatch` console script names the command as it starts (`command_set`), the
task queue names each task while it runs (`task_running`, for the huey consumer started by
`epidispatch run_huey`); the audit trail writes them and the account beside a change made
outside any request, as it names the account on its events. A request is marked while
it runs (`request_running`, the audit middleware), so a change made on a page is never
taken for a command's.
"""

import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_command = ""
_in_request: ContextVar[bool] = ContextVar("epidispatch_in_request", default=False)
#: The task a worker thread runs (each worker of the consumer is a thread of its own).
_task: ContextVar[str] = ContextVar("epidispatch_task", default="")


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


def task_running(name: str) -> None:
    """A queued task starts in this thread (the task queue's "executing" signal)."""
    _task.set(name[:60])


def task_ended() -> None:
    _task.set("")


def task_name() -> str:
    """The task running in this thread ("" outside a task)."""
    return _task.get()
