"""``skewed_seeds: true``: seeds skewed towards the worse side are not falsely matched."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_repro.stats import decide_absolute
from pytest_repro.stats.simulate import draw
from pytest_repro.stats.skewed import SIMULATED_UP_TO, _studentized, critical_value


def mirrored_lognormal(mean: float, sd: float, size: tuple[int, int], seed: int) -> np.ndarray:
    """Skewness about -3: the long tail lies on the worse (lower) side."""
    return draw("skewed", mean=mean, sd=sd, size=size, rng=np.random.default_rng(seed))


def matched(x: np.ndarray, **kwargs: object) -> float:
    return float(
        np.mean(
            [
                decide_absolute(list(r), paper=0.0, tolerance=1.0, **kwargs).outcome == "matched"  # type: ignore[arg-type]
                for r in x
            ]
        )
    )


@pytest.mark.parametrize("n", [3, 5, 10])
def test_at_the_worse_edge_skewed_seeds_are_matched_at_most_about_five_percent(n: int) -> None:
    x = mirrored_lognormal(-1.0, 0.5, (1500, n), seed=n)
    declared = matched(x, skewed_seeds=True)
    plain = matched(x, method="t")
    assert declared <= 0.06 + 2 * math.sqrt(0.06 * 0.94 / 1500)
    assert plain > 0.09  # what the t interval alone does with the same seeds


def test_the_critical_values_exceed_student_t_and_shrink_with_more_seeds() -> None:
    values = [critical_value(n, 0.95) for n in (3, 5, 10, 20)]
    assert values == sorted(values, reverse=True)
    assert values[0] > 2.92  # t_{0.95, 2}
    assert critical_value(5, 0.95) == critical_value(5, 0.95)  # fixed seed: repeatable


def test_only_the_worse_end_moves_and_the_method_says_so() -> None:
    x = [0.90, 0.91, 0.905, 0.907, 0.903]
    plain = decide_absolute(x, paper=0.905, tolerance=0.02, method="t")
    skew = decide_absolute(x, paper=0.905, tolerance=0.02, skewed_seeds=True)
    assert skew.interval.high == pytest.approx(plain.interval.high)
    assert skew.interval.low < plain.interval.low
    assert "skew-calibrated worse side" in skew.method
    lower = decide_absolute(x, paper=0.905, tolerance=0.02, better="lower", skewed_seeds=True)
    assert lower.interval.low == pytest.approx(plain.interval.low)
    assert lower.interval.high > plain.interval.high


@pytest.mark.parametrize("n", [50, 100])
def test_beyond_the_simulated_counts_the_critical_value_stays_close_above_a_simulation(
    n: int,
) -> None:
    assert n > SIMULATED_UP_TO
    simulated = float(np.quantile(_studentized(n), 0.95))
    extrapolated = critical_value(n, 0.95)
    assert simulated <= extrapolated <= simulated * 1.02
