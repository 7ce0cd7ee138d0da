"""Issue 17 figure: the share of adapter request bodies checked against the platforms' official definitions.

Runs tests/platforms (every adapter request is recorded by the wire_contract fixture and checked with the
official libraries' types) and prints the counts from its summary line, beside the load average.

    .venv/bin/python bench/bench_contracts.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    before = os.getloadavg()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/platforms"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("wire contract:")), "")
    found = re.search(r"(\d+) requests recorded, (\d+) writes, (\d+) checked, (\d+) refused", line)
    if result.returncode != 0 or not found:
        print(result.stdout[-3000:], result.stderr[-2000:])
        return 1
    recorded, writes, checked, refused = map(int, found.groups())
    uncovered = line.split("uncovered writes: ", 1)[-1]
    print(f"load average {before[0]:.2f} / {os.getloadavg()[0]:.2f} (start / end)")
    print(f"adapter requests in tests/platforms: {recorded} ({writes} writes, {recorded - writes} reads)")
    share = f"{checked}/{writes} = {checked / writes:.1%}"
    print(f"writes checked against official definitions: {share}, refused: {refused}")
    print(f"writes no official definition covers: {uncovered}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
