"""Two CPU-only A/B measurements behind "Screening, round 3" in bench/RESULTS.md (issue 22),
each side timed twice in one run on a million values:

    /work/notes/b .venv/bin/python bench/screening_micro.py

1. The ID numbers' HMAC-SHA256: `protection.lookup_digests` (the key's inner and outer
   hashes begun once and copied per value) against the one-shot C path
   `hmac.digest(key, value, "sha256")`.
2. A sample file's times: `imports._parse_time` (each format tried only on the cells the
   formats before it could not read) against coalescing every format's parse of every
   cell (what it did before).
"""

import hmac
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
N = 1_000_000


def clock(label: str, function, results: dict) -> None:
    start = time.perf_counter()
    function()
    results.setdefault(label, []).append(time.perf_counter() - start)


def main() -> None:
    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
    import django

    django.setup()
    import polars as pl

    from epidispatch.core import protection
    from epidispatch.core.ids import ascii_digits
    from epidispatch.screening import imports

    numbers = [f"620102{1950 + i % 50}{1 + i % 12:02d}{i % 100_000:05d}X" for i in range(N)]
    key = protection._lookup_key()
    times = pl.DataFrame({"t": [f"2026-12-01 {8 + i % 10:02d}:{i % 60:02d}" for i in range(N)]})

    def one_shot():
        return [hmac.digest(key, number.encode(), "sha256").hex() for number in numbers]

    def coalesced():
        text = ascii_digits(pl.col("t")).str.replace_all(r"\s+", " ")
        formats = (text.str.to_datetime(f, strict=False) for f in imports.DATETIME_FORMATS)
        return times.select(pl.coalesce(*formats))

    assert one_shot()[:1000] == protection.lookup_digests(numbers[:1000])
    results: dict[str, list[float]] = {}
    for _ in range(2):
        clock(
            "HMAC: lookup_digests (copied inner/outer hashes)",
            lambda: protection.lookup_digests(numbers),
            results,
        )
        clock("HMAC: hmac.digest one-shot", one_shot, results)
        clock(
            "times: each format on the cells left",
            lambda: times.select(imports._parse_time(pl.col("t"))),
            results,
        )
        clock("times: every format on every cell", coalesced, results)
    for label, seconds in results.items():
        print(f"| {label} | {' / '.join(f'{s:.2f}' for s in seconds)} |")


if __name__ == "__main__":
    main()
