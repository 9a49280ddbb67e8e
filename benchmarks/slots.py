"""Local slots: 2 worker processes against 1 for CPU-bound runs, and the cost per run.

    python benchmarks/slots.py [--runs 8] [--seconds 1.0]

Writes a paper whose runs each spend about ``--seconds`` of CPU in numpy with one thread
(``--repro-threads=1``), runs it cold with ``--repro-workers=1`` and then ``=2`` (each in a
fresh ``--repro-dir``), and prints the time from the first run's start to the last run's end
(from the ledger) for both, and their ratio (goal >= 1.8x on 2 cores), beside each
session's whole wall time. Then the scheduling overhead per run: the run's wall time in
the ledger (from dispatch to its record) minus the time the entrypoint itself measured,
median over 40 trivial runs (goal < 20 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = """\
import time
import numpy as np

def run(ctx):
    started = time.perf_counter()
    a = np.random.default_rng(ctx.seed).random((200, 200))
    deadline = started + ctx.config["seconds"]
    while time.perf_counter() < deadline:
        a = (a @ a) / 200.0
    inner = time.perf_counter() - started
    ctx.log(epoch=1, acc=0.9 + 0.0001 * (ctx.seed % 3 - 1), inner=inner)
"""
PAPER = """\
paper: {{id: slots, title: Slots}}
run: {{entrypoint: train:run, config: {{seconds: {seconds}}}}}
claims:
  - {{id: c, text: t, source: s, metric: acc, at: {{epoch: 1}}, paper: 0.9, tolerance: 0.01, seeds: {runs}}}
"""


def session(root: Path, folder: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--repro-dir={folder}",
            *args,
        ],
        cwd=root,
        check=False,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    return time.perf_counter() - started


def span(root: Path, folder: str) -> float:
    """From the first run's start to the last run's end, read from the ledger."""
    with sqlite3.connect(root / folder / "ledger.sqlite") as conn:
        first, last = conn.execute("SELECT min(started_at), max(ended_at) FROM runs").fetchone()
    return float(last) - float(first)


def write(root: Path, runs: int, seconds: float) -> None:
    folder = root / "papers" / "slots"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    (folder / "paper.yaml").write_text(PAPER.format(runs=runs, seconds=seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, args.runs, args.seconds)
        one = session(root, "one", "--repro-workers=1", "--repro-threads=1")
        two = session(root, "two", "--repro-workers=2", "--repro-threads=1")
        runs_one, runs_two = span(root, "one"), span(root, "two")
        print(
            f"{args.runs} CPU-bound runs of {args.seconds:g} s: 1 slot {runs_one:.1f} s of runs "
            f"({one:.1f} s session), 2 slots {runs_two:.1f} s ({two:.1f} s session)"
        )
        print(f"speed-up of the runs: {runs_one / runs_two:.2f}x (goal >= 1.8x on 2 cores)")
        write(root, 40, 0.0)
        session(root, "tiny", "--repro-workers=1")
        with sqlite3.connect(root / "tiny" / "ledger.sqlite") as conn:
            rows = conn.execute("SELECT started_at, ended_at, series FROM runs").fetchall()
        overheads = [(end - start) - json.loads(series)[-1]["inner"] for start, end, series in rows]
        median = statistics.median(overheads) * 1000
        print(
            f"scheduling overhead per run: {median:.1f} ms median over {len(rows)} runs (goal < 20 ms)"
        )


if __name__ == "__main__":
    main()
