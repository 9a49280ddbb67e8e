"""Verdicts for comparative claims: "does A beat B (by the claimed amount)?".

:func:`decide_comparative` estimates the improvement of A over B, with a paired t
interval on per-seed differences when both arms ran the same seeds and Welch's t
otherwise (bootstrap-t or BCa when asked), floors a spread the seeds cannot measure,
decides on a 90% interval and reports a 95% interval for display. See
``docs/statistics.md`` for the rules in plain words.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import special

from pytest_repro.errors import StatsError
from pytest_repro.stats import bootstrap as boot
from pytest_repro.stats.checks import (
    check_choice,
    check_disagreement,
    check_finite,
    check_positive,
    check_welch_arms,
    finite_values,
    outlier_notes,
    show,
    skew_notes,
)
from pytest_repro.stats.computed import (
    UNBOUNDED,
    Computed,
    default_rng,
    from_bootstrap,
    t_interval,
)
from pytest_repro.stats.intervals import check_level
from pytest_repro.stats.model import (
    BOOTSTRAP_RESAMPLES,
    MIN_SEEDS_BCA,
    MIN_SEEDS_BOOTSTRAP_T,
    Direction,
    Interval,
    Method,
    Verdict,
)
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    Floor,
    candidate_seeds,
    classify_comparative,
    first_decided,
    halfwidths_welch,
    identical_rows,
    outcome_of,
    welch_t,
)

FloatArray = NDArray[np.float64]


def decide_comparative(
    a: Sequence[float],
    b: Sequence[float],
    *,
    paired: bool,
    better: Direction,
    paper_delta: float | None = None,
    tolerance: float | None = None,
    margin: float = 0.0,
    method: Method = "auto",
    disagreement: float = 3.0,
    decide_level: float = 0.90,
    show_level: float = 0.95,
    rng: np.random.Generator | None = None,
    seeds: Sequence[int] | None = None,
    resolution: float | None = None,
) -> Verdict:
    """The verdict on "A beats B" (by ``margin``, or by ``paper_delta`` ± ``tolerance``).

    The estimate is the improvement of A over B: ``A - B`` when higher is better,
    ``B - A`` when lower is better. ``paired=True`` (both arms ran the same seeds, in
    the same order) uses a paired t interval on per-seed differences; otherwise
    Welch's t. ``resolution`` floors the spread of a difference that does not vary.

    >>> v = decide_comparative([0.95, 0.96, 0.94], [0.90, 0.92, 0.91], paired=True,
    ...                        better="higher")
    >>> v.outcome, v.method
    ('matched', 'paired t')
    """
    if better not in ("higher", "lower"):
        raise StatsError(
            f"better={better!r}: a comparative claim needs a direction, 'higher' or 'lower'"
        )
    check_choice(method, "method")
    if paired and len(a) != len(b):
        raise StatsError(
            f"paired comparison needs the same seeds in both arms; got {len(a)} values "
            f"for A and {len(b)} for B — run the missing seeds or use paired=False"
        )
    if paired:
        xa = finite_values(a, what="values of A", seeds=seeds)
        xb = finite_values(b, what="values of B", seeds=seeds)
    else:
        xa = finite_values(a, what="values of A", seeds=_seeds_for(seeds, len(a)))
        xb = finite_values(b, what="values of B", seeds=_seeds_for(seeds, len(b)))
        check_welch_arms(xa.size, xb.size)
    check_finite(margin, "margin")
    if margin < 0:
        raise StatsError(
            f"margin={show(margin)} must be >= 0: it is how much A must beat B by (0: at all)"
        )
    check_positive(tolerance, "tolerance")
    if paper_delta is not None:
        check_finite(paper_delta, "paper_delta")
        if tolerance is None:
            raise StatsError(
                "paper_delta needs a tolerance: say how far from the paper's improvement still "
                "counts as the same result"
            )
    check_disagreement(disagreement)
    check_level(decide_level, "decide_level")
    check_level(show_level, "show_level")
    check_positive(resolution, "resolution")
    levels = (float(decide_level), float(show_level))
    sign = 1.0 if better == "higher" else -1.0
    notes: list[str] = []
    if paired:
        d = sign * (xa - xb)
        n = d.size
        chosen = _choose_comparative(method, n, paired=True)
        estimate = float(d.mean())
        floor = _comparative_floor(resolution, tolerance, margin, estimate)
        copies = bool(identical_rows(xa)[0] and identical_rows(xb)[0])
        computed = _paired(d, chosen, levels, floor, default_rng(rng), copies)
        notes.extend(outlier_notes(d, seeds, "difference A-B" if sign > 0 else "difference B-A"))
        notes.extend(skew_notes(d, "differences"))
    else:
        n = min(xa.size, xb.size)
        chosen = _choose_comparative(method, n, paired=False)
        estimate = sign * float(xa.mean() - xb.mean())
        floor = _comparative_floor(resolution, tolerance, margin, estimate)
        computed = _unpaired(sign * xa, sign * xb, chosen, levels, floor, default_rng(rng))
        notes.extend(outlier_notes(xa, _seeds_for(seeds, xa.size), "arm A"))
        notes.extend(outlier_notes(xb, _seeds_for(seeds, xb.size), "arm B"))
        notes.extend(skew_notes(xa, "arm A"))
        notes.extend(skew_notes(xb, "arm B"))
    code = int(
        classify_comparative(
            computed.decide[0],
            computed.decide[1],
            margin=margin,
            paper_delta=paper_delta,
            tolerance=tolerance,
            disagreement=disagreement,
        )
    )
    needed: int | None = None
    if computed.needed_ns is not None and computed.needed_hw is not None:
        codes = classify_comparative(
            computed.estimate - computed.needed_hw,
            computed.estimate + computed.needed_hw,
            margin=margin,
            paper_delta=paper_delta,
            tolerance=tolerance,
            disagreement=disagreement,
        )
        needed = first_decided(codes, computed.needed_ns)
    reference = paper_delta if paper_delta is not None else margin
    deviation = abs(computed.estimate - reference) / tolerance if tolerance is not None else None
    if n < 2:
        notes.append(
            "one seed per arm: no interval on the improvement; run 2 or more seeds in each arm"
        )
    notes.append(improvement_note(sign * xa, sign * xb, paired=paired, better=better))
    return Verdict(
        outcome=outcome_of(code),
        estimate=computed.estimate,
        interval=Interval(low=computed.decide[0], high=computed.decide[1], level=levels[0]),
        shown=Interval(low=computed.show[0], high=computed.show[1], level=levels[1]),
        delta=computed.estimate - reference,
        n=n,
        method=computed.method,
        seeds_needed=needed,
        deviation_in_tol=deviation,
        notes=tuple(notes) + computed.notes,
        warnings=(),
    )


def wilson(wins: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval on a share ``wins / n``.

    >>> [round(x, 3) for x in wilson(4, 5)]
    [0.376, 0.964]
    """
    if n <= 0:
        return (0.0, 1.0)
    z = float(special.ndtri((1.0 + level) / 2.0))
    share = wins / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def improvement_note(a: FloatArray, b: FloatArray, *, paired: bool, better: str) -> str:
    """The probability of improvement: the share of comparisons in which A beats B in the
    claimed direction (ties count half), with Wilson's 95% interval. Paired: one
    comparison per seed; unpaired: every seed of A against every seed of B, the interval
    counting the smaller arm as the number of independent comparisons.

    ``a`` and ``b`` are turned so that higher is better.
    """
    way = "lower" if better == "lower" else "higher"
    if paired:
        d = a - b
        wins = float(np.sum(d > 0) + 0.5 * np.sum(d == 0))
        total, n_eff, what = d.size, d.size, "seeds"
    else:
        d = a[:, np.newaxis] - b[np.newaxis, :]
        wins = float(np.sum(d > 0) + 0.5 * np.sum(d == 0))
        total, n_eff, what = d.size, min(a.size, b.size), "arm comparisons"
    share = wins / total if total else 0.5
    low, high = wilson(share * n_eff, n_eff)
    counted = f"{wins:g} of {total} {what}"
    basis = "" if paired else f", counting {n_eff} independent comparisons"
    return (
        f"probability of improvement: A is {way} than B in {counted}, {share:.2f} "
        f"(95% interval [{low:.2f}, {high:.2f}]{basis})"
    )


