"""Same-run A/B of the dose import's choices (issue 20, round 4), on the database and files
of an earlier `bench/import_doses.py` run with the same sizes (it reuses them, --reuse):

    /work/notes/b .venv/bin/python bench/dose_import_ab.py \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_doseimport --rounds 2

Each round imports the CSV once per variant (doses, statuses and batches emptied before
each, a CHECKPOINT before each, as in `make bench`), in the order given, the order reversed
in every other round so that a drift of the machine does not favour one variant. The bare
COPY of the same file runs before the first and after the last round. Printed: each
import's seconds, its main stages, the checkpoints PostgreSQL requested during it (WAL
beyond max_wal_size) and the WAL it wrote.

Variants (only `delta` is the application's code; the others patch it for the run):

- `counts`: the live figures counted before and after the import (two full counts of the
  residents), as before round 4.
- `delta`: the application: the figures moved by the doses the import added.
- `txid`: `delta`, and the (txid, id) feed index rebuilt after the COPY with lot and trace
  code.
- `advisory`: `delta` with the residents not locked row by row: one
  `pg_advisory_xact_lock` instead (what the import would pay under an advisory protocol;
  the set-wise reference check then locks the residents FOR KEY SHARE itself). A
  measurement, not a protocol: the other writers do not take the shared lock here.
"""

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_doses as bench

VARIANTS = ("counts", "delta", "txid", "advisory")
STAGES = (
    "lock_rows(Resident)",
    "leaf_figures",
    "_add_added",
    "insert_frame(Dose)",
    "_indexes_build",
    "references_lock(Dose)",
    "references_lock(VaccinationStatus)",
    "insert_frame(VaccinationStatus)",
)


@contextmanager
def variant(name: str):
    from epidispatch.core import bulk
    from epidispatch.registry.models import Resident
    from epidispatch.vaccination import services

    saved = {
        "figures_track": services.figures_track,
        "REBUILT_INDEXES": services.REBUILT_INDEXES,
        "lock_rows": bulk.lock_rows,
    }
    if name == "counts":
        track = services.figures_track
        services.figures_track = lambda ids, adds_doses=False: track(ids)
    elif name == "txid":
        services.REBUILT_INDEXES = (*services.REBUILT_INDEXES, "txid")
    elif name == "advisory":
        lock = bulk.lock_rows

        def advisory(model, ids):
            if model is not Resident:
                return lock(model, ids)
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(20, 4)")

        bulk.lock_rows = advisory
    try:
        yield
    finally:
        services.figures_track = saved["figures_track"]
        services.REBUILT_INDEXES = saved["REBUILT_INDEXES"]
        bulk.lock_rows = saved["lock_rows"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--variants", default="counts,delta,txid,advisory")
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args(argv)
    names = options.variants.split(",")
    unknown = set(names) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    args = bench.parse_args(["--database-url", options.database_url, "--reuse", "--no-results"])
    setup: dict[str, float] = {}
    machine = bench.machine_facts()
    plan, csv_path, _xlsx = bench.prepare(args, setup)
    expected = plan.expected()
    print(f"load average at start: {machine.get('Load average (1, 5, 15 min) at start')}")
    print(f"commit {bench.git_commit()}; {bench.server_facts()}")
    copies = [bench.copy_baseline(csv_path, args.encoding, expected["csv_rows"])]
    print(f"bare COPY: {copies[0]:.2f} s")
    clock = bench.instrument()
    results: list[tuple[int, str, float, dict, tuple]] = []
    for round_number in range(options.rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            bench._empty_imports()
            with variant(name):
                seconds, summary, batch, server = bench.timed_import(csv_path, clock)
            bench.check(batch.state == "done", f"{name}: batch {batch.state}: {batch.message}")
            bench.check(
                summary.stored == expected["csv_stored"],
                f"{name}: stored {summary.stored:,}, not {expected['csv_stored']:,}",
            )
            results.append((round_number, name, seconds, dict(clock.seconds)))
            stages = ", ".join(
                f"{stage} {clock.seconds[stage]:.2f}" for stage in STAGES if stage in clock.seconds
            )
            print(
                f"round {round_number + 1} {name:9} {seconds:6.2f} s ({server}): {stages}",
                flush=True,
            )
            time.sleep(1)
    copies.append(bench.copy_baseline(csv_path, args.encoding, expected["csv_rows"]))
    print(f"bare COPY: {copies[0]:.2f} s before, {copies[1]:.2f} s after")
    print()
    print("| Variant | Imports (s) | Mean (s) | rows/s | Ratio to the mean bare COPY |")
    print("|---|---|---:|---:|---:|")
    copy = sum(copies) / len(copies)
    for name in names:
        times = [seconds for _r, n, seconds, _s in results if n == name]
        mean = sum(times) / len(times)
        print(
            f"| `{name}` | {', '.join(f'{t:.2f}' for t in times)} | {mean:.2f} | "
            f"{args.doses / mean:,.0f} | {mean / copy:.2f} |"
        )
    print()
    print("| Stage (mean s) | " + " | ".join(f"`{n}`" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for stage in STAGES:
        cells = []
        for name in names:
            values = [s.get(stage, 0.0) for _r, n, _t, s in results if n == name]
            cells.append(f"{sum(values) / len(values):.2f}")
        print(f"| `{stage}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bench.BenchFailure as failure:
        print(f"\nBENCHMARK FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
