"""Properties every verdict must have, whatever the numbers (checked with Hypothesis).

Float rounding can move an interval end across a threshold when values are shifted or
scaled, so the invariance properties skip inputs whose interval ends lie within a
hair (1e-7 of the tolerance) of a decision threshold.
"""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pytest_repro.stats import PaperSpread, Verdict, decide_absolute, decide_comparative

values_st = st.lists(
    st.floats(min_value=-5.0, max_value=5.0, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=12,
)
paper_st = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)
tol_st = st.floats(min_value=0.01, max_value=5.0, allow_nan=False)
better_st = st.sampled_from(["higher", "lower", "none"])
spread_st = st.one_of(
    st.none(),
    st.builds(
        PaperSpread,
        value=st.floats(min_value=0.001, max_value=3.0),
        kind=st.sampled_from(["sd", "se", "ci95"]),
        seeds=st.integers(min_value=2, max_value=10),
    ),
)
SETTINGS = settings(
    max_examples=int(os.environ.get("STATS_PROPERTY_EXAMPLES", "150")), deadline=None
)


def clear_of_thresholds(v: Verdict, paper: float, tol: float, disagreement: float = 3.0) -> bool:
    edges = [paper + k * tol for k in (-disagreement, -1.0, 1.0, disagreement)]
    hair = 1e-7 * tol + 1e-10 * (abs(paper) + disagreement * tol)
    ends = [v.interval.low, v.interval.high]
    return all(abs(e - t) > hair for e in ends for t in edges if math.isfinite(e))


@SETTINGS
@given(values=values_st, paper=paper_st, tol=tol_st, better=better_st, spread=spread_st)
def test_the_interval_holds_the_estimate_and_sits_inside_the_shown_one(
    values: list[float], paper: float, tol: float, better: str, spread: PaperSpread | None
) -> None:
    v = decide_absolute(values, paper=paper, tolerance=tol, better=better, paper_spread=spread)  # type: ignore[arg-type]
    assert v.interval.low <= v.estimate <= v.interval.high
    assert v.shown.low <= v.interval.low
    assert v.interval.high <= v.shown.high
    assert v.interval.high > v.interval.low
    assert v.deviation_in_tol == abs(v.estimate - paper) / tol


@SETTINGS
@given(values=values_st, paper=paper_st, tol=tol_st, better=better_st, spread=spread_st)
def test_matched_means_the_estimate_lies_in_the_band(
    values: list[float], paper: float, tol: float, better: str, spread: PaperSpread | None
) -> None:
    v = decide_absolute(values, paper=paper, tolerance=tol, better=better, paper_spread=spread)  # type: ignore[arg-type]
    if v.outcome == "matched":
        assert abs(v.estimate - paper) <= tol * (1 + 1e-12)


@SETTINGS
@given(
    values=values_st,
    paper=paper_st,
    tol=tol_st,
    better=better_st,
    shift=st.floats(min_value=-100.0, max_value=100.0),
)
def test_shifting_values_and_paper_shifts_everything_and_keeps_the_outcome(
    values: list[float], paper: float, tol: float, better: str, shift: float
) -> None:
    v = decide_absolute(values, paper=paper, tolerance=tol, better=better)  # type: ignore[arg-type]
    assume(clear_of_thresholds(v, paper, tol))
    moved = [x + shift for x in values]
    w = decide_absolute(moved, paper=paper + shift, tolerance=tol, better=better)  # type: ignore[arg-type]
    # Shifting can make near-identical values exactly identical (or not): skip those.
    assume(any("spread floor" in n for n in v.notes) == any("spread floor" in n for n in w.notes))
    assume(clear_of_thresholds(w, paper + shift, tol))
    scale = 1e-9 * max(1.0, abs(shift) + max(abs(x) for x in values))
    assert w.outcome == v.outcome
    assert math.isclose(w.estimate, v.estimate + shift, abs_tol=scale)
    assert math.isclose(w.interval.low, v.interval.low + shift, abs_tol=scale + 1e-9 * tol)
    assert math.isclose(w.interval.high, v.interval.high + shift, abs_tol=scale + 1e-9 * tol)


