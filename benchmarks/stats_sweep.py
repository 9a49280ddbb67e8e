"""Calibration of the sweep rules (trend, slope, peak, curve).

Run::

    python benchmarks/stats_sweep.py [--reps N] [--seed S] [--location-reps M]

For each kind, seed count (3, 5, 10) and seed shape (normal; t3: heavy tails; skewed:
a mirrored lognormal, long tail towards lower values) it prints the share of simulated
reproductions called matched at the kind's boundary (false matched; the rules promise
at most 0.05 for normal seeds), called matched at the stated truth, and called a
disagreement at the truth. A second table gives how often the peak location's 90%
bootstrap interval holds the true peak. The settings are the constants of
``pytest_repro/stats/simulate_sweep.py``; ``docs/statistics-sweeps.md`` shows the
output. Each cell draws from its own generator, seeded by ``(seed, kind, n, shape)``:
the same arguments print the same numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.stats.rules import DISAGREEMENT, MATCHED
from pytest_repro.stats.simulate_sweep import (
    KINDS,
    PEAK_TRUTH,
    SHAPES,
    boundary_and_truth,
    location_coverage,
)

SEED_COUNTS = (3, 5, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=20_000, help="reproductions per cell")
    parser.add_argument("--seed", type=int, default=20240229)
    parser.add_argument("--location-reps", type=int, default=500)
    args = parser.parse_args()
    start = time.perf_counter()
    print(
        f"reps per cell: {args.reps}; seed {args.seed}; generator per cell: (seed, kind, n, shape)\n"
    )
    print(
        "| kind | seeds | seed shape | false matched at boundary | matched at truth | "
        "false disagreement at truth |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for ki, kind in enumerate(KINDS):
        for n in SEED_COUNTS:
            for si, shape in enumerate(SHAPES):
                rng = np.random.default_rng([args.seed, ki, n, si])
                b, t = boundary_and_truth(kind, n=n, reps=args.reps, shape=shape, rng=rng)
                print(
                    f"| {kind} | {n} | {shape} | {(b == MATCHED).mean():.3f} | "
                    f"{(t == MATCHED).mean():.3f} | {(t == DISAGREEMENT).mean():.3f} |"
                )
    print(f"\npeak location: share of {args.location_reps} reproductions whose 90% interval holds")
    print("the true peak (x=2 of 0..4); peak 2 sd and 0.5 sd above its neighbours\n")
    print("| peak height | seeds | " + " | ".join(SHAPES) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in SHAPES) + " |")
    for hi, scale in enumerate((1.0, 0.25)):
        for n in (5, 10):
            cells = []
            for si, shape in enumerate(SHAPES):
                rng = np.random.default_rng([args.seed, 10 + hi, n, si])
                cov = location_coverage(
                    PEAK_TRUTH * scale, n=n, reps=args.location_reps, shape=shape, rng=rng
                )
                cells.append(f"{cov:.3f}")
            print(f"| {2 * scale:g} sd | {n} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
