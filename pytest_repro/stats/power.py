"""How often a claim decides if the paper is right: power and seeds for an assurance.

For normal seed values with the paper's mean and a given sd ``sigma``, the seed mean
``x̄ ~ N(p, sigma² / n)`` and the seed sd ``s`` are independent, so the chance that the
decision interval ``x̄ ± h(s)`` lies inside the band is, exactly,

    P(matched) = E_s[ Φ((tol - h(s)) / se) - Φ((-tol + h(s)) / se) ]⁺,   se = sigma / √n,

an expectation over ``s`` alone (``(n - 1) s² / sigma²`` is chi-square). It is computed by
quadrature on :data:`QUADRATURE_POINTS` equally likely quantiles of ``s``, so it is
deterministic. ``h(s)`` is the verdict's own half-width: the 90% Student-t one (with the
paper's spread, the two-sample one of :mod:`pytest_repro.stats.twosample`, the paper's
value being a mean over its runs), with the spread floor (``tolerance / 10``) and, for
``interval: auto``, the worse end held by the skew guard (:mod:`.skew_guard`, a function of
``s`` alone too); or the anytime-valid sequence of :mod:`pytest_repro.stats.anytime`.
Where the band reaches a bound of the metric, only the other side is tested, as in the
verdict. A comparative claim with the paper's improvement ``Δ > 0`` also needs the
interval to clear 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from pytest_repro.stats.anytime import halfwidth_factor
from pytest_repro.stats.intervals import paper_sd, t_quantile
from pytest_repro.stats.model import PaperSpread
from pytest_repro.stats.rules import FALLBACK_FLOOR_FRACTION
from pytest_repro.stats.skew_guard import by_side, worse_halfwidths
from pytest_repro.stats.twosample import two_sample_se_df

FloatArray = NDArray[np.float64]

Rule = Literal["fixed", "anytime"]
#: Equally likely quantiles of the seeds' sd the expectation is taken over.
QUADRATURE_POINTS = 512
#: The assurance seed counts are searched up to this.
MAX_SEEDS = 1000
#: The share of the time a claim should decide if the paper is right.
ASSURANCE = 0.8
#: The level of the fixed-seed decision interval.
DECIDE_LEVEL = 0.90


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerInput:
    """One claim as the power calculation sees it.

    ``sd`` is the seed-to-seed sd assumed (the paper's, or the one observed), and
    ``sd_source`` says which. ``paper_sd``/``paper_m`` are the paper's own spread over its
    runs, which the verdict counts as a second sample. ``positive`` marks a
    comparison whose interval must also clear 0.
    """

    name: str
    paper: float
    tolerance: float
    n: int
    sd: float | None
    sd_source: Literal["paper", "observed", "none"] = "paper"
    paper_sd: float | None = None
    paper_m: int | None = None
    bounds: tuple[float, float] | None = None
    positive: bool = False
    #: which side is worse (``higher``: low values are worse), for the skew guard.
    better: Literal["higher", "lower", "none"] = "higher"
    #: the verdict's ``interval: auto`` rule holds the worse end with the skew guard.
    guarded: bool = False


def paper_sd_of(spread: Mapping[str, Any] | None) -> tuple[float, int] | None:
    """The paper's sd and run count from a claim's ``paper_spread`` (``{value, kind, seeds}``)."""
    if not spread:
        return None
    m = int(spread["seeds"])
    method: Literal["t", "normal"] = "normal" if spread.get("ci_method") == "normal" else "t"
    value = PaperSpread(
        value=float(spread["value"]), kind=spread["kind"], seeds=m, ci_method=method
    )
    return paper_sd(value), m


def claim_input(
    *,
    name: str,
    kind: str,
    paper: float | None,
    tolerance: float | None,
    n: int,
    values: Sequence[float],
    paper_spread: Mapping[str, Any] | None = None,
    bounds: tuple[float, float] | None = None,
    better: str = "higher",
    guarded: bool = False,
) -> PowerInput | None:
    """A claim's :class:`PowerInput`: the observed sd from 2 seeds (``values``: per seed,
    or per-seed improvements), else the paper's; None without a paper value and tolerance.
    Before anything ran, pass ``values=()`` and the planned ``n``. ``guarded``: an absolute
    claim decided by ``interval: auto``, whose worse end the skew guard holds."""
    if paper is None or tolerance is None:
        return None
    spread = paper_sd_of(paper_spread) if kind == "absolute" else None
    sd: float | None = None
    source: Literal["paper", "observed", "none"] = "none"
    if len(values) >= 2:
        sd, source = float(np.std(np.asarray(values, dtype=np.float64), ddof=1)), "observed"
    elif spread is not None:
        sd, source = spread[0], "paper"
    return PowerInput(
        name=name,
        paper=paper,
        tolerance=tolerance,
        n=max(n, len(values)),
        sd=sd,
        sd_source=source,
        paper_sd=spread[0] if spread else None,
        paper_m=spread[1] if spread else None,
        bounds=bounds,
        positive=kind == "comparative" and paper > 0,
        better="lower" if better == "lower" else "none" if better == "none" else "higher",
        guarded=guarded and kind == "absolute",
    )


def _sd_quantiles(sd: float, n: int) -> FloatArray:
    return np.asarray(sd * _unit_sd_quantiles(n), dtype=np.float64)


@lru_cache(maxsize=1024)
def _unit_sd_quantiles(n: int) -> FloatArray:
    """Quadrature points of the sd of ``n`` normal seeds with sd 1 (read-only)."""
    u = (np.arange(QUADRATURE_POINTS) + 0.5) / QUADRATURE_POINTS
    k = (n - 1) / 2.0
    chi2 = 2.0 * special.gammaincinv(k, u)
    out = np.asarray(np.sqrt(chi2 / (n - 1)), dtype=np.float64)
    out.setflags(write=False)
    return out


def _halfwidths(c: PowerInput, n: int, rule: Rule) -> FloatArray:
    assert c.sd is not None
    floor = FALLBACK_FLOOR_FRACTION * c.tolerance
    paper_given = c.paper_sd is not None and c.paper_m is not None and rule == "fixed"
    if n < 2 and not paper_given:
        return np.full(1, math.inf)
    s = _sd_quantiles(c.sd, n) if n >= 2 else np.zeros(1)
    if rule == "anytime":
        return np.maximum(s, floor - s) * halfwidth_factor(n)
    if paper_given and c.paper_sd is not None and c.paper_m is not None:
        # the paper's value is a mean over its runs: a second sample (see stats.twosample)
        used = np.maximum(s, floor - s) if n > 1 else s
        se, df = two_sample_se_df(used, n, c.paper_sd, c.paper_m)
        return np.asarray(t_quantile(DECIDE_LEVEL, df) * se, dtype=np.float64)
    used = np.maximum(s, floor - s)
    return np.asarray(t_quantile(DECIDE_LEVEL, n - 1) * used / math.sqrt(n), dtype=np.float64)


def match_probability(c: PowerInput, n: int | None = None, *, rule: Rule = "fixed") -> float | None:
    """The chance that ``c`` is called matched at ``n`` seeds (default ``c.n``) if the
    paper is right, its seeds having sd ``c.sd``; None without an sd.

    >>> c = PowerInput(name="acc", paper=0.9, tolerance=0.01, n=5, sd=0.005)
    >>> round(match_probability(c), 3)
    0.949
    """
    if c.sd is None or not math.isfinite(c.sd) or c.sd < 0:
        return None
    return _match_probability(c, c.n if n is None else n, rule)


@lru_cache(maxsize=4096)
def _match_probability(c: PowerInput, n: int, rule: Rule) -> float:
    assert c.sd is not None
    h = _halfwidths(c, n, rule)
    h_low = h_high = h
    if c.guarded and rule == "fixed" and n >= 2:
        wide = worse_halfwidths(h, _sd_quantiles(c.sd, n), n, c.tolerance, DECIDE_LEVEL)
        h_low, h_high = by_side(h, wide, c.better)
    lo = c.paper - c.tolerance + h_low
    hi = c.paper + c.tolerance - h_high
    if c.bounds is not None and c.paper - c.tolerance <= c.bounds[0]:
        lo = np.full(h.shape, -math.inf)
    if c.bounds is not None and c.paper + c.tolerance >= c.bounds[1]:
        hi = np.full(h.shape, math.inf)
    if c.positive:
        lo = np.maximum(lo, h)
    se = c.sd / math.sqrt(n)
    if se <= 0:
        inside = (lo <= c.paper) & (c.paper <= hi)
        return float(inside.mean())
    with np.errstate(invalid="ignore"):
        p = special.ndtr((hi - c.paper) / se) - special.ndtr((lo - c.paper) / se)
    p = np.where(hi > lo, p, 0.0)
    return float(np.clip(np.nan_to_num(p), 0.0, 1.0).mean())


def seeds_for(
    c: PowerInput, *, target: float = ASSURANCE, rule: Rule = "fixed", start: int = 2
) -> int | None:
    """The fewest seeds (from ``start``) at which ``c`` is matched at least ``target`` of
    the time if the paper is right; None when no count up to :data:`MAX_SEEDS` does, or
    there is no sd."""
    if c.sd is None:
        return None
    return _seeds_for(c, target, rule, max(start, 1))


@lru_cache(maxsize=1024)
def _seeds_for(c: PowerInput, target: float, rule: Rule, start: int) -> int | None:
    # the rate rises with n: double until it reaches the target, then bisect
    if _match_probability(c, start, rule) >= target:
        return start
    low, high = start, start
    while _match_probability(c, high, rule) < target:
        if high >= MAX_SEEDS:
            return None
        low, high = high, min(MAX_SEEDS, high * 2)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if _match_probability(c, mid, rule) >= target else (mid, high)
    return high


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerRow:
    """One claim's line of the power table."""

    name: str
    n: int
    sd: float | None
    sd_source: str
    matched: float | None
    seeds_80: int | None


