"""The anytime check stays valid when seeds are added after every look."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_repro.stats.anytime import anytime_absolute, anytime_comparative, halfwidth_factor
from pytest_repro.stats.power import PowerInput, seeds_for

CAP = 40


def follow_the_advice(x: np.ndarray) -> str:
    """A user who, whenever the check is inconclusive, runs the seeds the advice names."""
    n = 3
    while True:
        check = anytime_absolute(x[:n], paper=0.0, tolerance=1.0)
        if check.decided or n >= CAP:
            return check.outcome
        c = PowerInput(
            name="c",
            paper=0.0,
            tolerance=1.0,
            n=n,
            sd=float(np.std(x[:n], ddof=1)),
            sd_source="observed",
        )
        need = seeds_for(c, rule="anytime", start=n + 1)
        n = min(CAP, max(n + 1, need if need is not None else CAP))


def test_the_sequence_narrows_with_seeds_and_is_unbounded_at_one_or_two() -> None:
    assert math.isinf(halfwidth_factor(1)) and math.isinf(halfwidth_factor(2))
    widths = [halfwidth_factor(n) for n in (5, 10, 20, 40)]
    assert widths == sorted(widths, reverse=True)


def test_following_the_advice_again_and_again_keeps_false_matched_at_the_edge_low() -> None:
    rng = np.random.default_rng(20240229)
    x = rng.normal(-1.0, 0.25, (300, CAP))
    rate = np.mean([follow_the_advice(row) == "matched" for row in x])
    assert rate <= 0.055


def test_following_the_advice_matches_a_perfect_reproduction() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 0.5, (100, CAP))
    assert np.mean([follow_the_advice(row) == "matched" for row in x]) >= 0.9


@pytest.mark.slow
def test_looking_after_every_seed_from_3_to_40_keeps_false_matched_at_or_below_5_percent() -> None:
    rng = np.random.default_rng(3)
    for sd in (0.1, 0.5, 1.0):
        x = rng.normal(-1.0, sd, (2000, CAP))
        hits = 0
        for row in x:
            for n in range(3, CAP + 1):
                check = anytime_absolute(row[:n], paper=0.0, tolerance=1.0)
                if check.decided:
                    hits += check.outcome == "matched"
                    break
        assert hits / len(x) <= 0.055


def test_identical_seeds_get_the_spread_floor_not_a_zero_width_sequence() -> None:
    check = anytime_absolute([0.9] * 10, paper=0.9, tolerance=0.01)
    assert check.high - check.low > 0


def test_a_paired_comparison_is_checked_on_its_improvements() -> None:
    check = anytime_comparative([0.05] * 5 + [0.051, 0.049] * 5, margin=0.01)
    assert check.outcome == "matched"
