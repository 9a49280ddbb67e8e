"""Many claims in one paper: p-values for the gap flags and Holm or BH control over them.

A paper with ten claims whose reproductions sit exactly on the band edge gets at least
one false "gap" about 40% of the time at the per-claim 5% level. The paper-level view
keeps each claim's verdict and adds whether its shortfall survives a correction over
all of the paper's claims.

**The p-value of a claim** tests "the reproduction is not short of the paper's band".
With the mean ``x̄`` over ``n`` seeds, the standard error ``se`` and degrees of freedom
``df`` of the fixed-seed verdict's Student-t interval (the seeds' sd with the spread
floor ``tolerance / 10``; with the paper's spread, the two-sample standard error of
:mod:`pytest_repro.stats.twosample`), and the short edge ``e`` of the band:

* ``better: higher``: ``e = paper - tolerance`` and ``p = T_df((x̄ - e) / se)``;
* ``better: lower``: ``e = paper + tolerance`` and ``p = 1 - T_df((x̄ - e) / se)``;
* ``better: none``: the smaller of the two (either side is a gap);
* comparative claims: the same on the improvement of A over B, with ``e`` the margin
  (``margin > 0``), ``0`` (no margin), or ``Δ - tolerance`` with the paper's ``Δ``;
  paired on the per-seed improvements, Welch's ``se`` and ``df`` otherwise.

The verdict's 90% interval lies wholly on the short side of ``e`` exactly when
``p < 0.05``, so at the usual level this p-value flags the same claims as the verdict
(bootstrap and adaptive verdicts are approximated by the t form). A disagreement is a
gap beyond ``disagreement`` tolerances: it is tested by the same p-value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from pytest_repro.stats.rules import FALLBACK_FLOOR_FRACTION
from pytest_repro.stats.twosample import two_sample_se_df

Correction = Literal["holm", "bh", "none"]
CORRECTIONS: tuple[Correction, ...] = ("holm", "bh", "none")
#: The family-wise (Holm) or false-discovery (BH) level.
PAPER_ALPHA = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortfallTest:
    """What a claim's shortfall p-value needs: the estimate, its se and df, the edge."""

    estimate: float
    se: float
    df: float
    edge: float
    side: Literal["below", "above", "either"] = "below"
    upper_edge: float | None = None  # better: none, the band's other edge


def p_value(test: ShortfallTest) -> float:
    """The one-sided p-value that the estimate lies short of the edge."""
    if not (math.isfinite(test.se) and test.se > 0 and math.isfinite(test.df) and test.df > 0):
        return 1.0

    def below(edge: float) -> float:
        return float(special.stdtr(test.df, (test.estimate - edge) / test.se))

    if test.side == "below":
        return below(test.edge)
    if test.side == "above":
        return 1.0 - below(test.edge)
    upper = test.upper_edge if test.upper_edge is not None else test.edge
    return min(below(test.edge), 1.0 - below(upper))


def _mean_se_df(values: Sequence[float], floor: float) -> tuple[float, float, float] | None:
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return None
    sd = float(x.std(ddof=1))
    sd = max(sd, floor - sd)
    return float(x.mean()), sd / math.sqrt(x.size), float(x.size - 1)


def absolute_test(
    values: Sequence[float],
    *,
    paper: float,
    tolerance: float,
    better: str,
    paper_sd: float | None = None,
    paper_m: int | None = None,
) -> ShortfallTest | None:
    """The shortfall test of an absolute claim; None without a spread (one seed, no ±)."""
    floor = FALLBACK_FLOOR_FRACTION * tolerance
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return None
    if paper_sd is not None and paper_m is not None:
        own = max(float(x.std(ddof=1)), 0.0) if x.size > 1 else 0.0
        own = max(own, floor - own) if x.size > 1 else own
        se_a, df_a = two_sample_se_df(own, int(x.size), paper_sd, paper_m)
        mean, se, df = float(x.mean()), float(se_a), float(df_a)
    else:
        got = _mean_se_df(values, floor)
        if got is None:
            return None
        mean, se, df = got
    if better == "lower":
        return ShortfallTest(estimate=mean, se=se, df=df, edge=paper + tolerance, side="above")
    if better == "none":
        return ShortfallTest(
            estimate=mean,
            se=se,
            df=df,
            edge=paper - tolerance,
            side="either",
            upper_edge=paper + tolerance,
        )
    return ShortfallTest(estimate=mean, se=se, df=df, edge=paper - tolerance)


