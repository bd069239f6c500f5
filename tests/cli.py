"""Running the `epidispatch` console script as a script would, against the test database."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.db import connection

EPIDISPATCH = shutil.which("epidispatch", path=str(Path(sys.executable).parent))


def _environment() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url}


def _command(command: str, *args: str) -> list[str]:
    """The command line, without Django's system checks: they import every view and the API
    (~1 s a call), and test_operations runs `epidispatch check` itself."""
    return [EPIDISPATCH, command, "--skip-checks", *args]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(*args), capture_output=True, text=True, env=_environment(), timeout=300
    )


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        _command(*args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_environment(),
    )