def power_table(claims: Sequence[PowerInput]) -> tuple[list[PowerRow], float | None]:
    """Per claim the chance of "matched" at its seeds if the paper is right, and the
    chance that all of them are (the product: claims use separate runs); None where an
    sd is unknown."""
    rows = [
        PowerRow(
            name=c.name,
            n=c.n,
            sd=c.sd,
            sd_source=c.sd_source,
            matched=match_probability(c),
            seeds_80=seeds_for(c),
        )
        for c in claims
    ]
    known = [r.matched for r in rows if r.matched is not None]
    joint = math.prod(known) if rows and len(known) == len(rows) else None
    return rows, joint


def power_lines(
    claims: Sequence[PowerInput], sd_text: Mapping[str, Callable[[float], str]] | None = None
) -> list[str]:
    """The power table as plain lines (the plan prints them before running; the reports
    after). Text from the spec (claim names) is not escaped here: each output does.
    ``sd_text`` writes a claim's sd in its units, by claim name (default ``%.3g``).

    >>> c = PowerInput(name="p::acc", paper=0.9, tolerance=0.01, n=5, sd=0.005)
    >>> power_lines([c])[-1]
    'if the paper is right, all 1 claims are matched at these seeds 94.9% of the time'
    """
    rows, joint = power_table(claims)
    if not rows:
        return []
    out = []
    for r in rows:
        if r.matched is None:
            seeds = "1 seed" if r.n == 1 else f"{r.n} seeds"
            out.append(f"{r.name}: {seeds}; spread unknown (give the paper's ± or run 2 seeds)")
            continue
        assure = (
            f"{ASSURANCE:.0%} of the time from {r.seeds_80} seeds"
            if r.seeds_80 is not None
            else f"{ASSURANCE:.0%} of the time at no seed count up to {MAX_SEEDS}"
        )
        out.append(
            f"{r.name}: matched {r.matched:.1%} of the time at {r.n} seeds if the paper is right "
            f"({r.sd_source} sd {_sd(r, sd_text)}); {assure}"
        )
    if joint is None:
        out.append(f"all {len(rows)} claims matched: unknown (a spread is unknown)")
    else:
        out.append(
            f"if the paper is right, all {len(rows)} claims are matched at these seeds "
            f"{joint:.1%} of the time"
        )
    return out


def _sd(row: PowerRow, sd_text: Mapping[str, Callable[[float], str]] | None) -> str:
    assert row.sd is not None
    write = (sd_text or {}).get(row.name)
    return write(row.sd) if write is not None else f"{row.sd:.3g}"


__all__ = [
    "ASSURANCE",
    "PowerInput",
    "PowerRow",
    "claim_input",
    "match_probability",
    "paper_sd_of",
    "power_lines",
    "power_table",
    "seeds_for",
]
