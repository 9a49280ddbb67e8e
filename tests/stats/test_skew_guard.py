"""The skew guard of ``interval: auto``: seeds that now and then train worse are not
falsely matched, and a reproduction at the paper's value pays little for it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_repro.stats import decide_absolute
from pytest_repro.stats.adaptive import schedule_for
from pytest_repro.stats.robust import widen_rows
from pytest_repro.stats.rules import FALLBACK_FLOOR_FRACTION, Floor, absolute_t
from pytest_repro.stats.simulate import absolute_codes, draw, rates, sequential_codes
from pytest_repro.stats.skew_guard import allowance, guard_rows

REPS = 20_000


def bound(rate: float, reps: int = REPS) -> float:
    return rate + 2 * math.sqrt(rate * (1 - rate) / reps)


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("sd", [0.25, 0.5, 1.0])
def test_skewed_seeds_at_the_worse_edge_are_matched_at_most_six_percent(n: int, sd: float) -> None:
    rng = np.random.default_rng(9000 + n + int(100 * sd))
    codes = absolute_codes(
        true_mean=-1.0, sd=sd, n=n, paper=0.0, tolerance=1.0, reps=REPS, rng=rng, dist="skewed"
    )
    assert rates(codes)["matched"] <= bound(0.06)


def matched_without_and_with_the_guard(x: np.ndarray) -> tuple[float, float]:
    """Shares of rows matched (paper 0, tolerance 1) by the t interval, then guarded."""
    floor = Floor(value=FALLBACK_FLOOR_FRACTION, source="tolerance")
    tb = absolute_t(x, (0.90,), floor=floor)
    plain = float(np.mean((tb.low[0] > -1) & (tb.high[0] < 1)))
    sd = x.std(axis=1, ddof=1)
    low, high = guard_rows(tb.estimate, tb.low[0], tb.high[0], sd, x.shape[1], 1.0, "higher")
    return plain, float(np.mean((low > -1) & (high < 1)))


@pytest.mark.parametrize("n", [3, 5, 10])
def test_without_the_guard_the_same_seeds_are_matched_far_more_often(n: int) -> None:
    x = draw("skewed", mean=-1.0, sd=0.5, size=(REPS, n), rng=np.random.default_rng(n))
    plain, guarded = matched_without_and_with_the_guard(x)
    assert plain > 0.11
    assert guarded < plain / 2


@pytest.mark.parametrize(("n", "sd"), [(3, 0.5), (3, 1.0), (5, 0.5), (5, 1.0), (10, 1.0)])
def test_a_perfect_normal_reproduction_loses_at_most_five_points(n: int, sd: float) -> None:
    x = draw("normal", mean=0.0, sd=sd, size=(REPS, n), rng=np.random.default_rng(100 + n))
    plain, guarded = matched_without_and_with_the_guard(x)
    assert plain - 0.05 <= guarded <= plain


@pytest.mark.parametrize("dist", ["skewed", "normal"])
@pytest.mark.parametrize("sd", [0.25, 0.5, 1.0])
def test_adaptive_seeding_under_skewed_seeds_keeps_false_matched_at_the_edge_low(
    dist: str, sd: float
) -> None:
    codes, _ = sequential_codes(
        true_mean=-1.0,
        sd=sd,
        schedule=schedule_for(),
        paper=0.0,
        tolerance=1.0,
        reps=REPS,
        rng=np.random.default_rng(9100 + int(100 * sd)),
        dist=dist,  # type: ignore[arg-type]
    )
    assert rates(codes)["matched"] <= bound(0.06)


@pytest.mark.parametrize("n", [3, 5])
def test_the_simulation_gives_the_outcome_decide_absolute_gives_row_by_row(n: int) -> None:
    rng = np.random.default_rng(40 + n)
    x = draw("skewed", mean=-0.6, sd=0.4, size=(300, n), rng=rng)
    floor = Floor(value=FALLBACK_FLOOR_FRACTION, source="tolerance")
    tb = absolute_t(x, (0.90,), floor=floor)
    low, high = widen_rows(x, tb.estimate, tb.low[0], tb.high[0], "higher")  # skew from 5
    low, high = guard_rows(tb.estimate, low, high, x.std(axis=1, ddof=1), n, 1.0, "higher")
    for row, lo, hi in zip(x, low, high, strict=True):
        v = decide_absolute(list(row), paper=0.0, tolerance=1.0)
        assert (v.interval.low, v.interval.high) == pytest.approx((lo, hi))
        assert (v.outcome == "matched") == bool(lo >= -1 and hi <= 1)


def test_only_the_worse_end_moves_and_the_method_and_a_note_say_so() -> None:
    x = [0.975, 0.976, 0.974]  # tight, 0.7 tolerances below the paper
    plain = decide_absolute(x, paper=0.982, tolerance=0.01, method="t")
    auto = decide_absolute(x, paper=0.982, tolerance=0.01)
    assert plain.outcome == "matched"
    assert auto.outcome == "inconclusive"
    assert auto.interval.high == pytest.approx(plain.interval.high)
    assert auto.interval.low < plain.interval.low
    assert auto.shown.low <= auto.interval.low
    assert auto.method == "student-t (skew guard)"
    assert any(n.startswith("unseen bad seeds (skew guard)") for n in auto.notes)
    lower = decide_absolute([-v for v in x], paper=-0.982, tolerance=0.01, better="lower")
    assert lower.interval.low == pytest.approx(-plain.interval.high)
    assert lower.interval.high == pytest.approx(-auto.interval.low)


def test_better_none_holds_both_ends() -> None:
    x = [0.975, 0.976, 0.974]
    plain = decide_absolute(x, paper=0.982, tolerance=0.01, method="t", better="none")
    auto = decide_absolute(x, paper=0.982, tolerance=0.01, better="none")
    assert auto.interval.low < plain.interval.low
    assert auto.interval.high > plain.interval.high


def test_a_mean_mid_band_keeps_its_t_interval_and_says_no_more_than_the_method() -> None:
    x = [0.981, 0.984, 0.979, 0.982, 0.983]
    plain = decide_absolute(x, paper=0.982, tolerance=0.05, method="t")
    auto = decide_absolute(x, paper=0.982, tolerance=0.05)
    assert auto.outcome == plain.outcome == "matched"
    assert auto.method == "student-t (skew guard)"


def test_the_worse_end_never_moves_more_than_the_cap() -> None:
    rng = np.random.default_rng(7)
    for n in (2, 3, 5, 10, 40):
        x = list(rng.normal(0.9, 0.004, n))
        plain = decide_absolute(x, paper=0.9, tolerance=0.01, method="t")
        auto = decide_absolute(x, paper=0.9, tolerance=0.01)
        moved = plain.interval.low - auto.interval.low
        cap = float(allowance(n)) * 0.01
        assert moved >= 0
        assert (
            auto.estimate - auto.interval.low
            <= max(cap, plain.estimate - plain.interval.low) + 1e-12
        )


def test_the_cap_shrinks_with_more_seeds_and_grows_with_the_level() -> None:
    caps = [float(allowance(n)) for n in (2, 3, 5, 10, 50)]
    assert caps == sorted(caps, reverse=True)
    assert float(allowance(3, 0.99)) > float(allowance(3, 0.90))


def test_declared_skewed_seeds_and_plain_t_are_left_alone() -> None:
    x = [0.975, 0.976, 0.974]
    declared = decide_absolute(x, paper=0.982, tolerance=0.01, skewed_seeds=True)
    assert "skew guard" not in declared.method
    assert "skew-calibrated" in declared.method
    assert "skew guard" not in decide_absolute(x, paper=0.982, tolerance=0.01, method="t").method


def test_an_undecided_guarded_claim_names_more_seeds_than_it_has() -> None:
    v = decide_absolute([0.975, 0.976, 0.974], paper=0.982, tolerance=0.01)
    assert v.outcome == "inconclusive"
    assert v.seeds_needed is None or v.seeds_needed > 3


@pytest.mark.parametrize("spread", [1e-9, 1e-6, 1e-4, 1e-3])
def test_the_guarded_half_width_is_continuous_in_the_seeds_spread(spread: float) -> None:
    near = decide_absolute([0.9 - spread, 0.9, 0.9 + spread], paper=0.9, tolerance=0.01)
    nearer = decide_absolute(
        [0.9 - spread * 1.001, 0.9, 0.9 + spread * 1.001], paper=0.9, tolerance=0.01
    )
    assert nearer.interval.low == pytest.approx(near.interval.low, abs=1e-5)
    assert near.interval.width > 0