def _seeds_for(seeds: Sequence[int] | None, n: int) -> Sequence[int] | None:
    """The seeds, when they can name an arm's values (one per value)."""
    return seeds if seeds is not None and len(seeds) == n else None


def _paired(
    d: FloatArray,
    chosen: str,
    levels: tuple[float, float],
    floor: Floor,
    rng: np.random.Generator,
    copies: bool,
) -> Computed:
    n = d.size
    sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
    if copies:
        # Both arms are copies of one run each: one effective difference.
        c = t_interval(
            d, levels, spread=None, spread_sd=None, floor=floor, single=True, what="pairs"
        )
        return dataclasses.replace(c, method=f"paired {c.method}")
    if chosen == "t" or bool(floor.binds(np.array([sd]))[0]) or sd <= 0:
        c = t_interval(d, levels, spread=None, spread_sd=None, floor=floor, single=False)
        label = "paired t" if chosen == "t" else "paired t (spread floor)"
        return dataclasses.replace(c, method=label)
    b = BOOTSTRAP_RESAMPLES
    if chosen == "bootstrap-t":
        est, low, high = boot.bootstrap_t(d, levels, rng=rng, resamples=b)
        return from_bootstrap(est, low, high, f"paired bootstrap-t (B={b})", n, levels[0])
    est, low, high = boot.bca(d, levels, rng=rng, resamples=b)
    return from_bootstrap(est, low, high, f"paired bca (B={b})", n, levels[0])


