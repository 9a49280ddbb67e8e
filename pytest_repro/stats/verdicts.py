"""Verdicts for absolute and comparative claims.

:func:`decide_absolute` answers "is the seeds' statistic the paper's value, within the
tolerance?"; :func:`decide_comparative` answers "does A beat B (by the claimed amount)?".
Both decide on a 90% interval (5% per side, as an equivalence test does) and report a
95% interval for display. See ``docs/statistics.md`` for the rules in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats import bootstrap as boot
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
from pytest_repro.stats.intervals import check_level, check_paper_spread, paper_sd, t_quantile
from pytest_repro.stats.model import (
    BOOTSTRAP_RESAMPLES,
    DEFAULT_SEED,
    MIN_SEEDS_BCA,
    MIN_SEEDS_BOOTSTRAP_T,
    MIN_SEEDS_HIERARCHICAL,
    Better,
    Direction,
    Interval,
    Method,
    PaperSpread,
    Statistic,
    Verdict,
)
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    Floor,
    absolute_t,
    candidate_seeds,
    classify_absolute,
    classify_comparative,
    first_decided,
    halfwidths_t,
    halfwidths_welch,
    outcome_of,
    welch_t,
)

FloatArray = NDArray[np.float64]
_UNBOUNDED = (-math.inf, math.inf)


def default_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng``, or a generator seeded with :data:`~.model.DEFAULT_SEED`."""
    return np.random.default_rng(DEFAULT_SEED) if rng is None else rng


@dataclass(frozen=True, slots=True, kw_only=True)
class _Computed:
    """An interval computation for one claim, before the outcome is decided."""

    estimate: float
    decide: tuple[float, float]
    show: tuple[float, float]
    method: str
    # Half-widths (at the decision level) at each candidate seed count, for seeds_needed.
    needed_ns: NDArray[np.int64] | None
    needed_hw: FloatArray | None
    notes: tuple[str, ...] = ()


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
    if method == "t":
        return "t", []
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


