"""How close a reproduction session is to plain pytest.

    python benchmarks/session.py [--claims 1000] [--repeat 3]

Prints, each a median over ``--repeat`` sessions measured in this one invocation (compare
the ratios: a shared machine is noisy):

* 1,000 claims sharing 3 recorded runs against 1,000 trivial plain tests (sessions of
  the two alternated), and the ratio;
* a whole session of a trivial paper with 3 runs of a few milliseconds, cold (no ledger)
  and warm (every run recorded);
* the time from starting pytest to the first run starting, in a cold session;
* the per-run cost of a numpy-only paper's runs beyond the run itself (its wall time in
  the ledger against the session's), and whether its workers loaded torch.

Python writes its bytecode cache as usual in these sessions (``PYTHONDONTWRITEBYTECODE``
is removed from their environment); ``--no-bytecode-cache`` keeps it set, as some
containers do, where every session compiles each module it imports (pytest's assertion
rewriting included) and both sides pay about a second more.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = """\
import json, pathlib, sys

def run(ctx):
    with open(pathlib.Path(ctx.paper_dir) / "torch.log", "a") as f:
        f.write(json.dumps("torch" in sys.modules) + "\\n")
    import numpy as np
    ctx.log(epoch=1, acc=0.9 + 0.001 * (ctx.seed - 1) + float(np.zeros(1)[0]))
"""
HEADER = "paper: {id: bench, title: Session overhead}\nrun: {entrypoint: train:run}\nclaims:\n"
CLAIM = (
    "  - {{id: c{i}, text: t, source: s, metric: acc, at: {{epoch: 1}}, paper: 0.9, "
    "tolerance: 0.01}}\n"
)


ENV = dict(os.environ)


def session(root: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        check=False,
        capture_output=True,
        env=ENV,
    )
    return time.perf_counter() - started


def paper(root: Path, claims: int) -> None:
    folder = root / "papers" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    (folder / "paper.yaml").write_text(HEADER + "".join(CLAIM.format(i=i) for i in range(claims)))


def plain(root: Path, tests: int) -> None:
    body = "".join(f"def test_{i}():\n    assert {i} == {i}\n\n" for i in range(tests))
    (root / "test_plain.py").write_text(body)


def first_run_delay(root: Path) -> tuple[float, float]:
    """Seconds from launching pytest to the first run starting; and the session's length."""
    shutil.rmtree(root / ".repro", ignore_errors=True)
    launched = time.time()
    length = session(root, "papers")
    with sqlite3.connect(root / ".repro" / "ledger.sqlite") as conn:
        (first,) = conn.execute("SELECT min(started_at) FROM runs").fetchone()
    return float(first) - launched, length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE as the environment sets it",
    )
    args = parser.parse_args()
    if not args.no_bytecode_cache:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = "off" if ENV.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(f"bytecode cache: {cache}")
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        big, small, tests = Path(tmp) / "big", Path(tmp) / "small", Path(tmp) / "plain"
        for folder in (big, small, tests):
            folder.mkdir()
        paper(big, args.claims)
        paper(small, 1)
        plain(tests, args.claims)
        session(big, "papers")  # record the 3 runs every claim shares
        session(tests)  # and compile the plain tests once
        # alternated, so that a change in the machine's load falls on both sides alike
        pairs = [(session(big, "papers"), session(tests)) for _ in range(args.repeat)]
        cached = med(c for c, _ in pairs)
        plain_time = med(p for _, p in pairs)
        print(f"{args.claims} cached claims: {cached:.2f} s")
        print(f"{args.claims} plain tests:   {plain_time:.2f} s")
        print(f"ratio:                {cached / plain_time:.2f}x (goal <= 1.3x)")
        delays, colds = zip(*(first_run_delay(small) for _ in range(args.repeat)), strict=True)
        warm = med(session(small, "papers") for _ in range(args.repeat))
        print(f"trivial 3-run paper, cold session: {med(colds):.2f} s (goal <= 3 s)")
        print(f"trivial 3-run paper, warm session: {warm:.2f} s (goal <= 1.5 s)")
        print(f"pytest start to first run:         {med(delays):.2f} s")
        with sqlite3.connect(small / ".repro" / "ledger.sqlite") as conn:
            walls = [e - s for s, e in conn.execute("SELECT started_at, ended_at FROM runs")]
        loaded = [
            json.loads(x) for x in (small / "papers" / "bench" / "torch.log").read_text().split()
        ]
        print(f"numpy-only run, median wall time:  {med(walls) * 1000:.0f} ms per run")
        print(f"numpy-only workers that held torch: {sum(loaded)} of {len(loaded)} runs")


if __name__ == "__main__":
    main()
