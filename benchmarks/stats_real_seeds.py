"""Sections 7-9 of the statistics calibration: identical seeds, rules that follow the
claim, bounded metrics. ``benchmarks/stats_calibration.py --sections identical,rules,bounded``
prints them; everything is deterministic or simulated with fixed seeds.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import t as sps_t

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.stats import decide_absolute, decide_comparative
from pytest_repro.stats.simulate import bounded_codes, rates


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join(["---"] * len(header)) + " |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


def identical_tables() -> None:
    print("## 7. Identical seeds: copies of one run count as one value\n")
    print(
        "Paper 0.90, tolerance 0.01, no resolution (floor = tolerance / 10). Old rule: "
        "mean ± t_(n-1) · floor / sqrt(n); new rule: value ± z_0.95 · floor at every n.\n"
    )
    values = (0.905, 0.9085, 0.909, 0.887, 0.8895)
    ns = (2, 3, 10, 30)
    rows = []
    for v in values:
        cells = [f"{v}"]
        for n in ns:
            half = float(sps_t.ppf(0.95, n - 1)) * 0.001 / math.sqrt(n)
            old = _band_outcome(v - half, v + half)
            new = decide_absolute([v] * n, paper=0.90, tolerance=0.01).outcome
            cells.append(f"{old} → {new}")
        rows.append(cells)
    _table(["value"] + [f"n={n}: old → new" for n in ns], rows)
    print("Seeds that differ by a tiny spread (3 seeds of 0.909 ± s): half-width used.\n")
    rows = []
    for tiny in (0.0, 1e-12, 1e-9, 1e-6, 1e-4, 5e-4, 1e-3, 2e-3):
        vals = [0.909 - tiny, 0.909, 0.909 + tiny]
        v = decide_absolute(vals, paper=0.90, tolerance=0.01)
        old_sd = float(np.std(vals, ddof=1)) if tiny > 1e-12 else 0.001
        old_half = float(sps_t.ppf(0.95, 2)) * old_sd / math.sqrt(3)
        rows.append(
            [f"{tiny:g}", f"{old_half:.2e}", f"{v.interval.width / 2:.2e}", v.outcome, v.method]
        )
    _table(["s", "old half-width", "new half-width", "new verdict", "method"], rows)


def _band_outcome(low: float, high: float) -> str:
    from pytest_repro.stats.rules import classify_absolute, outcome_of

    code = classify_absolute(
        low, high, paper=0.90, tolerance=0.01, better="higher", disagreement=3.0
    )
    return outcome_of(int(code))


def rules_tables(reps: int, seed: int) -> None:
    print("## 8. Rules that follow the claim\n")
    b = np.array([0.80, 0.81, 0.82, 0.805, 0.815])
    jitter = np.array([0.001, -0.001, 0.0, 0.0005, -0.0005])
    cases = [
        (
            "paired [.901,.899,.900] vs [.900,.900,.901], paper Δ 0.005 ± 0.01",
            lambda: decide_comparative(
                [0.901, 0.899, 0.900],
                [0.900, 0.900, 0.901],
                paired=True,
                better="higher",
                paper_delta=0.005,
                tolerance=0.01,
            ),
        ),
        (
            "A beats B by 0.05, margin 0.01 (5 × margin)",
            lambda: decide_comparative(
                b + 0.05 + jitter, b, paired=True, better="higher", margin=0.01
            ),
        ),
        (
            "A beats B by 0.10, paper Δ 0.02 ± 0.01",
            lambda: decide_comparative(
                b + 0.10 + jitter, b, paired=True, better="higher", paper_delta=0.02, tolerance=0.01
            ),
        ),
        (
            "paired [0.9000001]×2 vs [0.9]×2, no margin",
            lambda: decide_comparative([0.9000001] * 2, [0.9] * 2, paired=True, better="higher"),
        ),
        (
            "absolute 0.95 (5 tol above 0.90), better: higher",
            lambda: decide_absolute(list(0.95 + jitter), paper=0.90, tolerance=0.01),
        ),
    ]
    rows = []
    for label, fn in cases:
        v = fn()
        rows.append([label, v.outcome, f"[{v.interval.low:.4g}, {v.interval.high:.4g}]"])
    _table(["case", "verdict", "90% interval"], rows)
    rng = _rng(seed, 8)
    passing, failing = {"matched", "exceeded"}, {"gap", "disagreement"}
    counts = {"absolute": 0, "comparative": 0}
    for _ in range(reps):
        n = int(rng.integers(2, 7))
        x = rng.normal(0.0, float(rng.uniform(0.05, 1.0)), n)
        shift = float(rng.uniform(0.0, 3.0))
        better = "higher" if rng.random() < 0.5 else "lower"
        sign = 1.0 if better == "higher" else -1.0
        before = decide_absolute(list(x), paper=0.0, tolerance=0.5, better=better)  # type: ignore[arg-type]
        after = decide_absolute(list(x + sign * shift), paper=0.0, tolerance=0.5, better=better)  # type: ignore[arg-type]
        counts["absolute"] += before.outcome in passing and after.outcome in failing
        xb = rng.normal(0.0, 0.3, max(n, 3))
        xa = xb + rng.normal(0.3, 0.3, xb.size)
        extra: dict[str, float] = (
            {"paper_delta": 0.4, "tolerance": 0.3} if rng.random() < 0.5 else {"margin": 0.3}
        )
        before = decide_comparative(xa, xb, paired=True, better="higher", **extra)  # type: ignore[arg-type]
        after = decide_comparative(xa + shift, xb, paired=True, better="higher", **extra)  # type: ignore[arg-type]
        counts["comparative"] += before.outcome in passing and after.outcome in failing
    print(
        f"Moving every seed the better way ({reps:,} random cases per kind): a pass turned "
        f"into a fail {counts['absolute']} times (absolute) and {counts['comparative']} times "
        "(comparative).\n"
    )


def bounded_tables(reps: int, seed: int) -> None:
    print("## 9. Bounded metrics: paper 0.995 ± 0.005, seed sd 0.002, values clipped at 1\n")
    print(f"{reps:,} reproductions per cell.\n")
    rows = []
    for label, bounds in (("without bounds", None), ("bounds [0, 1]", (0.0, 1.0))):
        for k, true_mean in enumerate((0.995, 0.990)):
            cells = [label, "paper value 0.995" if k == 0 else "band edge 0.990"]
            for n in (2, 3, 5, 10):
                c = bounded_codes(
                    true_mean=true_mean,
                    sd=0.002,
                    n=n,
                    paper=0.995,
                    tolerance=0.005,
                    bounds=bounds,
                    reps=reps,
                    rng=_rng(seed, 9, k, n),
                )
                cells.append(f"{rates(c)['matched']:.3f}")
            rows.append(cells)
    _table(["decision", "true mean", "n=2", "n=3", "n=5", "n=10"], rows)
