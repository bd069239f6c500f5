"""The booking benchmark (issue 26): 200 clients at once booking the last 10 places of a
slot over HTTP, on PostgreSQL, against a bare insert view in the same run.

    .venv/bin/python bench/booking.py                      # 200 clients, 10 places, 5 rounds
    .venv/bin/python bench/booking.py --clients 200 --free 10 --rounds 5 --server gthread:2x16

1. Setup (timed, not judged): drops and recreates the database "bench_booking" on the
   server of $DATABASE_URL, migrates it, creates a county, a town, a site and a grid with
   `--clients` residents, and a grid worker holding an API token. For every round it opens
   a session on a day of its own (one booking per person per day) whose first slot has
   capacity `--clients` and `--clients - --free` places already taken.
2. Starts gunicorn (bench/visits.py's launcher, production settings, bench/booking_urls.py)
   and per round releases `--clients` asyncio clients (aiohttp, one connection each) at
   the same instant:
   - platform: `POST /api/v1/sites/slots/{id}/bookings` with the worker's bearer token and
     one resident's ID number each (scope check, resident lookup, conditional UPDATE of
     the slot's counter, insert, all in one transaction);
   - baseline: `POST /bench/bare-booking`, one `Appointment.objects.create` each.
   A first round of each is a warm-up and not counted.
3. Checks every platform round: exactly `--free` answers 201, every other one 409 saying
   the slot is full, the slot's counter at capacity and `--free` rows in the database.

Rate = requests answered / wall time of the round; latency percentiles over all counted
rounds. Results go to a section of bench/RESULTS.md (replaced by a later run).
"""

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).parent))

import visits as http_bench  # bench/visits.py, beside this file: database and gunicorn helpers

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
DATA_DIR = REPO / "var" / "bench-booking"
SECTION_START = "<!-- bench:booking -->"
SECTION_END = "<!-- /bench:booking -->"
FIRST_DAY = date(2030, 1, 1)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--free", type=int, default=10, help="places left in the slot")
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds of each kind")
    parser.add_argument("--server", default="gthread:2x16", help="gunicorn setting")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    return parser.parse_args()


def database_url(explicit: str | None) -> str:
    base = explicit or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x"
    url = base if explicit else urlunsplit(urlsplit(base)._replace(path="/bench_booking"))
    if "bench" not in urlsplit(url).path:
        sys.exit(f"refusing to drop a database whose name lacks 'bench': {url}")
    return url


def id_number(sequence: int) -> str:
    from stdnum.cn import ric

    body = f"62242419800101{sequence:03d}"[:17]
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Setup:
    token: str
    site_id: int
    numbers: list[str]
    resident_ids: list[int]
    platform_slots: list[int]
    baseline_slots: list[tuple[int, str]]


def setup(args) -> Setup:
    import django

    django.setup()
    from django.core.management import call_command

    from epidispatch.accounts.models import Role
    from epidispatch.accounts.services import api_token_create, user_create
    from epidispatch.orgunits.models import UnitKind
    from epidispatch.orgunits.services import unit_create
    from epidispatch.registry.services import resident_create
    from epidispatch.sites.models import Session, SiteKind, Slot

    call_command("migrate", verbosity=0)
    unit_create(code="621100", name="定西市", kind=UnitKind.CITY, parent_code=None)
    unit_create(code="621121", name="通渭县", kind=UnitKind.COUNTY, parent_code="621100")
    unit_create(code="621121100000", name="平襄镇", kind=UnitKind.TOWN, parent_code="621121")
    unit_create(
        code="621121100001", name="北关社区", kind=UnitKind.VILLAGE, parent_code="621121100000"
    )
    grid = unit_create(
        code="621121100001001", name="第1网格", kind=UnitKind.GRID, parent_code="621121100001"
    )
    site = unit_create(
        code="621121970001", name="平襄镇接种点", kind=UnitKind.SITE, parent_code="621121100000"
    )
    worker = user_create(username="bench-worker", password="bench-pass-1",
                         roles=[(Role.GRID_WORKER, grid)])  # fmt: skip
    _record, token = api_token_create(user=worker, name="bench")
    numbers = [id_number(n) for n in range(args.clients)]
    residents = [resident_create(name=f"居民{n}", id_number=number, grid=grid)
                 for n, number in enumerate(numbers)]  # fmt: skip

    def slot_on(day: date, booked: int) -> int:
        session = Session.objects.create(site=site, kind=SiteKind.FIXED, day=day,
            opens_at="08:00", closes_at="09:00", capacity_per_hour=args.clients)  # fmt: skip
        return Slot.objects.create(session=session, starts_at="08:00", capacity=args.clients,
                                   booked=booked).pk  # fmt: skip

    rounds = args.rounds + 1
    platform_slots = [slot_on(FIRST_DAY + timedelta(days=r), args.clients - args.free)
                      for r in range(rounds)]  # fmt: skip
    baseline_days = [FIRST_DAY + timedelta(days=100 + r) for r in range(rounds)]
    baseline_slots = [(slot_on(day, 0), day.isoformat()) for day in baseline_days]
    return Setup(token, site.pk, numbers, [r.pk for r in residents], platform_slots,
                 baseline_slots)  # fmt: skip


