"""Verdicts for absolute claims: "is the seeds' statistic the paper's value, within the
tolerance?".

:func:`decide_absolute` chooses the interval (Student-t on the mean by default, pooled
with the paper's spread at few seeds; bootstrap-t, BCa or the hierarchical bootstrap when
asked), floors a spread the seeds cannot measure (from the metric's resolution, 0/1
per-example outcomes or the tolerance), decides on a 90% interval (5% per side, as an
equivalence test does) and reports a 95% interval for display. See
``docs/statistics.md`` for the rules in plain words.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats import bootstrap as boot
from pytest_repro.stats import skew_guard
from pytest_repro.stats.bounded import check_bounds, clip_to_bounds
from pytest_repro.stats.checks import (
    check_choice,
    check_disagreement,
    check_finite,
    check_positive,
    finite_values,
    is_constant,
    outlier_notes,
    seed_label,
    show,
    skew_notes,
)
from pytest_repro.stats.computed import (
    Computed,
    default_rng,
    from_bootstrap,
    identical_note,
    t_interval,
)
from pytest_repro.stats.intervals import check_level, check_paper_spread, paper_sd
from pytest_repro.stats.model import (
    BOOTSTRAP_RESAMPLES,
    MIN_SEEDS_BCA,
    MIN_SEEDS_BOOTSTRAP_T,
    MIN_SEEDS_HIERARCHICAL,
    Better,
    Interval,
    Method,
    PaperSpread,
    Statistic,
    Verdict,
)
from pytest_repro.stats.robust import ABOUT, About, failure_notes, find_failed, needs_fallback
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    Floor,
    classify_absolute,
    first_decided,
    identical_rows,
    outcome_of,
)
from pytest_repro.stats.skewed import skew_calibrated
from pytest_repro.stats.special import (
    anytime_interval,
    deterministic_interval,
    two_sample_interval,
    widen_worse_side,
)

FloatArray = NDArray[np.float64]


def decide_absolute(
    values: Sequence[float],
    *,
    paper: float,
    tolerance: float,
    better: Better = "higher",
    paper_spread: PaperSpread | None = None,
    method: Method = "auto",
    statistic: Statistic = "mean",
    resolution: float | None = None,
    examples: Sequence[Sequence[float]] | None = None,
    disagreement: float = 3.0,
    decide_level: float = 0.90,
    show_level: float = 0.95,
    rng: np.random.Generator | None = None,
    seeds: Sequence[int] | None = None,
    bounds: tuple[float, float] | None = None,
    failed_below: float | None = None,
    about: About = "mean",
    deterministic: bool = False,
    test_examples: int | None = None,
    paper_sample: bool = True,
    skewed_seeds: bool = False,
) -> Verdict:
    """The verdict on "the metric is ``paper`` ± ``tolerance``" from per-seed ``values``.

    The interval is Student-t on the seed mean by default (pooled with the paper's
    spread at 4 seeds or fewer when ``paper_spread`` is given), decided at
    ``decide_level`` and shown at ``show_level``. ``rng`` drives bootstrap methods
    (``None``: a fixed default seed, so results repeat). ``seeds`` names the seeds in
    messages and notes. ``bounds`` is the metric's range (``(0, 1)`` for a fraction):
    both intervals are clipped to it, so where the band reaches a bound only the other
    side is tested (one-sided). Identical seed values count as one effective value (see
    :func:`~.rules.absolute_t`).

    Failed seeds (``failed_below``, or far on the worse side of the others, see
    :func:`~.robust.find_failed`) are named in the notes with the success rate; with
    ``about="successful"`` they are set aside. With the paper's spread the paper's value
    is a second sample (:mod:`.twosample`; ``paper_sample=False``: the older pooling).
    ``deterministic`` decides one value with the test set's binomial sd over
    ``test_examples`` examples (or the spread floor). ``interval: auto`` widens the worse
    side when a failed seed is counted or the seeds are skewed towards it.
    ``skewed_seeds`` says the recipe's seeds skew towards the worse side: the worse end
    then uses critical values calibrated on that shape (:mod:`.skewed`).

    >>> v = decide_absolute([0.981, 0.984, 0.979], paper=0.982, tolerance=0.01)
    >>> v.outcome, v.method, v.n
    ('matched', 'student-t (skew guard)', 3)
    """
    x = finite_values(values, seeds=seeds)
    check_finite(paper, "paper")
    check_positive(tolerance, "tolerance")
    check_choice(better, "better")
    check_choice(method, "method")
    check_choice(statistic, "statistic")
    check_disagreement(disagreement)
    check_level(decide_level, "decide_level")
    check_level(show_level, "show_level")
    check_positive(resolution, "resolution")
    if paper_spread is not None:
        check_paper_spread(paper_spread)
    ex = _check_examples(examples, x.size, seeds)
    lo_bound, hi_bound = check_bounds(bounds, paper)
    if about not in ABOUT:
        raise StatsError(f"unknown about {about!r}; use one of: {', '.join(ABOUT)}")
    if failed_below is not None:
        check_finite(failed_below, "failed_below")
    if test_examples is not None and (isinstance(test_examples, bool) or test_examples < 1):
        raise StatsError(f"test_examples={test_examples!r} must be a whole number >= 1")
    failures = find_failed(x, tolerance=tolerance, better=better, failed_below=failed_below)
    failure_text = failure_notes(x, failures, seeds, about)
    if about == "successful" and failures.failed:
        keep = failures.mask(x.size)
        if not keep.any():
            raise StatsError(
                f"every seed failed (below failed_below: {failed_below}); there is no successful "
                "run to estimate from — fix the runs, or check failed_below"
            )
        seeds = [s for s, k in zip(seeds, keep, strict=True) if k] if seeds is not None else None
        ex = [e for e, k in zip(ex, keep, strict=True) if k] if ex is not None else None
        x = x[keep]
    n = x.size
    one = bool(identical_rows(x)[0])
    chosen, notes = _choose_absolute(method, statistic, n, ex is not None)
    levels = (float(decide_level), float(show_level))
    floor = _absolute_floor(resolution, ex, tolerance)
    warnings: list[str] = []
    spread_sd: float | None = None
    if paper_spread is not None:
        spread_sd = paper_sd(paper_spread)
        paper_se = spread_sd / math.sqrt(paper_spread.seeds)
        if paper_se > tolerance / 2:
            warnings.append(
                f"the paper's own standard error ({paper_se:.4g} over {paper_spread.seeds} runs) "
                f"exceeds half the tolerance ({tolerance / 2:.4g}): the paper's number is itself "
                "too uncertain for this tolerance — consider a wider tolerance"
            )
        if chosen != "t":
            notes.append(f"the paper's spread is not used by the {chosen} interval")

    if deterministic:
        computed = deterministic_interval(x, levels, test_examples=test_examples, floor=floor)
    elif chosen == "anytime":
        computed = anytime_interval(x, levels, tolerance=tolerance)
    elif (chosen == "t" or one) and paper_sample and spread_sd is not None:
        assert paper_spread is not None
        m = paper_spread.seeds
        computed = two_sample_interval(
            x[:1] if one else x, levels, paper_sd=spread_sd, m=m, floor=floor
        )
        if one:
            computed = dataclasses.replace(computed, notes=(identical_note(x), *computed.notes))
    elif chosen == "t" or one:
        computed = t_interval(x, levels, spread=paper_spread, spread_sd=spread_sd, floor=floor)
    else:
        unmeasurable = is_constant(x) or bool(floor.binds(np.array([np.std(x, ddof=1)]))[0])
        booted = (
            None if unmeasurable else _bootstrap_absolute(x, ex, chosen, statistic, levels, rng)
        )
        if booted is not None and booted.decide[1] > booted.decide[0]:
            computed = booted
        else:
            why = f"; a {chosen} interval cannot resample a spread the seeds do not show"
            computed = t_interval(x, levels, spread=None, spread_sd=None, floor=floor, why=why)
            computed = dataclasses.replace(computed, method="student-t (spread floor)")
    if ex is not None:
        warnings.extend(_examples_mismatch(x, ex, seeds))
    why_robust = needs_fallback(x, better, failures, about)
    if skewed_seeds and computed.method.startswith("student-t") and not one and n > 1:
        computed = skew_calibrated(computed, n, levels, better)
    elif chosen == "t" and method == "auto" and why_robust and not deterministic and n > 1:
        computed = widen_worse_side(computed, x, better, why_robust)
    sd = float(np.std(x, ddof=1)) if n > 1 else 0.0
    guarded = (
        n > 1
        and not one
        and skew_guard.applies(
            method, statistic=statistic, skewed_seeds=skewed_seeds, deterministic=deterministic
        )
    )
    if guarded:
        computed = skew_guard.guard(computed, sd, n, tolerance, better, levels)

    computed, clip_notes = clip_to_bounds(computed, lo_bound, hi_bound)
    notes.extend(clip_notes)
    code = int(
        classify_absolute(
            computed.decide[0],
            computed.decide[1],
            paper=paper,
            tolerance=tolerance,
            better=better,
            disagreement=disagreement,
        )
    )
    needed = _seeds_needed_absolute(
        computed,
        paper=paper,
        tolerance=tolerance,
        better=better,
        disagreement=disagreement,
        bounds=(lo_bound, hi_bound),
        guarded=guarded,
        level=levels[0],
        n=n,
        sd=sd,
    )
    if needed is not None:
        # An interval widened on one side is extrapolated as if widened on both, which can
        # disagree with the decision at n itself: the decision at n is what happened.
        decided = outcome_of(code) != "inconclusive"
        if decided and needed > n:
            needed = n
        elif not decided and needed <= n:
            needed = None if n >= int(computed.needed_ns[-1]) else n + 1  # type: ignore[index]
    deviation = abs(computed.estimate - paper) / tolerance
    if n == 1 and paper_spread is None:
        notes.append(
            f"one seed: no interval without the paper's spread; the value lies "
            f"{deviation:.2f} tolerances from the paper — run 2 or more seeds, or give the "
            "paper's ± (sd, se or ci95 and its number of runs)"
        )
    notes.extend(failure_text)
    notes.extend(computed.notes)
    notes.extend(outlier_notes(x, seeds))
    notes.extend(skew_notes(x))
    return Verdict(
        outcome=outcome_of(code),
        estimate=computed.estimate,
        interval=Interval(low=computed.decide[0], high=computed.decide[1], level=levels[0]),
        shown=Interval(low=computed.show[0], high=computed.show[1], level=levels[1]),
        delta=computed.estimate - paper,
        n=n,
        method=computed.method,
        seeds_needed=needed,
        deviation_in_tol=deviation,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def _check_examples(
    examples: Sequence[Sequence[float]] | None, n: int, seeds: Sequence[int] | None
) -> list[FloatArray] | None:
    if examples is None:
        return None
    if len(examples) != n:
        raise StatsError(
            f"examples has {len(examples)} entries for {n} seeds; give one list of per-example "
            "outcomes per seed, in the same order as the values"
        )
    out = []
    for i, e in enumerate(examples):
        where = f"per-example outcomes of {seed_label(i, seeds)}"
        try:
            arr = np.asarray(e, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise StatsError(f"{where} must be numbers: {exc}") from exc
        if arr.ndim != 1 or arr.size == 0:
            raise StatsError(f"{where} must be a non-empty flat list of numbers")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            j = int(bad[0])
            raise StatsError(
                f"{where}: example {j} is {show(arr[j])}; every outcome must be a finite number"
            )
        out.append(arr)
    return out


def _examples_floor(examples: list[FloatArray]) -> Floor | None:
    """``1/N`` when the per-example outcomes are 0/1 (an accuracy moves in steps of 1/N)."""
    if all(np.isin(e, (0.0, 1.0)).all() for e in examples):
        return Floor(value=1.0 / max(e.size for e in examples), source="examples")
    return None


def _absolute_floor(
    resolution: float | None, examples: list[FloatArray] | None, tolerance: float
) -> Floor:
    if resolution is not None:
        return Floor(value=float(resolution), source="resolution")
    if examples is not None:
        found = _examples_floor(examples)
        if found is not None:
            return found
    return Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")


def _choose_absolute(
    method: Method, statistic: Statistic, n: int, has_examples: bool
) -> tuple[str, list[str]]:
    """The interval method for an absolute claim: ``t``, ``bootstrap-t``, ``bca`` or
    ``hierarchical``, with any note about the choice."""
    if statistic != "mean":
        if method not in ("auto", "bca"):
            raise StatsError(
                f"interval {method!r} works on the mean, but statistic is {statistic!r}; "
                f"use interval: bca (with {MIN_SEEDS_BCA} or more seeds) or statistic: mean"
            )
        if n < MIN_SEEDS_BCA:
            raise StatsError(
                f"statistic {statistic!r} needs {MIN_SEEDS_BCA} or more seeds (its BCa interval "
                f"covers far below its level with fewer); got {n} — use statistic: mean, which "
                "gets a Student-t interval at any seed count"
            )
        return "bca", []
    if method == "auto":
        # Student-t over per-seed values is the default even when per-example outcomes are
        # logged: the hierarchical bootstrap is offered (interval: hierarchical), not imposed,
        # so one spec gives the same kind of interval whatever its runs happen to log.
        return "t", []
    if method in ("t", "anytime"):
        return method, []
    if method == "bootstrap-t":
        if n < MIN_SEEDS_BOOTSTRAP_T:
            raise StatsError(
                f"interval 'bootstrap-t' needs {MIN_SEEDS_BOOTSTRAP_T} or more seeds, got {n}; "
                "use interval: t (the default), which is exact for normal seed values at any n"
            )
        return "bootstrap-t", []
    if method == "bca":
        if n < MIN_SEEDS_BCA:
            raise StatsError(
                f"interval 'bca' needs {MIN_SEEDS_BCA} or more seeds, got {n} (below that it "
                "covers far below its level); use interval: t (the default)"
            )
        return "bca", []
    if not has_examples:
        raise StatsError(
            "interval 'hierarchical' needs per-example outcomes (examples); log them with "
            "ctx.log_examples, or use interval: t"
        )
    if n < MIN_SEEDS_HIERARCHICAL:
        raise StatsError(
            f"interval 'hierarchical' needs {MIN_SEEDS_HIERARCHICAL} or more seeds, got {n} "
            "(with fewer it covers below its level); use interval: t"
        )
    return "hierarchical", []


def _bootstrap_absolute(
    x: FloatArray,
    ex: list[FloatArray] | None,
    chosen: str,
    statistic: Statistic,
    levels: tuple[float, float],
    rng: np.random.Generator | None,
) -> Computed:
    rng = default_rng(rng)
    n = x.size
    if chosen == "hierarchical":
        assert ex is not None
        b = boot.hierarchical_resamples(ex)
        est, low, high = boot.hierarchical(ex, levels, rng=rng, resamples=b)
        return from_bootstrap(est, low, high, f"hierarchical bootstrap (B={b})", n, levels[0])
    b = BOOTSTRAP_RESAMPLES
    if chosen == "bootstrap-t":
        est, low, high = boot.bootstrap_t(x, levels, rng=rng, resamples=b)
        return from_bootstrap(est, low, high, f"bootstrap-t (B={b})", n, levels[0])
    est, low, high = boot.bca(x, levels, rng=rng, resamples=b, statistic=statistic)
    label = f"bca (B={b})" if statistic == "mean" else f"bca (B={b}, {statistic})"
    return from_bootstrap(est, low, high, label, n, levels[0])


def _examples_mismatch(
    x: FloatArray, ex: list[FloatArray], seeds: Sequence[int] | None
) -> list[str]:
    means = np.array([e.mean() for e in ex])
    scale = max(float(np.max(np.abs(x))), 1e-12)
    off = np.flatnonzero(np.abs(means - x) > 1e-6 * max(scale, 1.0))
    if not off.size:
        return []
    i = int(off[0])
    return [
        f"per-example outcomes do not average to the logged values ({seed_label(i, seeds)}: "
        f"{means[i]:.6g} vs {x[i]:.6g}); check that both come from the same evaluation"
    ]


def _seeds_needed_absolute(
    c: Computed,
    *,
    paper: float,
    tolerance: float,
    better: Better,
    disagreement: float,
    bounds: tuple[float, float],
    guarded: bool = False,
    level: float = 0.90,
    n: int = 2,
    sd: float = 0.0,
) -> int | None:
    if c.needed_ns is None or c.needed_hw is None:
        return None
    low_hw = high_hw = c.needed_hw
    if guarded:
        wide = skew_guard.needed_halfwidths(c.needed_ns, c.needed_hw, sd, tolerance, level, n)
        low_hw, high_hw = skew_guard.by_side(c.needed_hw, wide, better)
    codes = classify_absolute(
        np.maximum(c.estimate - low_hw, bounds[0]),
        np.minimum(c.estimate + high_hw, bounds[1]),
        paper=paper,
        tolerance=tolerance,
        better=better,
        disagreement=disagreement,
    )
    return first_decided(codes, c.needed_ns)