def _from_bootstrap(
    est: FloatArray,
    low: FloatArray,
    high: FloatArray,
    method: str,
    n: int,
    decide_level: float,
) -> _Computed:
    """Package a bootstrap result; seeds_needed extrapolates its width like a t interval."""
    half = (float(high[0, 0]) - float(low[0, 0])) / 2.0
    sd_eff = half / float(t_quantile(decide_level, n - 1)) * math.sqrt(n)
    ns = candidate_seeds(2)
    hw = halfwidths_t(sd_eff, ns, decide_level)
    return _Computed(
        estimate=float(est[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
    )


def _t_absolute(
    x: FloatArray,
    levels: tuple[float, float],
    *,
    spread: PaperSpread | None,
    spread_sd: float | None,
    floor: Floor,
    why: str = "",
) -> _Computed:
    n = x.size
    m = spread.seeds if spread is not None else None
    tb = absolute_t(x[np.newaxis, :], levels, spread_sd=spread_sd, spread_m=m, floor=floor)
    notes: list[str] = []
    if tb.pooled and spread_sd is not None and m is not None:
        own = float(tb.own_sd[0])
        method = f"pooled student-t (paper sd, m={m}, df={int(tb.df[0])})"
        if n == 1:
            notes.append(
                f"pooling: one seed carries no spread; the interval uses the paper's sd "
                f"{spread_sd:.4g} over its {m} runs (df={m - 1})"
            )
        elif own > spread_sd:  # then own > pooled too, and the guard keeps own
            notes.append(
                f"pooling: {n} seeds borrow the paper's spread (sd {spread_sd:.4g}, m={m}); the "
                f"seeds' own sd {own:.4g} is larger and is used, with df={n + m - 2}"
            )
        else:
            notes.append(
                f"pooling: {n} seeds borrow the paper's spread (sd {spread_sd:.4g}, m={m}): "
                f"pooled sd {float(tb.sd[0]):.4g}, df={n + m - 2}"
            )
    else:
        method = "student-t"
    if bool(tb.floored[0]):
        what = (
            f"all {n} seeds gave {x[0]:.6g}"
            if is_constant(x)
            else f"the spread ({'pooled ' if tb.pooled else ''}sd) is below the floor"
        )
        notes.append(f"spread floor: {what}; the sd used is {floor.describe()}{why}")
    ns: NDArray[np.int64] | None = None
    hw: FloatArray | None = None
    if n > 1 or spread_sd is not None:
        own_sd = float(spread_sd or 0.0) if n == 1 else float(tb.own_sd[0])
        ns = candidate_seeds(1 if spread_sd is not None else 2)
        hw = halfwidths_t(own_sd, ns, levels[0], spread_sd=spread_sd, spread_m=m, floor=floor)
    return _Computed(
        estimate=float(tb.estimate[0]),
        decide=(float(tb.low[0, 0]), float(tb.high[0, 0])),
        show=(float(tb.low[1, 0]), float(tb.high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
        notes=tuple(notes),
    )


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
) -> Verdict:
    """The verdict on "the metric is ``paper`` ± ``tolerance``" from per-seed ``values``.

    The interval is Student-t on the seed mean by default (pooled with the paper's
    spread at 4 seeds or fewer when ``paper_spread`` is given), decided at
    ``decide_level`` and shown at ``show_level``. ``rng`` drives bootstrap methods
    (``None``: a fixed default seed, so results repeat). ``seeds`` names the seeds in
    messages and notes.

    >>> v = decide_absolute([0.981, 0.984, 0.979], paper=0.982, tolerance=0.01)
    >>> v.outcome, v.method, v.n
    ('matched', 'student-t', 3)
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
    n = x.size
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

    if chosen == "t":
        computed = _t_absolute(x, levels, spread=paper_spread, spread_sd=spread_sd, floor=floor)
    else:
        unmeasurable = is_constant(x) or bool(floor.binds(np.array([np.std(x, ddof=1)]))[0])
        booted = (
            None if unmeasurable else _bootstrap_absolute(x, ex, chosen, statistic, levels, rng)
        )
        if booted is not None and booted.decide[1] > booted.decide[0]:
            computed = booted
        else:
            why = f"; a {chosen} interval cannot resample a spread the seeds do not show"
            computed = _t_absolute(x, levels, spread=None, spread_sd=None, floor=floor, why=why)
            computed = _replace_method(computed, "student-t (spread floor)")
    if ex is not None:
        warnings.extend(_examples_mismatch(x, ex, seeds))

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
        computed, paper=paper, tolerance=tolerance, better=better, disagreement=disagreement
    )
    deviation = abs(computed.estimate - paper) / tolerance
    if n == 1 and paper_spread is None:
        notes.append(
            f"one seed: no interval without the paper's spread; the value lies "
            f"{deviation:.2f} tolerances from the paper — run 2 or more seeds, or give the "
            "paper's ± (sd, se or ci95 and its number of runs)"
        )
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


def _replace_method(c: _Computed, method: str) -> _Computed:
    return _Computed(
        estimate=c.estimate,
        decide=c.decide,
        show=c.show,
        method=method,
        needed_ns=c.needed_ns,
        needed_hw=c.needed_hw,
        notes=c.notes,
    )


def _bootstrap_absolute(
    x: FloatArray,
    ex: list[FloatArray] | None,
    chosen: str,
    statistic: Statistic,
    levels: tuple[float, float],
    rng: np.random.Generator | None,
) -> _Computed:
    rng = default_rng(rng)
    n = x.size
    if chosen == "hierarchical":
        assert ex is not None
        b = boot.hierarchical_resamples(ex)
        est, low, high = boot.hierarchical(ex, levels, rng=rng, resamples=b)
        return _from_bootstrap(est, low, high, f"hierarchical bootstrap (B={b})", n, levels[0])
    b = BOOTSTRAP_RESAMPLES
    if chosen == "bootstrap-t":
        est, low, high = boot.bootstrap_t(x, levels, rng=rng, resamples=b)
        return _from_bootstrap(est, low, high, f"bootstrap-t (B={b})", n, levels[0])
    est, low, high = boot.bca(x, levels, rng=rng, resamples=b, statistic=statistic)
    label = f"bca (B={b})" if statistic == "mean" else f"bca (B={b}, {statistic})"
    return _from_bootstrap(est, low, high, label, n, levels[0])


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
    c: _Computed, *, paper: float, tolerance: float, better: Better, disagreement: float
) -> int | None:
    if c.needed_ns is None or c.needed_hw is None:
        return None
    codes = classify_absolute(
        c.estimate - c.needed_hw,
        c.estimate + c.needed_hw,
        paper=paper,
        tolerance=tolerance,
        better=better,
        disagreement=disagreement,
    )
    return first_decided(codes, c.needed_ns)


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
    if method == "hierarchical":
        raise StatsError(
            "interval 'hierarchical' is not available for comparative claims; use interval: t"
        )
    need = MIN_SEEDS_BOOTSTRAP_T if method == "bootstrap-t" else MIN_SEEDS_BCA
    what = "pairs" if paired else "seeds in each arm"
    if n < need:
        raise StatsError(
            f"interval {method!r} needs {need} or more {what}, got {n}; use interval: t "
            f"(the default: {'paired' if paired else 'Welch'} t)"
        )
    return str(method)


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
        computed = _paired(d, chosen, levels, floor, default_rng(rng))
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


def _seeds_for(seeds: Sequence[int] | None, n: int) -> Sequence[int] | None:
    """The seeds, when they can name an arm's values (one per value)."""
    return seeds if seeds is not None and len(seeds) == n else None


def _paired(
    d: FloatArray,
    chosen: str,
    levels: tuple[float, float],
    floor: Floor,
    rng: np.random.Generator,
) -> _Computed:
    n = d.size
    sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
    if chosen == "t" or bool(floor.binds(np.array([sd]))[0]) or sd <= 0:
        c = _t_absolute(d, levels, spread=None, spread_sd=None, floor=floor)
        label = "paired t" if chosen == "t" else "paired t (spread floor)"
        return _replace_method(c, label)
    b = BOOTSTRAP_RESAMPLES
    if chosen == "bootstrap-t":
        est, low, high = boot.bootstrap_t(d, levels, rng=rng, resamples=b)
        return _from_bootstrap(est, low, high, f"paired bootstrap-t (B={b})", n, levels[0])
    est, low, high = boot.bca(d, levels, rng=rng, resamples=b)
    return _from_bootstrap(est, low, high, f"paired bca (B={b})", n, levels[0])


def _unpaired(
    a: FloatArray,
    b: FloatArray,
    chosen: str,
    levels: tuple[float, float],
    floor: Floor,
    rng: np.random.Generator,
) -> _Computed:
    n = min(a.size, b.size)
    if n < 2:
        return _Computed(
            estimate=float(a.mean() - b.mean()),
            decide=_UNBOUNDED,
            show=_UNBOUNDED,
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
        return _Computed(
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
    return _Computed(
        estimate=float(est[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=label,
        needed_ns=ns,
        needed_hw=hw,
    )