@dataclass
class Round:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    full_answers: int = 0


async def one_round(base: str, requests: list[tuple[str, dict, dict]]) -> Round:
    import aiohttp

    start = asyncio.Event()
    result = Round(seconds=0.0)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector) as client:

        async def send(path: str, body: dict, headers: dict) -> None:
            await start.wait()
            began = time.perf_counter()
            async with client.post(path, json=body, headers=headers) as response:
                text = await response.text()
            result.latencies.append(time.perf_counter() - began)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            if response.status == 409 and "已约满" in text:
                result.full_answers += 1

        tasks = [asyncio.create_task(send(*request)) for request in requests]
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - began
    return result


def check_platform_round(slot_id: int, args, result: Round) -> None:
    from epidispatch.sites.models import Appointment, Slot

    slot = Slot.objects.get(pk=slot_id)
    stored = Appointment.objects.filter(slot_id=slot_id).count()
    expected = {201: args.free, 409: args.clients - args.free}
    if result.statuses != expected or result.full_answers != args.clients - args.free:
        sys.exit(f"round on slot {slot_id}: answers {result.statuses}, expected {expected}")
    if (slot.booked, stored) != (slot.capacity, args.free):
        sys.exit(f"slot {slot_id}: booked {slot.booked}/{slot.capacity}, {stored} rows stored")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def main() -> None:
    args = parse_args()
    url = database_url(args.database_url)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(DATABASE_URL=url, EPIDISPATCH_DATA_DIR=str(DATA_DIR),
                      DJANGO_SETTINGS_MODULE="epidispatch.settings")  # fmt: skip
    began = time.monotonic()
    http_bench.recreate_database(url)
    state = setup(args)
    print(f"setup: {args.clients} residents, {time.monotonic() - began:.1f} s")
    from django.db import connections

    connections.close_all()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "booking_settings", "EPIDISPATCH_DEBUG": "0"}
    port = http_bench.free_port()
    server = http_bench.start_server(args.server, port, env)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {state.token}"}
    platform_rounds, baseline_rounds = [], []
    try:
        for index in range(args.rounds + 1):
            slot_id = state.platform_slots[index]
            path = f"/api/v1/sites/slots/{slot_id}/bookings"
            requests = [(path, {"id_numbers": [number]}, auth) for number in state.numbers]
            result = asyncio.run(one_round(base, requests))
            check_platform_round(slot_id, args, result)
            slot_id, day = state.baseline_slots[index]
            bare = [("/bench/bare-booking",
                     {"slot": slot_id, "site": state.site_id, "day": day, "resident": resident},
                     {}) for resident in state.resident_ids]  # fmt: skip
            baseline = asyncio.run(one_round(base, bare))
            if baseline.statuses != {201: args.clients}:
                sys.exit(f"baseline round: answers {baseline.statuses}")
            if index:
                platform_rounds.append(result)
                baseline_rounds.append(baseline)
            print(f"round {index}{' (warm-up)' if not index else ''}: platform "
                  f"{args.clients / result.seconds:.0f} req/s, baseline "
                  f"{args.clients / baseline.seconds:.0f} req/s")  # fmt: skip
    finally:
        http_bench.stop_server(server)
    rows = [summary("platform: API booking, conditional UPDATE", platform_rounds, args),
            summary("baseline: bare insert view", baseline_rounds, args)]  # fmt: skip
    for row in rows:
        print(" | ".join(row))
    if not args.no_results:
        write_results(args, rows)


def summary(name: str, rounds: list[Round], args) -> list[str]:
    latencies = [value for r in rounds for value in r.latencies]
    rates = [args.clients / r.seconds for r in rounds]
    created = sorted({r.statuses.get(201, 0) for r in rounds})
    full = sorted({r.full_answers for r in rounds})
    return [name, f"{statistics.median(rates):.0f}", f"{percentile(latencies, 0.5):.0f}",
            f"{percentile(latencies, 0.99):.0f}", ",".join(map(str, created)),
            ",".join(map(str, full))]  # fmt: skip


def write_results(args, rows: list[list[str]]) -> None:
    import django

    lines = [
        SECTION_START,
        f"## Booking: {args.clients} clients at once for the last {args.free} places "
        f"(bench/booking.py)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; gunicorn {args.server}; "
        f"{args.rounds} counted rounds after a warm-up; Python {platform.python_version()}, "
        f"Django {django.get_version()}; {os.cpu_count()} cores shared with other engineers' "
        f"test runs (1-minute load {os.getloadavg()[0]:.1f} at the end); client, server and "
        "PostgreSQL on this one machine.",
        "",
        "| path | req/s (median round) | p50 ms | p99 ms | 201 per round | 409 full per round |",
        "|---|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        f"Every platform round: exactly {args.free} bookings stored, the slot's counter at its "
        f'capacity, every other client answered 409 with the Chinese "slot is full" message.',
        SECTION_END,
    ]
    text = RESULTS.read_text(encoding="utf-8")
    if SECTION_START in text:
        head, _, rest = text.partition(SECTION_START)
        text = head + "\n".join(lines) + rest.partition(SECTION_END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
