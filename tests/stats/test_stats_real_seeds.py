"""Verdicts that survive real seeds: identical copies, claim-following rules, bounded
metrics, Welch arms — read as a specification."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from pytest_repro.errors import StatsError
from pytest_repro.stats import decide_absolute, decide_comparative
from pytest_repro.stats.bounded import bounds_for_unit
from pytest_repro.stats.simulate import bounded_codes, rates
from pytest_repro.vocab import VERDICTS

PAPER, TOL = 0.90, 0.01
Z90 = float(sps.norm.ppf(0.95))


# --- 1. determinism is its own case ------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 10, 30])
def test_copies_of_one_run_give_the_same_verdict_and_interval_at_every_seed_count(n: int) -> None:
    v = decide_absolute([0.909] * n, paper=PAPER, tolerance=TOL)
    assert v.outcome == "inconclusive"
    assert (v.interval.low, v.interval.high) == pytest.approx(
        (0.909 - Z90 * 1e-3, 0.909 + Z90 * 1e-3)
    )
    assert v.seeds_needed is None
    assert any(
        note.startswith(f"identical seeds: all {n} seeds gave 0.909: the seed may not reach")
        for note in v.notes
    )


def test_thirty_copies_just_outside_the_band_are_not_a_gap() -> None:
    assert decide_absolute([0.8895] * 30, paper=PAPER, tolerance=TOL).outcome == "inconclusive"


def test_a_single_value_clearly_inside_or_outside_the_band_is_decided() -> None:
    # The rule: value ± z_0.95 · floor must lie inside (matched) or outside (gap/exceeded).
    assert decide_absolute([0.905] * 3, paper=PAPER, tolerance=TOL).outcome == "matched"
    assert decide_absolute([0.887] * 3, paper=PAPER, tolerance=TOL).outcome == "gap"
    assert decide_absolute([0.913] * 3, paper=PAPER, tolerance=TOL).outcome == "exceeded"
    edge = PAPER + TOL - Z90 * 0.1 * TOL
    assert decide_absolute([edge - 1e-6] * 4, paper=PAPER, tolerance=TOL).outcome == "matched"
    assert decide_absolute([edge + 1e-6] * 4, paper=PAPER, tolerance=TOL).outcome == "inconclusive"


def test_numerically_identical_values_count_as_copies() -> None:
    v = decide_absolute([0.909, 0.909 * (1 + 1e-13), 0.909], paper=PAPER, tolerance=TOL)
    assert v.method == "one effective value (spread floor)"


def test_a_spread_of_rounding_noise_never_gives_a_zero_width_interval() -> None:
    v = decide_absolute([0.909, 0.909 + 1e-9, 0.909], paper=PAPER, tolerance=TOL)
    assert v.outcome == "inconclusive"
    assert v.interval.width > 1e-3


@pytest.mark.parametrize("tiny", [0.0, 1e-12, 1e-9, 1e-6, 1e-4])
def test_the_floor_is_continuous_in_the_seeds_spread(tiny: float) -> None:
    # The half-width moves smoothly from the floor as the spread grows: no jump at 0.
    values = [0.9 - tiny, 0.9, 0.9 + tiny]
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, method="t")
    sd = float(np.std(values, ddof=1))
    if v.method.startswith("one effective value"):
        assert v.interval.width / 2 == pytest.approx(Z90 * 1e-3)
    else:
        used = max(sd, 1e-3 - sd)
        half = sps.t.ppf(0.95, 2) * used / math.sqrt(3)
        assert v.interval.width / 2 == pytest.approx(half)
        assert v.interval.width > 0


def test_copies_with_the_papers_spread_are_one_seed_with_that_spread() -> None:
    from pytest_repro.stats import PaperSpread

    spread = PaperSpread(value=0.004, kind="sd", seeds=5)
    many = decide_absolute([0.905] * 8, paper=PAPER, tolerance=TOL, paper_spread=spread)
    one = decide_absolute([0.905], paper=PAPER, tolerance=TOL, paper_spread=spread)
    assert (many.interval.low, many.interval.high) == pytest.approx(
        (one.interval.low, one.interval.high)
    )


def test_copies_in_both_arms_of_a_comparison_are_one_difference_without_known_spread() -> None:
    v = decide_comparative([0.9000001] * 2, [0.9] * 2, paired=True, better="higher")
    assert v.outcome == "inconclusive"
    assert math.isinf(v.interval.width)
    assert any("n_eff = 1" in note for note in v.notes)


def test_a_constant_difference_between_varying_arms_is_still_evidence() -> None:
    b = [0.80, 0.81, 0.82]
    a = [x + 0.1 for x in b]
    assert decide_comparative(a, b, paired=True, better="higher").outcome == "matched"
    assert decide_comparative(b, a, paired=True, better="higher").outcome == "disagreement"


# --- 2. labels and rules that follow the claim --------------------------------------------


def test_beating_b_by_five_times_the_margin_is_matched() -> None:
    b = np.array([0.80, 0.81, 0.82, 0.805, 0.815])
    a = b + 0.05 + np.array([0.001, -0.001, 0.0, 0.0005, -0.0005])
    assert decide_comparative(a, b, paired=True, better="higher", margin=0.01).outcome == "matched"


def test_beating_the_papers_improvement_by_far_is_exceeded_not_a_disagreement() -> None:
    b = np.array([0.80, 0.81, 0.82, 0.805, 0.815])
    a = b + 0.10 + np.array([0.001, -0.001, 0.0, 0.0005, -0.0005])
    v = decide_comparative(a, b, paired=True, better="higher", paper_delta=0.02, tolerance=0.01)
    assert v.outcome == "exceeded"


def test_a_claimed_improvement_is_not_matched_while_its_interval_holds_zero() -> None:
    v = decide_comparative(
        [0.901, 0.899, 0.900],
        [0.900, 0.900, 0.901],
        paired=True,
        better="higher",
        paper_delta=0.005,
        tolerance=0.01,
    )
    assert v.interval.low < 0 < v.interval.high
    assert v.outcome == "inconclusive"


PASSING = {name for name, m in VERDICTS.items() if m.pytest == "passed"}
FAILING = {name for name, m in VERDICTS.items() if m.pytest == "failed"}
seeds_st = st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=6)
shift_st = st.floats(0.0, 5.0, allow_nan=False)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=seeds_st, shift=shift_st, better=st.sampled_from(["higher", "lower"]))
def test_moving_every_seed_the_better_way_never_turns_an_absolute_pass_into_a_fail(
    values: list[float], shift: float, better: str
) -> None:
    sign = 1.0 if better == "higher" else -1.0
    before = decide_absolute(values, paper=0.0, tolerance=0.5, better=better)  # type: ignore[arg-type]
    after = decide_absolute(
        [x + sign * shift for x in values], paper=0.0, tolerance=0.5, better=better
    )  # type: ignore[arg-type]
    assert not (before.outcome in PASSING and after.outcome in FAILING)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    b=seeds_st,
    noise=st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=6, max_size=6),
    shift=shift_st,
    kind=st.sampled_from(["margin", "paper", "plain"]),
    paired=st.booleans(),
)
def test_moving_arm_a_the_better_way_never_turns_a_comparative_pass_into_a_fail(
    b: list[float], noise: list[float], shift: float, kind: str, paired: bool
) -> None:
    b = b + [0.3 * i for i in range(3 - len(b))] if len(b) < 3 else b
    a = [x + e for x, e in zip(b, noise, strict=False)]
    extra: dict[str, float] = {}
    if kind == "margin":
        extra = {"margin": 0.3}
    elif kind == "paper":
        extra = {"paper_delta": 0.4, "tolerance": 0.3}
    before = decide_comparative(a, b, paired=paired, better="higher", **extra)  # type: ignore[arg-type]
    after = decide_comparative([x + shift for x in a], b, paired=paired, better="higher", **extra)  # type: ignore[arg-type]
    assert not (before.outcome in PASSING and after.outcome in FAILING)


# --- 4. Welch with fewer than 3 seeds in an arm -------------------------------------------


@pytest.mark.parametrize(("na", "nb"), [(2, 5), (5, 2), (1, 1), (2, 2)])
def test_welch_with_fewer_than_three_seeds_in_an_arm_is_refused(na: int, nb: int) -> None:
    a = [0.95 + 0.01 * i for i in range(na)]
    b = [0.90 + 0.01 * i for i in range(nb)]
    with pytest.raises(StatsError, match="3 or more seeds in each arm"):
        decide_comparative(a, b, paired=False, better="higher")


def test_welch_with_three_seeds_per_arm_is_answered() -> None:
    v = decide_comparative([0.95, 0.96, 0.94], [0.90, 0.91, 0.92], paired=False, better="higher")
    assert v.method == "welch t"


# --- 3. bounded metrics --------------------------------------------------------------------


def test_a_fraction_is_bounded_by_zero_and_one() -> None:
    assert bounds_for_unit("fraction") == (0.0, 1.0)
    assert bounds_for_unit("percent") == (0.0, 100.0)
    assert bounds_for_unit("ms") is None


def test_no_interval_of_a_bounded_metric_leaves_its_range() -> None:
    v = decide_absolute([0.998, 0.999, 1.0], paper=0.995, tolerance=0.005, bounds=(0.0, 1.0))
    assert v.interval.high <= 1.0 and v.shown.high <= 1.0
    assert v.shown.low >= 0.0
    assert any(note.startswith("bounded metric:") for note in v.notes)


def test_where_the_band_reaches_the_bound_only_the_other_side_is_tested() -> None:
    values = [0.993, 0.996, 0.999]
    unbounded = decide_absolute(values, paper=0.995, tolerance=0.005)
    bounded = decide_absolute(values, paper=0.995, tolerance=0.005, bounds=(0.0, 1.0))
    assert unbounded.outcome == "inconclusive"
    assert bounded.outcome == "matched"


def test_bounds_that_exclude_the_papers_value_are_refused() -> None:
    with pytest.raises(StatsError, match="outside the metric's range"):
        decide_absolute([0.9, 0.91], paper=90.0, tolerance=1.0, bounds=(0.0, 1.0))


@pytest.mark.parametrize(("n", "least"), [(3, 0.8), (5, 0.9)])
def test_a_perfect_reproduction_near_the_bound_is_matched(n: int, least: float) -> None:
    codes = bounded_codes(
        true_mean=0.995,
        sd=0.002,
        n=n,
        paper=0.995,
        tolerance=0.005,
        bounds=(0.0, 1.0),
        reps=4000,
        rng=np.random.default_rng(900 + n),
    )
    assert rates(codes)["matched"] >= least


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_false_matched_at_the_lower_band_edge_of_a_bounded_metric_stays_low(n: int) -> None:
    codes = bounded_codes(
        true_mean=0.990,
        sd=0.002,
        n=n,
        paper=0.995,
        tolerance=0.005,
        bounds=(0.0, 1.0),
        reps=20_000,
        rng=np.random.default_rng(950 + n),
    )
    assert rates(codes)["matched"] <= 0.06


def test_false_matched_at_the_lower_band_edge_fast() -> None:
    codes = bounded_codes(
        true_mean=0.990,
        sd=0.002,
        n=3,
        paper=0.995,
        tolerance=0.005,
        bounds=(0.0, 1.0),
        reps=4000,
        rng=np.random.default_rng(977),
    )
    assert rates(codes)["matched"] <= 0.06