@SETTINGS
@given(
    values=values_st,
    paper=paper_st,
    tol=tol_st,
    better=better_st,
    k=st.floats(min_value=0.01, max_value=100.0),
    spread=spread_st,
)
def test_scaling_values_paper_and_tolerance_keeps_the_outcome(
    values: list[float],
    paper: float,
    tol: float,
    better: str,
    k: float,
    spread: PaperSpread | None,
) -> None:
    v = decide_absolute(values, paper=paper, tolerance=tol, better=better, paper_spread=spread)  # type: ignore[arg-type]
    assume(clear_of_thresholds(v, paper, tol))
    scaled_spread = (
        None
        if spread is None
        else PaperSpread(value=spread.value * k, kind=spread.kind, seeds=spread.seeds)
    )
    w = decide_absolute(
        [x * k for x in values],
        paper=paper * k,
        tolerance=tol * k,
        better=better,  # type: ignore[arg-type]
        paper_spread=scaled_spread,
    )
    assume(clear_of_thresholds(w, paper * k, tol * k))
    assert w.outcome == v.outcome


@SETTINGS
@given(values=values_st, paper=paper_st, tol=tol_st, spread=spread_st)
def test_lower_is_better_on_v_is_higher_is_better_on_minus_v(
    values: list[float], paper: float, tol: float, spread: PaperSpread | None
) -> None:
    low = decide_absolute(values, paper=paper, tolerance=tol, better="lower", paper_spread=spread)
    high = decide_absolute(
        [-x for x in values], paper=-paper, tolerance=tol, better="higher", paper_spread=spread
    )
    assume(clear_of_thresholds(low, paper, tol))
    assert low.outcome == high.outcome
    assert math.isclose(low.estimate, -high.estimate, abs_tol=1e-12)
    assert low.seeds_needed == high.seeds_needed


@SETTINGS
@given(values=values_st, paper=paper_st, tol=tol_st, better=better_st)
def test_seeds_needed_at_or_below_n_exactly_when_the_verdict_is_decided(
    values: list[float], paper: float, tol: float, better: str
) -> None:
    v = decide_absolute(values, paper=paper, tolerance=tol, better=better)  # type: ignore[arg-type]
    assume(clear_of_thresholds(v, paper, tol))
    decided_by_now = v.seeds_needed is not None and v.seeds_needed <= len(values)
    assert decided_by_now == (v.outcome != "inconclusive")


@SETTINGS
@given(
    b=st.lists(st.floats(min_value=-5.0, max_value=5.0), min_size=2, max_size=10),
    diffs=st.lists(st.floats(min_value=-2.0, max_value=2.0), min_size=10, max_size=10),
    margin=st.floats(min_value=0.0, max_value=2.0),
)
def test_swapping_arms_and_direction_gives_the_same_comparison(
    b: list[float], diffs: list[float], margin: float
) -> None:
    a = [x + d for x, d in zip(b, diffs, strict=False)]
    higher = decide_comparative(a, b, paired=True, better="higher", margin=margin)
    lower = decide_comparative(
        [-x for x in a], [-x for x in b], paired=True, better="lower", margin=margin
    )
    assert higher.outcome == lower.outcome
    assert math.isclose(higher.estimate, lower.estimate, abs_tol=1e-9)
    assert higher.interval.low <= higher.estimate <= higher.interval.high


@SETTINGS
@given(
    b=st.lists(st.floats(min_value=-5.0, max_value=5.0), min_size=2, max_size=10),
    diffs=st.lists(st.floats(min_value=-2.0, max_value=2.0), min_size=10, max_size=10),
)
def test_a_reversed_direction_is_never_matched(b: list[float], diffs: list[float]) -> None:
    a = [x + d for x, d in zip(b, diffs, strict=False)]
    v = decide_comparative(a, b, paired=True, better="higher")
    if v.outcome == "matched":
        assert v.interval.low > 0
        assert float(np.mean(np.subtract(a, b))) > 0
    if v.outcome == "disagreement":
        assert v.interval.high < 0
