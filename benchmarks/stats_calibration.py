"""Calibration of the statistics engine: coverage, decision error rates, adaptive seeds, timing.

Run::

    python benchmarks/stats_calibration.py [--reps N] [--seed S] [--boot-reps N] [--quick]

It prints Markdown tables (the ones quoted in ``docs/statistics.md``):

1. coverage of 95% intervals on a seed mean (Student-t, z, percentile bootstrap, BCa,
   bootstrap-t) at n = 2, 3, 5, 10, 20 seeds, for normal, accuracy-like and skewed seeds;
2. coverage of the pooled interval that borrows the paper's spread;
3. the hierarchical (seed x example) bootstrap against Student-t on per-seed accuracies;
4. decision rates of the default rule (matched when right, false matched at the band
   edge, false gap);
5. adaptive seeding (expected seeds, false matched) and what checking the fixed interval
   after every seed would do instead;
6. the time one claim's verdict takes with each method;
7. identical seeds (copies of one run) and seeds that differ only by rounding noise;
8. comparative rules that follow the claim, and a count of monotonicity violations;
9. bounded metrics (a fraction near 1): matched and false-matched rates.

``--sections identical,rules,bounded`` prints only the sections named (all by default).

Everything is simulated with fixed seeds, so the same arguments print the same numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stats_real_seeds import bounded_tables, identical_tables, rules_tables

from pytest_repro.stats import (
    PaperSpread,
    decide_absolute,
    decide_comparative,
    decide_sequential,
    schedule_for,
)
from pytest_repro.stats.adaptive import edge_error
from pytest_repro.stats.simulate import (
    absolute_codes,
    coverage,
    hierarchical_coverage,
    peeking_codes,
    pooled_coverage,
    rates,
    sequential_codes,
)

SEED_COUNTS = (2, 3, 5, 10, 20)
SECTIONS = (
    "coverage",
    "pooling",
    "hierarchical",
    "decision",
    "adaptive",
    "timing",
    "identical",
    "rules",
    "bounded",
)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> None:
    print(_row(header))
    print(_row(["---"] * len(header)))
    for r in rows:
        print(_row(r))
    print()


def coverage_table(reps: int, boot_reps: int, resamples: int, seed: int) -> None:
    print("## 1. Coverage of nominal 95% intervals on the seed mean\n")
    print(
        f"t and z: {reps:,} simulated reproductions per cell; bootstrap methods: "
        f"{boot_reps:,} per cell with B = {resamples} resamples (Monte Carlo standard error "
        f"about {np.sqrt(0.05 * 0.95 / reps):.4f} and {np.sqrt(0.05 * 0.95 / boot_reps):.4f}).\n"
    )
    dists = {
        "normal": "normal",
        "accuracy": "accuracy-like (Beta, mean 0.97, sd 0.005)",
        "lognormal": "skewed (lognormal, skewness 6.2)",
    }
    methods = {
        "t": "Student-t",
        "z": "z (normal)",
        "percentile": "percentile bootstrap",
        "bca": "BCa bootstrap",
        "bootstrap-t": "bootstrap-t",
    }
    rows = []
    for d_i, (dist, d_label) in enumerate(dists.items()):
        for m_i, (method, m_label) in enumerate(methods.items()):
            cells = [d_label, m_label]
            for n in SEED_COUNTS:
                if method == "bootstrap-t" and n < 5:
                    cells.append("—")
                    continue
                r = reps if method in ("t", "z") else boot_reps
                cov = coverage(
                    method,  # type: ignore[arg-type]
                    dist,  # type: ignore[arg-type]
                    n,
                    reps=r,
                    rng=_rng(seed, 1, d_i, m_i, n),
                    resamples=resamples,
                )
                cells.append(f"{cov:.3f}")
            rows.append(cells)
    _table(["seeds", "interval"] + [f"n={n}" for n in SEED_COUNTS], rows)
    print(
        "—: bootstrap-t is not offered below 5 seeds. At 2 or 3 seeds a large share of "
        "resamples repeat one value and have no spread, so the interval is unbounded.\n"
    )


def pooling_table(reps: int, seed: int) -> None:
    print("## 2. Pooling with the paper's spread (paper: m = 5 runs), 95% coverage\n")
    print(
        f"{reps * 4:,} reproductions per cell; the paper's sd is itself simulated from its 5 "
        "runs. 'guarded' is the rule used: sd = max(pooled, own) at n <= 4. 'plain' pools "
        "without the guard. 'paper sd x0.5': the paper's runs were half as noisy as the "
        "reproduction's.\n"
    )
    rows = []
    for n in (1, 2, 3, 4, 5, 10):
        cells = [str(n)]
        for ratio, guard in ((1.0, True), (1.0, False), (0.5, True), (0.5, False)):
            cov = pooled_coverage(
                n,
                5,
                reps=reps * 4,
                rng=_rng(seed, 2, n),
                paper_sd_ratio=ratio,
                guard=guard,
            )
            cells.append(f"{cov:.4f}")
        rows.append(cells)
    _table(
        [
            "n",
            "guarded (rule)",
            "plain",
            "guarded, paper sd x0.5",
            "plain, paper sd x0.5",
        ],
        rows,
    )


def hierarchical_table(reps: int, seed: int) -> None:
    print("## 3. Hierarchical bootstrap vs Student-t on per-seed accuracy, 95% coverage\n")
    print(
        f"{reps:,} reproductions per cell, B = 999; 1000 test examples per seed, each seed "
        "with its own true accuracy around 0.9 (seed sd as given; the binomial sd of one "
        "seed's accuracy is 0.0095). 'expanded' is the interval verdicts use.\n"
    )
    rows = []
    for seed_sd in (0.03, 0.01, 0.003):
        for n in (3, 5, 10, 20):
            expanded, plain, t = hierarchical_coverage(
                n, reps=reps, rng=_rng(seed, 3, int(seed_sd * 1000), n), seed_sd=seed_sd
            )
            rows.append([f"{seed_sd}", str(n), f"{expanded:.3f}", f"{plain:.3f}", f"{t:.3f}"])
    _table(
        ["seed sd", "n", "hierarchical (expanded)", "hierarchical (plain percentile)", "Student-t"],
        rows,
    )


def decision_tables(reps: int, seed: int) -> None:
    print("## 4. Decision rates of the default rule (90% Student-t, tolerance = 1)\n")
    print(f"{reps:,} reproductions per cell; sd in units of the tolerance.\n")
    sds = (0.1, 0.25, 0.5, 1.0)
    ns = (2, 3, 5, 10)
    rows = []
    for sd in sds:
        cells = [f"{sd}"]
        for n in ns:
            c = absolute_codes(
                true_mean=0.0,
                sd=sd,
                n=n,
                paper=0.0,
                tolerance=1.0,
                reps=reps,
                rng=_rng(seed, 4, int(sd * 100), n),
            )
            r = rates(c)
            cells.append(f"{r['matched']:.3f} / {r['gap'] + r['exceeded']:.4f}")
        rows.append(cells)
    print("True mean = paper value: matched rate / false gap-or-exceeded rate.\n")
    _table(["sd"] + [f"n={n}" for n in ns], rows)
    rows = []
    for sd in sds:
        cells = [f"{sd}"]
        for n in ns:
            worst = 0.0
            for k, edge in enumerate((1.0, -1.0)):
                c = absolute_codes(
                    true_mean=edge,
                    sd=sd,
                    n=n,
                    paper=0.0,
                    tolerance=1.0,
                    reps=reps,
                    rng=_rng(seed, 5, int(sd * 100), n, k),
                )
                worst = max(worst, rates(c)["matched"])
            cells.append(f"{worst:.4f}")
        rows.append(cells)
    print("True mean at the band edge (paper ± tolerance): false matched rate (worse edge).\n")
    _table(["sd"] + [f"n={n}" for n in ns], rows)


def adaptive_tables(reps: int, seed: int) -> None:
    schedule = schedule_for()
    print("## 5. Adaptive seeds, stages (3, 5, 10), alphas (0.0037, 0.0103, 0.0414)\n")
    print(f"{reps:,} reproductions per cell; tolerance = 1.\n")
    rows = []
    for sd in (0.1, 0.25, 0.5, 1.0):
        c0, used0 = sequential_codes(
            true_mean=0.0,
            sd=sd,
            schedule=schedule,
            paper=0.0,
            tolerance=1.0,
            reps=reps,
            rng=_rng(seed, 6, int(sd * 100)),
        )
        fixed = rates(
            absolute_codes(
                true_mean=0.0,
                sd=sd,
                n=10,
                paper=0.0,
                tolerance=1.0,
                reps=reps,
                rng=_rng(seed, 7, int(sd * 100)),
            )
        )
        c1, _ = sequential_codes(
            true_mean=1.0,
            sd=sd,
            schedule=schedule,
            paper=0.0,
            tolerance=1.0,
            reps=reps,
            rng=_rng(seed, 8, int(sd * 100)),
        )
        rows.append(
            [
                f"{sd}",
                f"{used0.mean():.2f}",
                f"{rates(c0)['matched']:.3f}",
                f"{fixed['matched']:.3f}",
                f"{rates(c1)['matched']:.4f}",
            ]
        )
    _table(
        [
            "sd",
            "expected seeds (true = paper)",
            "matched, adaptive",
            "matched, fixed n=10",
            "false matched at edge, adaptive",
        ],
        rows,
    )
    print("What the adaptive levels prevent: the fixed 90% interval checked after every seed,")
    print("stopping at the first decided verdict (true mean at the band edge).\n")
    rows = []
    for sd in (0.1, 0.25, 0.5, 1.0):
        cells = [f"{sd}"]
        for first in (2, 3):
            c, _ = peeking_codes(
                true_mean=1.0,
                sd=sd,
                first=first,
                last=10,
                paper=0.0,
                tolerance=1.0,
                reps=reps,
                rng=_rng(seed, 9, int(sd * 100), first),
            )
            cells.append(f"{rates(c)['matched']:.4f}")
        rows.append(cells)
    _table(["sd", "peeking at n = 2..10", "peeking at n = 3..10"], rows)
    print("Calibrated schedules (alpha_k = c (n_k / n_last)^2), false matched at the edge in")
    print("the small-spread limit (200,000 fixed-seed simulations):\n")
    rows = []
    for stages in ((3, 5, 10), (2, 4, 8), (3, 6), (3, 5, 10, 20), (5, 10, 20)):
        s = schedule_for(stages)
        rows.append(
            [
                str(stages),
                ", ".join(f"{a:g}" for a in s.alphas),
                f"{edge_error(stages, s.alphas):.4f}",
            ]
        )
    _table(["stages", "alphas", "edge error"], rows)


def _time(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def timing_table(seed: int, repeat: int) -> None:
    print("## 6. Time for one claim's verdict (median of repeated calls)\n")
    rng = _rng(seed, 10)
    v5 = list(rng.normal(0.97, 0.005, 5))
    v10 = list(rng.normal(0.97, 0.005, 10))
    v20 = list(rng.normal(0.97, 0.005, 20))
    binary = [(rng.random(10_000) < 0.97).astype(float).tolist() for _ in range(10)]
    bvals = [float(np.mean(e)) for e in binary]
    cont = [rng.exponential(1.0, 1000).tolist() for _ in range(10)]
    cvals = [float(np.mean(e)) for e in cont]
    spread = PaperSpread(value=0.005, kind="sd", seeds=5)
    sched = schedule_for()
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("student-t, 5 seeds", lambda: decide_absolute(v5, paper=0.97, tolerance=0.01), repeat),
        (
            "pooled student-t, 3 seeds",
            lambda: decide_absolute(v5[:3], paper=0.97, tolerance=0.01, paper_spread=spread),
            repeat,
        ),
        (
            "paired t, 5 pairs",
            lambda: decide_comparative(v5, v10[:5], paired=True, better="higher"),
            repeat,
        ),
        (
            "welch t, 5 + 5 seeds",
            lambda: decide_comparative(v5, v10[:5], paired=False, better="higher"),
            repeat,
        ),
        (
            "adaptive look (student-t), 5 seeds",
            lambda: decide_sequential(v5, schedule=sched, paper=0.97, tolerance=0.01),
            repeat,
        ),
        (
            "bootstrap-t (B=9999), 10 seeds",
            lambda: decide_absolute(v10, paper=0.97, tolerance=0.01, method="bootstrap-t"),
            max(5, repeat // 20),
        ),
        (
            "bca (B=9999), 20 seeds, mean",
            lambda: decide_absolute(v20, paper=0.97, tolerance=0.01, method="bca"),
            max(5, repeat // 20),
        ),
        (
            "bca (B=9999), 20 seeds, median",
            lambda: decide_absolute(v20, paper=0.97, tolerance=0.01, statistic="median"),
            max(5, repeat // 20),
        ),
        (
            "hierarchical (B=9999), 10 seeds x 10,000 0/1 examples",
            lambda: decide_absolute(bvals, paper=0.97, tolerance=0.01, examples=binary),
            max(3, repeat // 50),
        ),
        (
            "hierarchical (B=1999), 10 seeds x 1,000 continuous values",
            lambda: decide_absolute(cvals, paper=1.0, tolerance=0.1, examples=cont),
            max(3, repeat // 50),
        ),
    ]
    rows = [[label, f"{_time(fn, r):.2f}"] for label, fn, r in cases]
    _table(["method", "ms per claim"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reps", type=int, default=20_000, help="simulated reproductions per t/z/decision cell"
    )
    parser.add_argument(
        "--boot-reps", type=int, default=2_000, help="simulated reproductions per bootstrap cell"
    )
    parser.add_argument("--resamples", type=int, default=999, help="B for coverage simulations")
    parser.add_argument("--seed", type=int, default=20240229, help="master seed")
    parser.add_argument("--quick", action="store_true", help="a fast, rough run (for smoke)")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to print (default all: {','.join(SECTIONS)})",
    )
    args = parser.parse_args(argv)
    reps, boot_reps, resamples = args.reps, args.boot_reps, args.resamples
    hier_reps, repeat = 1000, 200
    if args.quick:
        reps, boot_reps, resamples, hier_reps, repeat = 2_000, 200, 199, 50, 20
    start = time.perf_counter()
    print("# pytest-repro statistics calibration\n")
    print(
        f"Command: python benchmarks/stats_calibration.py --reps {reps} --boot-reps "
        f"{boot_reps} --resamples {resamples} --seed {args.seed}"
        + (" --quick" if args.quick else "")
        + (f" --sections {args.sections}" if args.sections != ",".join(SECTIONS) else "")
        + "\n"
    )
    chosen = {name.strip() for name in args.sections.split(",") if name.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; use some of {','.join(SECTIONS)}")
    runs: dict[str, Callable[[], None]] = {
        "coverage": lambda: coverage_table(reps, boot_reps, resamples, args.seed),
        "pooling": lambda: pooling_table(reps, args.seed),
        "hierarchical": lambda: hierarchical_table(hier_reps, args.seed),
        "decision": lambda: decision_tables(reps, args.seed),
        "adaptive": lambda: adaptive_tables(reps, args.seed),
        "timing": lambda: timing_table(args.seed, repeat),
        "identical": identical_tables,
        "rules": lambda: rules_tables(min(reps, 2000), args.seed),
        "bounded": lambda: bounded_tables(reps, args.seed),
    }
    for name in SECTIONS:
        if name in chosen:
            runs[name]()
    print(f"Total time: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
