"""Failed, skewed and deterministic seeds, and the paper's runs as a second sample.

Run::

    python benchmarks/stats_robust.py [--reps N] [--seed S] [--only seeds|paper|guard]

Prints the share of simulated reproductions called matched (decide_absolute, row by row,
tolerance 1, paper 0): at the band edge (false matched) and at the paper's value.
``--only guard`` prints the skew guard's calibration from 2 to 50 seeds, vectorised
(the same rule as decide_absolute's ``interval: auto``; ``--reps`` x 20 reproductions a
cell).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.stats import PaperSpread, decide_absolute
from pytest_repro.stats.robust import widen_rows
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    MATCHED,
    Floor,
    absolute_t,
    classify_absolute,
)
from pytest_repro.stats.simulate import draw as simulated
from pytest_repro.stats.skew_guard import allowance, guard_rows

NS = (3, 5, 10)
SDS = (0.25, 0.5, 1.0)
SDS_GUARD = (0.5, 1.0, 1.25)


def draw(kind: str, mean: float, sd: float, size: tuple[int, int], rng: np.random.Generator):
    if kind == "normal":
        return rng.normal(mean, sd, size)
    if kind == "t3":
        return mean + sd * rng.standard_t(3, size) / math.sqrt(3)
    if kind == "skewed":  # mirrored lognormal, skewness about -3, long tail on the bad side
        return simulated(kind, mean=mean, sd=sd, size=size, rng=rng)
    raise ValueError(kind)


def failed(mode: float, sd: float, size: tuple[int, int], rng: np.random.Generator):
    """20% of seeds fail: their value lies 10-50 tolerances below the success mode."""
    x = rng.normal(mode, sd, size)
    f = rng.random(size) < 0.2
    x[f] = mode - rng.uniform(10, 50, int(f.sum()))
    return x


def share(x: np.ndarray, **kw: object) -> float:
    hits = [
        decide_absolute(list(r), paper=0.0, tolerance=1.0, **kw).outcome == "matched" for r in x
    ]  # type: ignore[arg-type]
    return float(np.mean(hits))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20240229)
    ap.add_argument(
        "--only",
        choices=("seeds", "paper", "guard"),
        help="print one part: seed shapes, the paper table or the skew guard's calibration",
    )
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    if a.only == "guard":
        guard_table(a.reps * 20, rng)
        return
    if a.only != "paper":
        seed_tables(a, rng)
    if a.only != "seeds":
        paper_table(a, rng)


def matched_rows(x: np.ndarray, guarded: bool) -> float:
    """Share matched (paper 0, tolerance 1, better: higher) under Student-t with the auto
    rule's skew widening, with or without the skew guard."""
    n = x.shape[1]
    tb = absolute_t(x, (0.90,), floor=Floor(value=FALLBACK_FLOOR_FRACTION, source="tolerance"))
    low, high = widen_rows(x, tb.estimate, tb.low[0], tb.high[0], "higher")
    if guarded:
        low, high = guard_rows(tb.estimate, low, high, x.std(axis=1, ddof=1), n, 1.0, "higher")
    codes = classify_absolute(
        low, high, paper=0.0, tolerance=1.0, better="higher", disagreement=3.0
    )
    return float(np.mean(codes == MATCHED))


def guard_table(reps: int, rng: np.random.Generator) -> None:
    print(f"skew guard: share matched, {reps} reproductions a cell (t: without the guard)")
    print(
        "| seeds | allowance (tol) | skewed edge, sd 0.5 | skewed edge, sd 1.0 "
        "| skewed edge, sd 1.25 | normal edge, sd 0.5 | normal truth, sd 0.5: guard / t "
        "| normal truth, sd 1.0: guard / t |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in (2, 3, 4, 5, 7, 10, 20, 50):
        edge = [matched_rows(draw("skewed", -1.0, sd, (reps, n), rng), True) for sd in SDS_GUARD]
        normal_edge = matched_rows(draw("normal", -1.0, 0.5, (reps, n), rng), True)
        truth = []
        for sd in (0.5, 1.0):
            x = draw("normal", 0.0, sd, (reps, n), rng)
            truth.append(f"{matched_rows(x, True):.3f} / {matched_rows(x, False):.3f}")
        print(
            f"| {n} | {float(allowance(n)):.2f} | "
            + " | ".join(f"{v:.3f}" for v in edge)
            + f" | {normal_edge:.3f} | "
            + " | ".join(truth)
            + " |"
        )


def seed_tables(a: argparse.Namespace, rng: np.random.Generator) -> None:
    print("| seeds | sd | " + " | ".join(f"n={n}" for n in NS) + " |")
    print("| --- | --- |" + " --- |" * len(NS))
    for kind in ("normal", "t3", "skewed"):
        for sd in SDS:
            row = [share(draw(kind, -1.0, sd, (a.reps, n), rng)) for n in NS]
            print(f"| {kind}, edge | {sd} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    for sd in SDS:
        new = [share(draw("normal", 0.0, sd, (a.reps, n), rng)) for n in NS]
        old = [share(draw("normal", 0.0, sd, (a.reps, n), rng), method="t") for n in NS]
        print(
            f"| normal, truth (auto / plain t) | {sd} | "
            + " | ".join(f"{u:.3f} / {v:.3f}" for u, v in zip(new, old, strict=True))
            + " |"
        )
    for sd in SDS:
        mean_row = [share(failed(-1.0 + 0.2 * 30, sd, (a.reps, n), rng)) for n in NS]
        succ_row = [share(failed(-1.0, sd, (a.reps, n), rng), about="successful") for n in NS]
        print(
            f"| 20% failed, about mean, edge | {sd} | "
            + " | ".join(f"{v:.3f}" for v in mean_row)
            + " |"
        )
        print(
            f"| 20% failed, about successful, edge | {sd} | "
            + " | ".join(f"{v:.3f}" for v in succ_row)
            + " |"
        )
    print()


def paper_table(a: argparse.Namespace, rng: np.random.Generator) -> None:
    print(
        "| paper m=5, n=10, sd | truth: two-sample | truth: previous pooling rule "
        "| edge: two-sample | edge, paper sd half: two-sample | edge, paper sd half: previous |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for sd in (0.5, 0.75, 1.0):
        out = []
        for mean, ratio, sample in (
            (0.0, 1.0, True),
            (0.0, 1.0, False),
            (-1.0, 1.0, True),
            (-1.0, 0.5, True),
            (-1.0, 0.5, False),
        ):
            hits = 0
            for _ in range(a.reps // 2):
                runs = rng.normal(0.0, sd, 5)
                spread = PaperSpread(value=float(runs.std(ddof=1)) * ratio, kind="sd", seeds=5)
                x = rng.normal(mean, sd, 10)
                v = decide_absolute(
                    list(x),
                    paper=float(runs.mean()),
                    tolerance=1.0,
                    paper_spread=spread,
                    paper_sample=sample,
                )
                hits += v.outcome == "matched"
            out.append(hits / (a.reps // 2))
        print(f"| {sd} | " + " | ".join(f"{v:.3f}" for v in out) + " |")


if __name__ == "__main__":
    main()