def _unpaired(
    a: FloatArray,
    b: FloatArray,
    chosen: str,
    levels: tuple[float, float],
    floor: Floor,
    rng: np.random.Generator,
) -> Computed:
    n = min(a.size, b.size)
    if n >= 2 and bool(identical_rows(a)[0] and identical_rows(b)[0]):
        diff = np.array([float(a.mean() - b.mean())])
        c = t_interval(
            diff, levels, spread=None, spread_sd=None, floor=floor, single=True, what="seeds"
        )
        note = (
            f"identical seeds: arm A's {a.size} seeds all gave {a[0]:.6g} and arm B's {b.size} "
            f"all gave {b[0]:.6g}: the seed may not reach the random generators, or the runs "
            "are deterministic; each arm counts as one value (n_eff = 1)"
        )
        return dataclasses.replace(c, method=f"welch {c.method}", notes=(note, *c.notes[1:]))
    if n < 2:
        return Computed(
            estimate=float(a.mean() - b.mean()),
            decide=UNBOUNDED,
            show=UNBOUNDED,
            method="welch t",
            needed_ns=None,
            needed_hw=None,
        )
    tb = welch_t(a[np.newaxis, :], b[np.newaxis, :], levels, floor=floor)
    notes: tuple[str, ...] = ()
    if bool(tb.floored[0]):
        notes = (
            "spread floor: an arm's seeds all gave the same value; "
            f"its sd is taken as {floor.describe()}",
        )
    sd_a = max(float(np.std(a, ddof=1)), floor.value if floor.known_step else 0.0)
    sd_b = max(float(np.std(b, ddof=1)), floor.value if floor.known_step else 0.0)
    if sd_a <= 0 and sd_b <= 0:
        sd_a = sd_b = floor.value
    ns = candidate_seeds(2)
    hw = halfwidths_welch(sd_a, sd_b, ns, levels[0])
    if chosen == "t" or bool(tb.floored[0]):
        return Computed(
            estimate=float(tb.estimate[0]),
            decide=(float(tb.low[0, 0]), float(tb.high[0, 0])),
            show=(float(tb.low[1, 0]), float(tb.high[1, 0])),
            method="welch t" if chosen == "t" else "welch t (spread floor)",
            needed_ns=ns,
            needed_hw=hw,
            notes=notes,
        )
    resamples = BOOTSTRAP_RESAMPLES
    if chosen == "bootstrap-t":
        est, low, high = boot.two_sample_bootstrap_t(a, b, levels, rng=rng, resamples=resamples)
        label = f"welch bootstrap-t (B={resamples})"
    else:
        est, low, high = boot.two_sample_bca(a, b, levels, rng=rng, resamples=resamples)
        label = f"two-sample bca (B={resamples})"
    return Computed(
        estimate=float(est[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=label,
        needed_ns=ns,
        needed_hw=hw,
    )


def _comparative_floor(
    resolution: float | None,
    tolerance: float | None,
    margin: float,
    estimate: float,
) -> Floor:
    if resolution is not None:
        return Floor(value=float(resolution), source="resolution")
    if tolerance is not None:
        return Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")
    if margin > 0:
        return Floor(value=FALLBACK_FLOOR_FRACTION * margin, source="margin")
    scale = abs(estimate) if estimate != 0 else 1e-12
    return Floor(value=FALLBACK_FLOOR_FRACTION * scale, source="estimate")


def _choose_comparative(method: Method, n: int, paired: bool) -> str:
    if method in ("auto", "t"):
        return "t"
    if method in ("hierarchical", "anytime"):
        raise StatsError(
            f"interval {method!r} is not available for comparative claims; use interval: t"
        )
    need = MIN_SEEDS_BOOTSTRAP_T if method == "bootstrap-t" else MIN_SEEDS_BCA
    what = "pairs" if paired else "seeds in each arm"
    if n < need:
        raise StatsError(
            f"interval {method!r} needs {need} or more {what}, got {n}; use interval: t "
            f"(the default: {'paired' if paired else 'Welch'} t)"
        )
    return str(method)
