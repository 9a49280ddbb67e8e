"""How long results.md with figures takes for many claims (goal: under 5 s), and how big
the HTML panels with their figures are.

Builds 200 claims with 3 seeds of 100 logged points each, renders results.md with its
figure links, draws every figure file and every pytest-html panel, and prints the times
and sizes.

    python benchmarks/report_figures.py                 # from the repository root
    python benchmarks/report_figures.py --claims 500 --points 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

try:
    import pytest_repro  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.records import RunRecord
from pytest_repro.report import figures, html, markdown
from pytest_repro.results import ClaimResult
from pytest_repro.spec import load_spec

GOAL = 5.0
HEADER = """\
paper:
  id: bench
  title: Figures benchmark
run:
  entrypoint: train:run
  config:
    base: 0.9
claims:
"""
CLAIM = """\
  - id: c{i}
    text: claim {i}
    source: Table 1
    metric: acc
    at: {{epoch: {at}}}
    paper: 0.9
    tolerance: 0.01
    unit: fraction
"""


def build(claims: int, seeds: int, points: int) -> tuple[list[ClaimResult], dict[str, RunRecord]]:
    results, records = [], {}
    for i in range(claims):
        runs = []
        for s in range(seeds):
            rid = f"c{i}-s{s}"
            series = tuple(
                {"epoch": e, "acc": 0.9 - 0.5 / e + 0.001 * s + 0.0001 * i}
                for e in range(1, points + 1)
            )
            records[rid] = RunRecord(
                run_id=rid,
                cache_key=rid,
                paper_id="bench",
                paper_path="papers/bench/paper.yaml",
                variant="v",
                config={},
                seed=s,
                status="ok",
                series=series,
            )
            runs.append(rid)
        values = tuple(records[r].series[-1]["acc"] for r in runs)
        results.append(
            ClaimResult(
                paper_id="bench",
                paper_title="Figures benchmark",
                path="papers/bench/paper.yaml",
                id=f"c{i}",
                line=10 + 8 * i,
                kind="absolute",
                text=f"claim {i}",
                source="Table 1",
                metric="acc",
                at={"epoch": points},
                verdict="matched",
                label="[matched]",
                paper=0.9,
                tolerance=0.01,
                unit="fraction",
                n=seeds,
                seeds=tuple(range(seeds)),
                values=values,
                estimate=sum(values) / seeds,
                interval=(0.895, 0.905),
                confidence=0.9,
                shown_interval=(0.894, 0.906),
                shown_confidence=0.95,
                delta=0.0,
                method="student-t",
                runs=tuple(runs),
            )
        )
    return results, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    results, records = build(args.claims, args.seeds, args.points)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "papers" / "bench"
        folder.mkdir(parents=True)
        text = HEADER + "".join(CLAIM.format(i=i, at=args.points) for i in range(args.claims))
        (folder / "paper.yaml").write_text(text)
        (folder / "train.py").write_text("def run(ctx):\n    pass\n")
        spec = load_spec(folder / "paper.yaml", display="papers/bench/paper.yaml")
        start = time.perf_counter()
        md = markdown.render(
            spec, results, records, version="bench", settings="bench", figures=True
        )
        files = [figures.figure_file(r, records) for r in results]
        took_md = time.perf_counter() - start
        start = time.perf_counter()
        panels = [html.panel(r, records) for r in results]
        took_html = time.perf_counter() - start
    size_html = sum(len(p.encode()) for p in panels)
    size_svg = sum(len(f.encode()) for f in files)
    label = f"{args.claims} claims x {args.seeds} seeds x {args.points} points"
    print(f"results.md with figures ({label}): {took_md:.2f} s (goal < {GOAL:.0f} s)")
    print(
        f"  results.md {len(md.encode()) / 1024:.0f} KiB, figure files {size_svg / 2**20:.2f} MiB"
    )
    print(f"HTML panels with figures: {took_html:.2f} s, {size_html / 2**20:.2f} MiB")
    return 0 if took_md < GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
