"""How long `pytest-repro verify` takes on a warm ledger (goal: under 2 s).

Builds a paper of many claims in a temporary folder, records its runs once with
`pytest --repro-inprocess` (not timed), then times `pytest-repro verify` of its results.md,
and of the same report against an exported, sealed bundle. Where a ledger holding the runs
of the shipped papers exists (`--ledger`, default .repro/ledger.sqlite), also times
`pytest-repro verify papers/` against it.

    python benchmarks/verify.py                    # from the repository root
    python benchmarks/verify.py --claims 100 --repeat 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import pytest_repro  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.cli import main

GOAL = 2.0

TRAIN = """\
def run(ctx):
    c = ctx.config
    for epoch in range(1, c["epochs"] + 1):
        value = c["base"] + c["spread"] * (ctx.seed - 1)
        ctx.log(epoch=epoch, acc=value, loss=1 - value)
"""


def paper_yaml(claims: int, variants: int) -> str:
    lines = [
        'paper: {id: "bench", title: A paper of many claims}',
        "run:",
        "  entrypoint: train:run",
        "  config: {epochs: 5, base: 0.9, spread: 0.001}",
        "claims:",
    ]
    for i in range(claims):
        base = round(0.9 + 0.001 * (i % variants), 4)
        lines += [
            f"  - id: c{i}",
            f"    text: claim {i}",
            "    source: Table 1",
            "    metric: acc",
            "    at: {epoch: 5}",
            f"    paper: {base}",
            "    tolerance: 0.01",
            "    seeds: 3",
            f"    config: {{base: {base}}}",
        ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def timed(args: list[str], repeat: int) -> tuple[float, int, str]:
    """The median wall time of `pytest-repro ARGS` run ``repeat`` times, its status and
    its last line."""
    times, code, last = [], 0, ""
    for _ in range(repeat):
        out = io.StringIO()
        start = time.perf_counter()
        code = main(args, out=out)
        times.append(time.perf_counter() - start)
        last = out.getvalue().strip().splitlines()[-1]
    return statistics.median(times), code, last


def main_bench() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=60)
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ledger", type=Path, default=Path(".repro/ledger.sqlite"))
    args = parser.parse_args()
    shipped = args.ledger.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "papers" / "bench"
        folder.mkdir(parents=True)
        (folder / "paper.yaml").write_text(paper_yaml(args.claims, args.variants))
        (folder / "train.py").write_text(TRAIN)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "papers",
                "--repro-inprocess",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=root,
            check=False,
            capture_output=True,
        )
        if not (folder / "results.md").exists():
            print("the generated paper wrote no results.md; is pytest-repro installed?")
            return 1
        runs = args.variants * 3
        with cwd(root):
            took, code, last = timed(["verify", "papers/bench/results.md"], args.repeat)
            print(
                f"verify, generated paper ({args.claims} claims, {runs} runs), warm ledger: "
                f"{took:.2f} s (goal < {GOAL:.0f} s), exit {code}"
            )
            print(f"  {last}")
            with contextlib.redirect_stderr(io.StringIO()):
                main(["ledger", "export", "-o", "runs.jsonl"], out=io.StringIO())
            took, code, last = timed(
                ["verify", "papers/bench/results.md", "--ledger-file", "runs.jsonl"], args.repeat
            )
            print(f"verify, same paper, from the sealed bundle: {took:.2f} s, exit {code}")
    if shipped.exists():
        took, code, last = timed(["verify", "papers", "--ledger", str(shipped)], args.repeat)
        print(f"verify papers/ (shipped papers, {shipped}): {took:.2f} s, exit {code}")
        print(f"  {last}")
    else:
        print(f"shipped papers: no ledger at {shipped} (run `pytest papers` to record them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_bench())
