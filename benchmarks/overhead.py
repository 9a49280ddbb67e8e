"""Per-run overhead of the execution layer, and the cost of a warm re-run.

    python benchmarks/overhead.py [--runs 40]

Prints, for a trivial entrypoint:
  * the time per run through a warm worker (the worker already started),
  * the time of the first run on a cold worker, without and with a torch import
    (a worker pays heavy imports once, before its first run),
  * the time of a whole pytest session that reuses every recorded run.
Figures are medians over the given number of runs; compare them as ratios measured in
one invocation, since a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from pytest_repro.config import ReproConfig
from pytest_repro.execution.plan import Planner
from pytest_repro.execution.service import RunService, default_executor
from pytest_repro.ledger import SQLiteLedger, run_lock
from pytest_repro.spec import load_spec

TRIVIAL = "def run(ctx):\n    ctx.log(step=1, acc=0.5)\n"
WITH_TORCH = "import torch\n\ndef run(ctx):\n    ctx.log(step=1, acc=float(torch.ones(1).sum()))\n"
SPEC = """\
paper: {{id: bench, title: Overhead}}
run:
  entrypoint: train:run
  config: {{i: 0}}
claims:
  - {{id: acc, text: t, source: s, metric: acc, at: {{step: 1}}, paper: 0.5, tolerance: 0.1, seeds: {seeds}}}
"""


def paper(root: Path, code: str, seeds: int) -> Path:
    folder = root / "papers" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(code)
    (folder / "paper.yaml").write_text(SPEC.format(seeds=seeds))
    return folder / "paper.yaml"


def service(root: Path) -> tuple[RunService, Planner, ReproConfig]:
    cfg = ReproConfig(
        rootdir=root, workdir=root / ".repro", ledger=root / ".repro" / "ledger.sqlite", workers=1
    )
    store = SQLiteLedger(cfg.ledger)
    locks = cfg.workdir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    svc = RunService(
        cfg, store=store, executor=default_executor(cfg), lock=lambda key: run_lock(locks, key)
    )
    return svc, Planner(cfg), cfg


def per_run(code: str, runs: int) -> tuple[float, list[float]]:
    """(first run on a cold worker, then per-run times on the warm worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = load_spec(paper(root, code, runs), display="papers/bench/paper.yaml")
        svc, planner, _ = service(root)
        claim = spec.claims[0]
        times = []
        try:
            for seed in range(runs):
                request = planner.request(spec, claim.variants()[0], seed)
                start = time.perf_counter()
                (record,) = svc.obtain([request])
                times.append(time.perf_counter() - start)
                assert record.ok, record.error
        finally:
            svc.close()
        return times[0], times[1:]


def warm_session(runs: int) -> tuple[float, float]:
    """Wall time of a cold pytest session and of a second one that reuses every run."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paper(root, TRIVIAL, runs)
        command = [sys.executable, "-m", "pytest", "papers", "-q", "-p", "no:cacheprovider"]
        times = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(command, cwd=root, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return times[0], times[1]


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * len(values))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    cold, warm = per_run(TRIVIAL, args.runs)
    cold_torch, warm_torch = per_run(WITH_TORCH, max(5, args.runs // 4))
    print(
        textwrap.dedent(f"""\
        per-run overhead, trivial entrypoint ({args.runs} runs, one worker):
          warm worker:   median {statistics.median(warm) * 1000:7.1f} ms   p90 {p90(warm) * 1000:7.1f} ms
          cold worker:   first run {cold * 1000:7.1f} ms (starts the worker: python, numpy, torch when installed)
        entrypoint that imports torch:
          warm worker:   median {statistics.median(warm_torch) * 1000:7.1f} ms
          cold worker:   first run {cold_torch * 1000:7.1f} ms""")
    )
    cold_session, warm_session_time = warm_session(args.runs)
    print(
        textwrap.dedent(f"""\
        pytest session with {args.runs} runs:
          first (trains):      {cold_session:6.2f} s
          second (reuses all): {warm_session_time:6.2f} s   ({cold_session / warm_session_time:.1f}x faster)""")
    )


if __name__ == "__main__":
    main()
