"""The sweep rules on single claims: trend, slope, peak and curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_repro.errors import StatsError
from pytest_repro.stats.curve import decide_curve
from pytest_repro.stats.peak import decide_peak, peak_codes
from pytest_repro.stats.rules import OUTCOME_CODES
from pytest_repro.stats.simulate_sweep import sweep_values
from pytest_repro.stats.sweep import check_sweep, point_summaries
from pytest_repro.stats.trend import decide_slope, decide_trend

XS = [1.0, 2.0, 3.0, 4.0]
UP = [[0.1, 0.4, 0.7, 1.0], [0.2, 0.5, 0.9, 1.1], [0.1, 0.5, 0.8, 1.2], [0.15, 0.45, 0.75, 1.05]]


def test_a_clearly_rising_curve_is_a_matched_increasing_trend() -> None:
    v = decide_trend(XS, UP, direction="increasing")
    assert v.outcome == "matched"
    assert len(v.steps) == 3
    assert all(s.p_value < 0.05 for s in v.steps)
    assert v.verdict.estimate > 0
    assert v.verdict.interval.level == 0.90
    assert v.verdict.shown.level == 0.95


def test_a_rising_curve_claimed_decreasing_is_a_disagreement() -> None:
    v = decide_trend(XS, UP, direction="decreasing")
    assert v.outcome == "disagreement"
    assert v.verdict.estimate < 0


def test_a_flat_noisy_curve_is_an_inconclusive_trend() -> None:
    rng = np.random.default_rng(1)
    v = decide_trend(XS, rng.normal(0, 1, (3, 4)), direction="increasing")
    assert v.outcome == "inconclusive"


def test_a_trend_needs_every_step_to_clear_the_margin() -> None:
    v = decide_trend(XS, UP, direction="increasing", margin=0.35)
    assert v.outcome == "inconclusive"
    assert v.verdict.delta < 0.05


def test_a_missing_run_leaves_its_seed_out_of_the_steps_that_need_it() -> None:
    vals = np.array(UP)
    vals[1, 2] = np.nan
    v = decide_trend(XS, vals, direction="increasing")
    assert [s.n for s in v.steps] == [4, 3, 3]
    assert any("missing values: seed index 1 at x=3" in n for n in v.verdict.notes)
    assert any("left out seed index 1" in n for n in v.verdict.notes)


def test_unsorted_xs_are_sorted_with_their_columns() -> None:
    a = decide_trend(XS[::-1], np.array(UP)[:, ::-1], direction="increasing")
    b = decide_trend(XS, UP, direction="increasing")
    assert a.verdict == b.verdict


@pytest.mark.parametrize(
    ("xs", "values", "match"),
    [
        ([1.0], [[1.0]], "at least 2"),
        ([1.0, 1.0], [[1.0, 2.0]], "appears twice"),
        ([1.0, 2.0], [[1.0, 2.0, 3.0]], "shape"),
        ([1.0, 2.0], [[1.0, math.inf]], "write NaN"),
        ([1.0, 2.0], [[1.0, math.nan], [2.0, math.nan]], "no seed has a value at x=2"),
    ],
)
def test_bad_sweep_input_is_refused_with_a_message(
    xs: list[float], values: object, match: str
) -> None:
    with pytest.raises(StatsError, match=match):
        check_sweep(xs, values)  # type: ignore[arg-type]


def test_the_point_band_is_a_bonferroni_simultaneous_band() -> None:
    pts = point_summaries(check_sweep(XS, UP))
    single = point_summaries(check_sweep([*XS[:1], 9.0], np.array(UP)[:, [0, 1]]))
    assert pts[0].high - pts[0].low > single[0].high - single[0].low
    assert pts[0].n == 4
    assert pts[0].values == tuple(r[0] for r in UP)


def test_a_slope_near_the_papers_is_matched_and_fit_is_the_mean_line() -> None:
    rng = np.random.default_rng(2)
    xs = np.arange(1.0, 6.0)
    vals = 2.0 * xs + rng.normal(0, 0.1, (5, 5))
    v = decide_slope(xs, vals, paper=2.0, tolerance=0.2, scale="linear")
    assert v.outcome == "matched"
    assert v.fit is not None
    assert v.fit[1] == pytest.approx(v.verdict.estimate)
    assert v.verdict.method.startswith("least-squares slope per seed (linear)")


def test_a_log_log_slope_is_the_exponent() -> None:
    xs = np.array([1.0, 10.0, 100.0, 1000.0])
    rng = np.random.default_rng(3)
    vals = 3.0 * xs**-0.5 * np.exp(rng.normal(0, 0.01, (4, 4)))
    v = decide_slope(xs, vals, paper=-0.5, tolerance=0.05, scale="log-log")
    assert v.outcome == "matched"
    assert v.verdict.estimate == pytest.approx(-0.5, abs=0.02)


def test_a_slope_far_from_the_papers_on_either_side_fails() -> None:
    xs = np.arange(1.0, 5.0)
    rng = np.random.default_rng(4)
    vals = 1.0 * xs + rng.normal(0, 0.05, (4, 4))
    assert (
        decide_slope(xs, vals, paper=2.0, tolerance=0.2, scale="linear").outcome == "disagreement"
    )
    assert decide_slope(xs, vals, paper=0.7, tolerance=0.2, scale="linear").outcome == "gap"


def test_a_log_axis_refuses_non_positive_values_by_name() -> None:
    with pytest.raises(ValueError, match=r"x=0 is not"):
        decide_slope([0.0, 1.0, 2.0], [[1.0, 2.0, 3.0]] * 2, paper=1, tolerance=1, scale="log-x")
    with pytest.raises(ValueError, match=r"seed index 1 gave -1 at x=2"):
        decide_slope([1.0, 2.0], [[1.0, 2.0], [1.0, -1.0]], paper=1, tolerance=1, scale="log-log")


def test_a_seed_with_a_missing_value_is_left_out_of_the_slope() -> None:
    xs = np.arange(1.0, 5.0)
    vals = xs + np.random.default_rng(5).normal(0, 0.05, (4, 4))
    vals[2, 1] = np.nan
    v = decide_slope(xs, vals, paper=1.0, tolerance=0.2, scale="linear")
    assert v.verdict.n == 3
    assert any("slope: left out seed index 2" in n for n in v.verdict.notes)


PEAK_XS = [0.0, 1.0, 2.0, 3.0, 4.0]
PEAK = np.array([[0.1, 0.5, 0.9, 0.5, 0.1]]) + np.random.default_rng(6).normal(0, 0.03, (4, 5))


def test_a_clear_peak_inside_the_range_is_matched() -> None:
    v = decide_peak(PEAK_XS, PEAK, extremum="max", within=(1.5, 2.5))
    assert v.outcome == "matched"
    assert v.location_estimate == 2.0
    assert v.location is None
    assert any("needs 5 or more seeds" in n for n in v.verdict.notes)
    assert v.verdict.estimate > 0.3
    assert v.verdict.interval.level == pytest.approx(0.90)


def test_a_clear_peak_outside_the_range_is_a_disagreement() -> None:
    v = decide_peak(PEAK_XS, PEAK, extremum="max", within=(3.5, 4.5))
    assert v.outcome == "disagreement"
    assert v.verdict.estimate < 0


def test_a_minimum_is_found_like_a_maximum() -> None:
    assert decide_peak(PEAK_XS, -PEAK, extremum="min", within=(1.5, 2.5)).outcome == "matched"


def test_a_flat_curve_has_an_inconclusive_peak() -> None:
    flat = np.random.default_rng(7).normal(0, 1, (3, 5))
    assert decide_peak(PEAK_XS, flat, extremum="max", within=(1.5, 2.5)).outcome == "inconclusive"


def test_the_peak_location_gets_a_bootstrap_interval_from_five_seeds() -> None:
    vals = np.vstack([PEAK, PEAK[:2] + 0.01])
    a = decide_peak(PEAK_XS, vals, extremum="max", within=(1.5, 2.5), rng=np.random.default_rng(1))
    b = decide_peak(PEAK_XS, vals, extremum="max", within=(1.5, 2.5), rng=np.random.default_rng(1))
    assert a.location is not None
    assert a.location == b.location
    assert a.location.low <= 2.0 <= a.location.high


def test_a_peak_range_must_leave_values_on_both_sides() -> None:
    with pytest.raises(ValueError, match="covers every swept value; the claim says nothing"):
        decide_peak(PEAK_XS, PEAK, extremum="max", within=(-1, 5))
    with pytest.raises(ValueError, match="no swept value lies in"):
        decide_peak(PEAK_XS, PEAK, extremum="max", within=(1.2, 1.8))
    with pytest.raises(ValueError, match="at least 3"):
        decide_peak(PEAK_XS[:2], PEAK[:, :2], extremum="max", within=(0, 0))


def test_the_peak_rule_on_one_claim_is_the_simulated_rule() -> None:
    rng = np.random.default_rng(8)
    mu = np.array([-1.0, -0.3, 0.0, -0.2, -1.0])
    v = sweep_values(mu, n=4, reps=300, sd=0.3, shape="normal", rng=rng)
    codes = peak_codes(v, np.array([1, 2]), np.array([0, 3, 4]), 1.0)
    one = [
        decide_peak(PEAK_XS, v[i], extremum="max", within=(0.5, 2.5)).outcome for i in range(300)
    ]
    assert one == [OUTCOME_CODES[c] for c in codes]
    assert len(set(one)) > 1


CURVE_XS = [1.0, 2.0, 3.0]
CURVE = np.array([[0.5, 0.6, 0.7]]) + np.random.default_rng(9).normal(0, 0.005, (4, 3))


def test_a_curve_within_every_band_is_matched() -> None:
    v = decide_curve(CURVE_XS, CURVE, paper=[0.5, 0.6, 0.7], tolerance=[0.03] * 3)
    assert v.outcome == "matched"
    assert v.verdict.deviation_in_tol is not None
    assert v.verdict.deviation_in_tol < 1


def test_a_curve_off_at_one_point_is_a_gap_or_a_disagreement() -> None:
    gap = decide_curve(CURVE_XS, CURVE, paper=[0.5, 0.65, 0.7], tolerance=[0.03] * 3)
    assert gap.outcome == "gap"
    assert gap.verdict.estimate == pytest.approx(CURVE[:, 1].mean())
    assert gap.verdict.interval.level == pytest.approx(1 - 0.10 / 3)
    far = decide_curve(CURVE_XS, CURVE, paper=[0.5, 0.8, 0.7], tolerance=[0.03] * 3)
    assert far.outcome == "disagreement"


def test_a_noisy_curve_is_inconclusive() -> None:
    noisy = CURVE + np.random.default_rng(10).normal(0, 0.05, (4, 3))
    v = decide_curve(CURVE_XS, noisy, paper=[0.5, 0.6, 0.7], tolerance=[0.03] * 3)
    assert v.outcome == "inconclusive"


def test_a_curve_point_with_one_seed_cannot_be_matched() -> None:
    vals = CURVE.copy()
    vals[1:, 2] = np.nan
    v = decide_curve(CURVE_XS, vals, paper=[0.5, 0.6, 0.7], tolerance=[0.03] * 3)
    assert v.outcome == "inconclusive"
    assert any("one seed, no interval" in n for n in v.verdict.notes)


def test_a_curve_needs_one_paper_value_and_tolerance_per_point() -> None:
    with pytest.raises(StatsError, match="one of each per swept value"):
        decide_curve(CURVE_XS, CURVE, paper=[0.5, 0.6], tolerance=[0.03] * 3)
    with pytest.raises(StatsError, match=r"tolerance\[1\]"):
        decide_curve(CURVE_XS, CURVE, paper=[0.5, 0.6, 0.7], tolerance=[0.03, 0, 0.03])


def test_the_peak_location_interval_is_controlled_by_the_generator() -> None:
    bump = np.array([[0.0, 0.3, 0.5, 0.35, 0.0]])
    vals = bump + np.random.default_rng(24).normal(0, 0.3, (6, 5))
    locs = {
        decide_peak(
            PEAK_XS, vals, extremum="max", within=(1.5, 2.5), rng=np.random.default_rng(s)
        ).location
        for s in range(30)
    }
    same = {
        decide_peak(
            PEAK_XS, vals, extremum="max", within=(1.5, 2.5), rng=np.random.default_rng(3)
        ).location
        for _ in range(3)
    }
    assert len(locs) > 1
    assert len(same) == 1


def test_the_slope_verdict_does_not_depend_on_the_generator_for_the_t_rule() -> None:
    xs = np.arange(1.0, 6.0)
    vals = xs + np.random.default_rng(12).normal(0, 0.3, (5, 5))
    a = decide_slope(xs, vals, paper=1, tolerance=0.3, scale="linear", rng=np.random.default_rng(1))
    b = decide_slope(xs, vals, paper=1, tolerance=0.3, scale="linear", rng=np.random.default_rng(2))
    assert a.verdict == b.verdict


COPIES = np.array([[0.1, 0.4, 0.7, 1.0]] * 3)


def test_copies_of_one_run_are_not_a_significant_trend_without_a_known_spread() -> None:
    v = decide_trend(XS, COPIES, direction="increasing")
    assert v.outcome == "inconclusive"
    assert any("copies of one run" in n and "untestable" in n for n in v.verdict.notes)
    assert math.isinf(v.verdict.interval.high)


def test_copies_of_one_run_are_tested_against_the_resolution_as_one_difference() -> None:
    assert decide_trend(XS, COPIES, direction="increasing", resolution=0.01).outcome == "matched"
    # one difference of 0.3 against a known spread of 0.2: z = 1.5 < 1.645
    assert decide_trend(XS, COPIES, direction="increasing", resolution=0.2).outcome == (
        "inconclusive"
    )
    thirty = np.array([[0.1, 0.4, 0.7, 1.0]] * 30)
    assert decide_trend(XS, thirty, direction="increasing", resolution=0.2).outcome == (
        "inconclusive"
    )


def test_a_constant_step_between_varying_values_keeps_its_seeds_with_the_floor() -> None:
    base = np.array([[0.0], [0.1], [0.2]])
    vals = base + np.array([[0.0, 0.3, 0.6, 0.9]])
    v = decide_trend(XS, vals, direction="increasing")
    assert v.outcome == "matched"
    assert all(s.interval.high - s.interval.low > 0 for s in v.steps)


def test_a_tiny_spread_is_floored_not_taken_for_precision() -> None:
    vals = np.array(COPIES)
    vals[0, 1] += 1e-12
    vals[1, 2] -= 1e-9
    tiny = decide_trend(XS, vals, direction="increasing", margin=0.29)
    assert tiny.outcome == "inconclusive"


def test_one_seed_is_inconclusive_for_trend_and_peak() -> None:
    assert decide_trend(XS, [UP[0]], direction="increasing").outcome == "inconclusive"
    assert decide_peak(PEAK_XS, PEAK[:1], extremum="max", within=(1.5, 2.5)).outcome == (
        "inconclusive"
    )
    s = decide_slope(XS, [UP[0]], paper=0.3, tolerance=0.1, scale="linear")
    assert s.outcome == "inconclusive"


def test_copies_of_one_curve_peak_only_against_the_resolution() -> None:
    one = np.array([[0.1, 0.5, 0.9, 0.5, 0.1]] * 4)
    assert decide_peak(PEAK_XS, one, extremum="max", within=(1.5, 2.5)).outcome == "inconclusive"
    v = decide_peak(PEAK_XS, one, extremum="max", within=(1.5, 2.5), resolution=0.01)
    assert v.outcome == "matched"


def test_tied_means_at_the_peak_are_inconclusive_not_matched() -> None:
    rng = np.random.default_rng(13)
    vals = np.array([[0.1, 0.5, 0.9, 0.9, 0.1]]) + rng.normal(0, 0.02, (5, 5))
    vals[:, 3] = vals[:, 2] + rng.normal(0, 0.02, 5)
    v = decide_peak(PEAK_XS, vals, extremum="max", within=(1.5, 2.5))
    assert v.outcome == "inconclusive"


def test_unsorted_xs_give_the_same_peak_and_curve_verdicts() -> None:
    order = [3, 0, 4, 2, 1]
    xs = [PEAK_XS[i] for i in order]
    a = decide_peak(xs, PEAK[:, order], extremum="max", within=(1.5, 2.5))
    b = decide_peak(PEAK_XS, PEAK, extremum="max", within=(1.5, 2.5))
    assert a.verdict == b.verdict
    assert a.location_estimate == b.location_estimate
    paper = [0.5, 0.65, 0.7]
    c = decide_curve(CURVE_XS[::-1], CURVE[:, ::-1], paper=paper[::-1], tolerance=0.03)
    d = decide_curve(CURVE_XS, CURVE, paper=paper, tolerance=0.03)
    assert c.verdict == d.verdict


def test_a_missing_run_is_left_out_of_the_peak_comparisons() -> None:
    vals = np.vstack([PEAK, PEAK[:1]])
    vals[0, 2] = np.nan
    v = decide_peak(PEAK_XS, vals, extremum="max", within=(1.5, 2.5))
    assert v.outcome == "matched"
    assert v.verdict.n == 4
    assert any("missing values: seed index 0 at x=2" in n for n in v.verdict.notes)


def test_identical_seeds_on_a_curve_count_as_one_value_per_point() -> None:
    one = np.array([[0.5, 0.6, 0.7]] * 5)
    v = decide_curve(CURVE_XS, one, paper=[0.5, 0.6, 0.7], tolerance=0.03)
    assert v.outcome == "matched"  # within 0.84 tolerances of the paper, as copies are
    off = decide_curve(CURVE_XS, one, paper=[0.5, 0.6, 0.726], tolerance=0.03)
    assert off.outcome == "inconclusive"


def test_a_peak_range_must_be_two_numbers() -> None:
    with pytest.raises(StatsError, match="two numbers"):
        decide_peak(PEAK_XS, PEAK, extremum="max", within=(1, 2, 3))  # type: ignore[arg-type]
