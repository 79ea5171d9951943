"""The bad-input properties at benchmark size: at least 10,000 generated cases in all.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.reliability.fuzz_all
    .venv/bin/python -m tests.reliability.fuzz_all --scale 30            # more cases
    .venv/bin/python -m tests.reliability.fuzz_all --known-defects       # look for D2-D8 too

It runs tests/reliability/test_fuzz.py (the same properties CI runs with a few hundred cases)
with every property's case count multiplied by ``--scale``, through pytest, so the suite's
isolation (temporary folders, loopback-only network, in-memory keyring) applies. It then
prints the cases run per property and fails if fewer than ``--min-cases`` ran in all.
pytest does not collect this file (it is not named test_*.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=13.0, help="cases per property x this")
    parser.add_argument("--min-cases", type=int, default=10_000, help="fail below this total")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest, e.g. -x")
    args = parser.parse_args(argv)
    # Read when tests.support.fuzz is imported, which pytest does below.
    os.environ["CLEAROOMS_FUZZ_SCALE"] = str(args.scale)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import pytest

    from tests.support.reliability import REPORT, table

    started = time.monotonic()
    code = pytest.main(
        [str(HERE / "test_fuzz.py"), "-q", "-p", "no:cacheprovider", *args.pytest_args]
    )
    elapsed = time.monotonic() - started
    prefix = "generated cases: "
    cases = {k[len(prefix) :]: v for k, v in REPORT.counts.items() if k.startswith(prefix)}
    total = sum(cases.values())
    rows = [[name, f"{count:,}"] for name, count in cases.items()]
    rows.append(["total", f"{total:,}"])
    print()
    print(f"Generated cases per property (scale {args.scale:g}, {elapsed:.0f} s):")
    for line in table(["property", "cases"], rows):
        print("  " + line)
    if total < args.min_cases:
        print(f"Only {total:,} cases ran; at least {args.min_cases:,} were asked for.")
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
