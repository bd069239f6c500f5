"""CPU time and SQL statements of one visit through the API, in one Django process: the
figures bench/visits.py cannot separate from the noise of a shared machine.

    DATABASE_URL=postgres://…/bench_visit_cpu EPIDISPATCH_DEMO=1 \\
        .venv/bin/epidispatch migrate && .venv/bin/epidispatch load_demo --residents 300
    DATABASE_URL=postgres://…/bench_visit_cpu .venv/bin/python bench/visit_cpu.py 150

A grid worker (with an API token) of the grid with the most residents posts visits through
Django's test client: first ones that change the status (moved, contraindicated, refused
in turn, so every one changes it), then ones that change nothing (not found). Prints the
median CPU time (`time.process_time`) and statements of each kind, and the mean CPU time
of the PostgreSQL backend serving them (from /proc, so a server on this machine; ticks of
10 ms, hence a mean over the rounds). The database's name must contain "bench": the
script adds a user and visits to it.
"""

import os
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
os.environ.setdefault("EPIDISPATCH_DEBUG", "0")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from epidispatch.accounts.models import Role, RoleAssignment, User  # noqa: E402
from epidispatch.accounts.services import api_token_create  # noqa: E402
from epidispatch.orgunits.models import OrgUnit  # noqa: E402
from epidispatch.registry.models import Resident  # noqa: E402


def backend_cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process on this machine (None: not readable here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(rounds: int) -> None:
    if "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit("use a database whose name contains 'bench'")
    busiest = Resident.objects.values("grid").annotate(n=Count("id")).order_by("-n")[0]
    grid = OrgUnit.objects.get(pk=busiest["grid"])
    user, _created = User.objects.get_or_create(username="visit-cpu-worker")
    RoleAssignment.objects.get_or_create(user=user, unit=grid, role=Role.GRID_WORKER)
    _record, token = api_token_create(user=user, name="visit-cpu")
    people = list(Resident.objects.filter(grid=grid).values_list("pk", flat=True))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")

    def post(index: int, outcome: str) -> None:
        data = {"outcome": outcome, "submission_id": str(uuid.uuid4())}
        if outcome == "contraindicated":
            data["reason"] = "对疫苗成分过敏"
        response = client.post(
            f"/api/v1/field/residents/{people[index % len(people)]}/visits", data
        )
        assert response.status_code in (200, 201), response.status_code

    for index in range(30):  # warm caches (content types, the banding day)
        post(index, ("refused", "moved", "not_found")[index % 3])
    kinds = (
        ("visit that changes the status", ("moved", "contraindicated", "refused")),
        ("visit that changes nothing", ("not_found",)),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    for label, outcomes in kinds:
        cpu, statements = [], []
        backend_start = backend_cpu_seconds(backend)
        for index in range(rounds):
            with CaptureQueriesContext(connection) as context:
                start = time.process_time()
                post(index, outcomes[index % len(outcomes)])
                cpu.append(time.process_time() - start)
            statements.append(len(context.captured_queries))
        backend_end = backend_cpu_seconds(backend)
        cpu.sort()
        statements.sort()
        server = (
            f", PostgreSQL backend mean CPU {(backend_end - backend_start) / rounds * 1000:.2f} ms"
            if backend_start is not None and backend_end is not None
            else ""
        )
        print(
            f"{label}: median CPU {cpu[len(cpu) // 2] * 1000:.1f} ms, "
            f"{statements[len(statements) // 2]} statements (median of {rounds}){server}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
