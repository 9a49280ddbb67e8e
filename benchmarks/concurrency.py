"""Shared ledger under pytest-xdist: no lost record, no run computed twice.

    python benchmarks/concurrency.py [--claims 200] [--variants 50] [--seeds 2] [--workers 2]

Builds one paper whose claims share variants (claim i uses variant i mod V), runs it with
pytest-xdist, and prints how many runs the ledger holds against the number of distinct
(variant, seed) pairs, how many times the entrypoint actually ran, and the wall time.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = """\
import os, pathlib, time

def run(ctx):
    log = pathlib.Path(ctx.paper_dir) / "calls"
    with log.open("a") as handle:
        handle.write(f"{ctx.config['variant']} {ctx.seed} {os.getpid()}\\n")
    time.sleep(0.05)
    ctx.log(step=1, acc=0.5 + 0.001 * ctx.seed)
"""


def build(root: Path, claims: int, variants: int, seeds: int) -> Path:
    folder = root / "papers" / "shared"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(TRAIN)
    lines = [
        "paper: {id: shared, title: Claims sharing variants}",
        "run:",
        "  entrypoint: train:run",
        "  config: {variant: 0}",
        "claims:",
    ]
    for i in range(claims):
        lines.append(
            f"  - {{id: c{i}, text: t, source: s, metric: acc, at: {{step: 1}}, paper: 0.5, "
            f"tolerance: 0.1, seeds: {seeds}, config: {{variant: {i % variants}}}}}"
        )
    (folder / "paper.yaml").write_text("\n".join(lines) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--variants", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = build(root, args.claims, args.variants, args.seeds)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "papers",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            str(args.workers),
        ]
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True)
        wall = time.perf_counter() - start
        db = sqlite3.connect(root / ".repro" / "ledger.sqlite")
        rows = db.execute("select status, count(*) from runs group by status").fetchall()
        db.close()
        calls = (folder / "calls").read_text().splitlines()
        expected = args.variants * args.seeds
        print(
            f"{args.workers} xdist workers x {args.claims} claims sharing {args.variants} variants, {args.seeds} seeds"
        )
        print(f"  pytest: {proc.stdout.strip().splitlines()[-1]}")
        print(f"  runs in the ledger: {dict(rows)} (expected {expected} ok)")
        distinct = {c.rsplit(" ", 1)[0] for c in calls}
        print(f"  entrypoint calls:   {len(calls)} (distinct: {len(distinct)})")
        print(f"  wall time: {wall:.1f} s")
        if dict(rows) != {"ok": expected} or len(calls) != expected:
            raise SystemExit("FAILED: runs were lost or computed twice")


if __name__ == "__main__":
    main()
