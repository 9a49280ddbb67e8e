"""What loading the plugin costs every pytest start where pytest-repro is installed.

    python benchmarks/plugin_import.py [--runs 15] [--root PATH]

Prints the median wall time of ``import pytest_repro.plugin`` in a fresh interpreter
(pytest already imported, so only the plugin's own cost is counted), the number of
package modules it loads and the number of all modules loaded after it. ``--root``
measures another checkout (e.g. an older commit unpacked with ``git archive``), so two
layouts can be compared as a ratio in one invocation on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import sys, time\n"
    "import pytest\n"
    "t = time.perf_counter()\n"
    "import pytest_repro.plugin\n"
    "d = time.perf_counter() - t\n"
    "ours = [m for m in sys.modules if m.startswith('pytest_repro')]\n"
    "print(d * 1000, len(ours), len(sys.modules))\n"
)


def measure(root: Path, runs: int) -> tuple[float, int, int]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    times, ours, total = [], 0, 0
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        ours, total = int(out[1]), int(out[2])
    return statistics.median(times), ours, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--root", type=Path, action="append", help="checkout(s) to measure")
    args = parser.parse_args()
    roots = args.root or [Path(__file__).resolve().parents[1]]
    for root in roots:
        ms, ours, total = measure(root.resolve(), args.runs)
        print(
            f"{root}: import pytest_repro.plugin {ms:.1f} ms (median of {args.runs}), "
            f"{ours} pytest_repro modules, {total} modules in all"
        )


if __name__ == "__main__":
    main()
