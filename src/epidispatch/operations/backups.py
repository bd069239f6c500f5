"""Backup and restore (备份与恢复): the database, the data key and the data folder's files
in one archive, because none of the three is any use without the others — ID numbers and
phones are encrypted with the key, proofs and error reports live in the data folder.

The archive is a .tar.gz holding `manifest.json`, `database.dump` (PostgreSQL, pg_dump's
custom format) or `database.sqlite3`, `data.key` and `files/` (the data folder without the
database, the task queue, logs, collected static files and keys). It holds the data key:
keep it as safe as the database itself.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
#: What in the data folder is not backed up as a file (the database is dumped apart; the
#: rest is rebuilt or belongs to this machine).
NOT_FILES = {"static", "logs", "data.key", "secret.key"}
NOT_FILE_PREFIXES = ("epidispatch.sqlite3", "tasks.db")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Chinese."""


@dataclass
class BackupSummary:
    archive: Path
    engine: str
    files: int


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _pg_arguments() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    arguments = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        arguments += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        arguments += ["--port", str(db["PORT"])]
    if db.get("USER"):
        arguments += ["--username", db["USER"]]
    environment = {**os.environ}
    if db.get("PASSWORD"):
        environment["PGPASSWORD"] = db["PASSWORD"]
    return arguments, environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            _("%(program)s is not installed (Debian: apt-get install postgresql-client).")
            % {"program": command[0]}
        )
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": command[0], "error": result.stderr.strip()}
        )


def _data_files() -> list[Path]:
    files = []
    for path in sorted(Path(settings.DATA_DIR).rglob("*")):
        relative = path.relative_to(settings.DATA_DIR)
        top = relative.parts[0]
        if top in NOT_FILES or top.startswith(NOT_FILE_PREFIXES) or not path.is_file():
            continue
        files.append(path)
    return files


def backup_create(*, archive: Path) -> BackupSummary:
    """Write the database, the data key and the data folder's files to `archive`."""
    archive = Path(archive)
    if archive.exists():
        raise BackupError(_("%(path)s exists already; name a new file.") % {"path": archive})
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        if _is_postgres():
            arguments, environment = _pg_arguments()
            dump = work_dir / "database.dump"
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(dump),
                    *arguments,
                ],
                environment,
            )
        else:
            connection.ensure_connection()
            target = sqlite3.connect(work_dir / "database.sqlite3")
            with target:
                connection.connection.backup(target)
            target.close()
        (work_dir / "data.key").write_text(settings.EPIDISPATCH_DATA_KEY)
        files = _data_files()
        manifest = {
            "format": FORMAT,
            "engine": connection.vendor,
            "created_at": timezone.now().isoformat(),
            "files": len(files),
        }
        (work_dir / "manifest.json").write_text(json.dumps(manifest))
        archive.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for member in sorted(work_dir.iterdir()):
                tar.add(member, arcname=member.name)
            for path in files:
                tar.add(path, arcname=f"files/{path.relative_to(settings.DATA_DIR)}")
    return BackupSummary(archive=archive, engine=connection.vendor, files=len(files))


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def backup_restore(*, archive: Path) -> BackupSummary:
    """Restore `archive` into the configured (empty) database and data folder, and put its
    data key in the data folder."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(_("No backup file %(path)s.") % {"path": archive})
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive, mode="r:gz") as tar:
        work_dir = Path(work)
        try:
            tar.extractall(work_dir, filter="data")
            manifest = json.loads((work_dir / "manifest.json").read_text())
            key = (work_dir / "data.key").read_text().strip()
        except (OSError, ValueError, tarfile.TarError) as error:
            message = _("Not a backup of this platform: %(error)s") % {"error": error}
            raise BackupError(message) from None
        if manifest.get("format") != FORMAT or manifest.get("engine") != connection.vendor:
            raise BackupError(
                _("This backup is of a %(engine)s database; the configured one is %(ours)s.")
                % {"engine": manifest.get("engine"), "ours": connection.vendor}
            )
        configured = os.environ.get("EPIDISPATCH_DATA_KEY")
        if configured and configured != key:
            raise BackupError(
                _(
                    "EPIDISPATCH_DATA_KEY is set to another key than the backup's: unset it "
                    "(the key is then read from data.key in the data folder) or set it to "
                    "the backup's key."
                )
            )
        if not _database_is_empty():
            raise BackupError(
                _("The database %(name)s is not empty: restore into a new, empty database.")
                % {"name": settings.DATABASES["default"]["NAME"]}
            )
        if _is_postgres():
            arguments, environment = _pg_arguments()
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    *arguments,
                    str(work_dir / "database.dump"),
                ],
                environment,
            )
        else:
            connection.close()
            shutil.copyfile(work_dir / "database.sqlite3", settings.DATABASES["default"]["NAME"])
        files = 0
        source = work_dir / "files"
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file():
                    target = Path(settings.DATA_DIR) / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
                    files += 1
        key_file = Path(settings.DATA_DIR) / "data.key"
        key_file.write_text(key)
        key_file.chmod(0o600)
    return BackupSummary(archive=archive, engine=manifest["engine"], files=files)
