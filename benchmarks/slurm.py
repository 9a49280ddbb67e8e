"""Runs as jobs (``--repro-executor=local-jobs``, the code path of ``slurm``) against the pool.

    python benchmarks/slurm.py [--seeds 6]

Writes a small paper in a temporary folder and runs it with pytest three ways, printing:
  * the per-seed values (drawn from the seeded ``random`` and ``numpy`` generators) and
    the verdict through the local worker pool and through local jobs (submitit's local
    executor), and whether they are identical;
  * the wall time of each session, one run at a time (``--repro-workers=1``,
    ``--repro-slurm-max-jobs=1``), and from it the overhead a job adds to each run
    (a fresh interpreter, submitit's pickles, the job's polling);
  * a session whose first job of seed 0 kills its own process: the job is sent again, and
    the ledger holds one record per seed, seed 0's with ``attempts: 2``.
Figures from one invocation compare; a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_repro.ledger import SQLiteLedger

PAPER = """\
paper: {{id: bench, title: Jobs against the pool}}
run:
  entrypoint: train:run
  config: {{kill_seed: {kill}}}
claims:
  - id: acc
    text: accuracy
    source: Table 1
    metric: acc
    at: {{epoch: 3}}
    paper: 0.9
    tolerance: 0.01
    unit: fraction
    seeds: {seeds}
"""
TRAIN = """\
import os, pathlib, random, signal

import numpy as np

def run(ctx):
    marker = pathlib.Path(ctx.paper_dir) / "killed"
    if ctx.seed == ctx.config["kill_seed"] and not marker.exists():
        marker.write_text("once")
        os.kill(os.getpid(), signal.SIGKILL)
    for epoch in range(1, 4):
        noise = 0.002 * (random.random() - 0.5) + 0.002 * (np.random.rand() - 0.5)
        ctx.log(epoch=epoch, acc=round(0.9 + noise, 6))
"""


def session(root: Path, name: str, *options: str) -> tuple[float, dict[str, object]]:
    """Wall seconds of one pytest session and its claim's JSON."""
    out = root / f"{name}.json"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "papers", "-q", "-p", "no:cacheprovider",
         f"--repro-dir=.{name}", f"--repro-json={out}", "--repro-progress=off", *options],
        cwd=root, check=False, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    (claim,) = [c for p in json.loads(out.read_text())["papers"] for c in p["claims"]]
    return wall, claim


def write_paper(root: Path, seeds: int, kill: int) -> None:
    folder = root / "papers" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paper.yaml").write_text(PAPER.format(kill=kill, seeds=list(range(seeds))))
    (folder / "train.py").write_text(TRAIN)
    (folder / "killed").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        write_paper(root, args.seeds, kill=-1)
        pool_wall, pool = session(root, "pool", "--repro-workers=1")
        jobs_wall, jobs = session(
            root, "jobs", "--repro-executor=local-jobs", "--repro-slurm-max-jobs=1"
        )
        print(f"seeds: {args.seeds}, one run at a time")
        print(f"local pool   values {pool['values']}  verdict {pool['verdict']}")
        print(f"local jobs   values {jobs['values']}  verdict {jobs['verdict']}")
        same = pool["values"] == jobs["values"] and pool["verdict"] == jobs["verdict"]
        print(f"identical: {same}")
        overhead = (jobs_wall - pool_wall) / args.seeds
        print(
            f"session wall time: pool {pool_wall:.2f} s, jobs {jobs_wall:.2f} s; "
            f"the job path adds {overhead:.2f} s per run"
        )

        write_paper(root, args.seeds, kill=0)
        _, killed = session(root, "killed", "--repro-executor=local-jobs")
        ledger = SQLiteLedger(root / ".killed" / "ledger.sqlite")
        try:
            records = list(ledger.records())
        finally:
            ledger.close()
        seed0 = [r for r in records if r.seed == 0]
        attempts = [r.evidence["executor"]["attempts"] for r in seed0]
        print(
            f"seed 0's first job killed: {len(records)} records for {args.seeds} seeds, "
            f"seed 0 recorded {len(seed0)} time(s), status {seed0[0].status if seed0 else '-'}, "
            f"attempts {attempts}; values {killed['values']} (same as the pool: "
            f"{killed['values'] == pool['values']})"
        )


if __name__ == "__main__":
    main()