def comparative_test(
    improvements: Sequence[float],
    *,
    values_a: Sequence[float] = (),
    values_b: Sequence[float] = (),
    better: str = "higher",
    margin: float | None = None,
    paper_delta: float | None = None,
    tolerance: float | None = None,
) -> ShortfallTest | None:
    """The shortfall test of a comparative claim: paired on ``improvements`` when given,
    else Welch on the arms (turned so that higher is better)."""
    if paper_delta is not None and tolerance is not None:
        edge, scale = paper_delta - tolerance, tolerance
    elif margin:
        edge, scale = float(margin), float(margin)
    else:
        edge, scale = 0.0, 0.0
    floor = FALLBACK_FLOOR_FRACTION * scale
    if len(improvements) >= 2:
        got = _mean_se_df(improvements, floor)
        if got is None:
            return None
        mean, se, df = got
        return ShortfallTest(estimate=mean, se=se, df=df, edge=edge)
    a, b = np.asarray(values_a, dtype=np.float64), np.asarray(values_b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        return None
    sign = -1.0 if better == "lower" else 1.0
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    se = math.sqrt(va + vb)
    if se <= 0:
        return None
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return ShortfallTest(estimate=sign * float(a.mean() - b.mean()), se=se, df=df, edge=edge)


def claim_p_value(
    *,
    kind: str,
    values: Sequence[float],
    values_a: Sequence[float] = (),
    values_b: Sequence[float] = (),
    paper: float | None,
    tolerance: float | None,
    better: str,
    margin: float | None = None,
    paper_spread: Mapping[str, Any] | None = None,
) -> float | None:
    """A claim's shortfall p-value from its recorded fields; None where there is no spread
    (one seed without the paper's ±) or no paper value to fall short of."""
    if kind == "absolute":
        if paper is None or tolerance is None:
            return None
        from pytest_repro.stats.power import paper_sd_of

        spread = paper_sd_of(paper_spread)
        test = absolute_test(
            values,
            paper=paper,
            tolerance=tolerance,
            better=better,
            paper_sd=spread[0] if spread else None,
            paper_m=spread[1] if spread else None,
        )
    else:
        test = comparative_test(
            values,
            values_a=values_a,
            values_b=values_b,
            better=better,
            margin=margin,
            paper_delta=paper,
            tolerance=tolerance,
        )
    return None if test is None else p_value(test)


def holm(p: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (reject where ``adjusted <= alpha``).

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = round(running, 15)
    return out


def benjamini_hochberg(p: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false-discovery rate).

    >>> benjamini_hochberg([0.01, 0.04, 0.03])
    [0.03, 0.04, 0.04]
    """
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i], reverse=True)
    out = [1.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, p[i] * m / rank)
        out[i] = round(min(running, 1.0), 15)
    return out


def adjust(p: Sequence[float], correction: Correction) -> list[float]:
    """Adjusted p-values under ``correction`` (``none``: as they are)."""
    if correction == "holm":
        return holm(p)
    if correction == "bh":
        return benjamini_hochberg(p)
    return [float(x) for x in p]


__all__ = [
    "CORRECTIONS",
    "PAPER_ALPHA",
    "Correction",
    "ShortfallTest",
    "absolute_test",
    "adjust",
    "benjamini_hochberg",
    "claim_p_value",
    "comparative_test",
    "holm",
    "p_value",
]
