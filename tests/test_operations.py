"""Running the platform: security headers, the health endpoint, the start-up key check,
`check --deploy` in production settings, backup and restore."""

import json
import logging
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.fieldwork.models import VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .cli import EPIDISPATCH, _environment
from .fieldwork_fixtures import PDF, upload
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher_client(client, tree, make_user):
    client.force_login(make_user(Role.DISPATCHER, tree.county))
    return client


class TestHeaders:
    def test_pages_carry_a_csp_without_inline_script_and_no_store(self, dispatcher_client, tree):
        response = dispatcher_client.get(f"/units/{tree.town.code}/")
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert "no-store" in response["Cache-Control"]

    def test_exports_of_personal_data_are_not_stored_by_caches(self, dispatcher_client, tree):
        response = dispatcher_client.get(f"/units/{tree.town.code}/clearance/", {"format": "xlsx"})
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]

    def test_api_answers_are_not_stored_by_caches(self, dispatcher_client):
        assert "no-store" in dispatcher_client.get("/api/v1/units")["Cache-Control"]

    def test_no_template_holds_an_inline_script_or_style_attribute(self):
        sources = Path(__file__).resolve().parents[1] / "src" / "epidispatch"
        offenders = [
            str(path)
            for path in sources.rglob("templates/**/*.html")
            if any(
                marker in path.read_text()
                for marker in (' style="', " onclick=", " onchange=", "<script>")
            )
        ]
        assert offenders == []


def _python(code: str, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**_environment(), "DJANGO_SETTINGS_MODULE": "epidispatch.settings", **environment},
        timeout=120,
    )


HEALTH = (
    "import django; django.setup()\n"
    "from django.test import Client\n"
    "r = Client().get('/health/', SERVER_NAME='localhost')\n"
    "print(r.status_code, r.content.decode())\n"
)


@pytest.mark.django_db(transaction=True)
class TestHealth:
    def test_healthy_when_database_queue_and_key_are_right(self, tree):
        resident_create(name="牛建国", id_number=id_number(1), grid=tree.grid)
        result = _python(HEALTH)
        status, body = result.stdout.split(" ", 1)
        assert status == "200", result.stderr
        assert json.loads(body) == {
            "status": "ok",
            "database": "ok",
            "queue": "ok",
            "data_key": "ok",
        }

    def test_fails_when_the_database_is_down(self):
        result = _python(HEALTH, DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere")
        status, body = result.stdout.split(" ", 1)
        assert status == "503"
        assert json.loads(body)["database"].startswith("error")

    def test_fails_and_the_server_refuses_to_start_with_another_data_key(self, tree):
        resident_create(name="牛建国", id_number=id_number(1), grid=tree.grid)
        wrong = {"EPIDISPATCH_DATA_KEY": "not-the-key-this-database-was-written-with"}
        status, body = _python(HEALTH, **wrong).stdout.split(" ", 1)
        assert (status, json.loads(body)["data_key"]) == ("503", "error: mismatch")
        start = _python("import epidispatch.wsgi", **wrong)
        assert start.returncode != 0
        assert "data key" in start.stderr.lower() or "数据密钥" in start.stderr
        check = subprocess.run(
            [EPIDISPATCH, "check"],
            capture_output=True,
            text=True,
            env={**_environment(), **wrong},
            timeout=120,
        )
        assert check.returncode != 0
        assert "epidispatch.E001" in check.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    environment = {
        **_environment(),
        "EPIDISPATCH_HTTPS": "1",
        "EPIDISPATCH_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 20 + uuid.uuid4().hex * 2,
        "EPIDISPATCH_ALLOWED_HOSTS": "epi.example.gov.cn",
    }
    result = subprocess.run(
        [EPIDISPATCH, "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_database_and_data_folder_keeps_everything(
    tree, make_user, tmp_path, settings
):
    settings.MEDIA_ROOT = Path(settings.DATA_DIR) / "uploads"
    worker = make_user(Role.GRID_WORKER, tree.grid)
    staff = make_user(Role.SITE_STAFF, tree.site)
    residents = [
        resident_create(
            name=f"居民{n}", id_number=id_number(n), phone=f"138000000{n:02d}", grid=tree.grid
        )
        for n in range(1, 6)
    ]
    dose_record(
        resident=residents[0],
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate() - timedelta(days=3),
        site=tree.site,
        by=staff,
    )
    visit = visit_record(
        resident=residents[1],
        outcome=VisitOutcome.VACCINATED_ELSEWHERE,
        by=worker,
        proof=upload(PDF, "凭证.pdf", "application/pdf"),
    ).visit
    archive = tmp_path / "backup.tar.gz"
    backup = subprocess.run(
        [EPIDISPATCH, "backup", str(archive), "--json"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=300,
    )
    assert backup.returncode == 0, backup.stderr
    assert json.loads(backup.stdout)["files"] >= 1

    fresh_db = f"restore_{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    admin = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{fresh_db}"')
    fresh = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{fresh_db}",
        "EPIDISPATCH_DATA_DIR": str(tmp_path / "fresh-data"),
    }
    fresh.pop("EPIDISPATCH_DATA_KEY", None)
    try:
        restore = subprocess.run(
            [EPIDISPATCH, "restore", str(archive)],
            capture_output=True,
            text=True,
            env=fresh,
            timeout=300,
        )
        assert restore.returncode == 0, restore.stderr
        verify = subprocess.run(
            [sys.executable, "-c", VERIFY, str(visit.pk)],
            capture_output=True,
            text=True,
            env={**fresh, "DJANGO_SETTINGS_MODULE": "epidispatch.settings"},
            timeout=120,
        )
        assert verify.returncode == 0, verify.stderr
        assert json.loads(verify.stdout) == {
            "residents": 5,
            "doses": 1,
            "visits": 1,
            "id_numbers": sorted(id_number(n) for n in range(1, 6)),
            "proof": PDF.decode("latin-1"),
            "health": 200,
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{fresh_db}" WITH (FORCE)')


#: Run against the restored database and data folder: every record is there, the ID
#: numbers decrypt with the restored key, the proof file is served, and health is green.
VERIFY = """
import json, sys
import django
django.setup()
from django.test import Client
from epidispatch.core import protection
from epidispatch.fieldwork.models import Visit
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import Dose
visit = Visit.objects.get(pk=int(sys.argv[1]))
print(json.dumps({
    "residents": Resident.objects.count(),
    "doses": Dose.objects.count(),
    "visits": Visit.objects.count(),
    "id_numbers": sorted(protection.decrypt(r.id_number_encrypted) for r in Resident.objects.all()),
    "proof": visit.proof.open("rb").read().decode("latin-1"),
    "health": Client().get("/health/", SERVER_NAME="localhost").status_code,
}))
"""


def test_a_server_error_is_logged_as_one_json_line_with_its_traceback(settings):
    logger = logging.getLogger("django.request")
    marker = uuid.uuid4().hex
    try:
        raise RuntimeError(marker)
    except RuntimeError:
        logger.error("Internal Server Error: /units/x/", exc_info=True)
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = (Path(settings.LOG_DIR) / "epidispatch.log").read_text().splitlines()
    entry = json.loads(next(line for line in reversed(lines) if marker in line))
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert f"RuntimeError: {marker}" in entry["traceback"]
