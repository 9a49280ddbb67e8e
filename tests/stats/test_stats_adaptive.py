"""Adaptive seeding: where the looks are, what settles a claim, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_repro.errors import StatsError
from pytest_repro.stats import (
    Schedule,
    decide_absolute,
    decide_sequential,
    decide_sequential_comparative,
    schedule_for,
)

PRECISE = [0.900, 0.901, 0.899, 0.9005, 0.8995, 0.9002, 0.8998, 0.9001, 0.8999, 0.9]
NOISY = [0.90, 0.93, 0.87, 0.91, 0.89, 0.92, 0.88, 0.905, 0.895, 0.90]


def test_the_default_schedule_looks_at_3_5_and_10_seeds() -> None:
    schedule = schedule_for()
    assert schedule.stages == (3, 5, 10)
    assert schedule.alphas == (0.0037, 0.0103, 0.0414)
    assert schedule.levels == pytest.approx((0.9926, 0.9794, 0.9172))


def test_other_stages_get_an_obrien_fleming_shaped_schedule() -> None:
    schedule = schedule_for((4, 8, 16))
    a = schedule.alphas
    assert a[0] < a[1] < a[2] < 0.05
    assert a[0] / a[2] == pytest.approx((4 / 16) ** 2, rel=0.01)
    assert schedule_for((4, 8, 16)) == schedule  # deterministic


def test_a_single_stage_is_the_fixed_seed_count_test() -> None:
    assert schedule_for([5]).alphas == (0.05,)


@pytest.mark.parametrize(
    ("stages", "match"),
    [
        ((), "at least one stage"),
        ((1, 5), "2 or more"),
        ((3, 3, 10), "increase"),
        ((5, 3), "increase"),
    ],
)
def test_bad_stages_are_refused(stages: tuple[int, ...], match: str) -> None:
    with pytest.raises(StatsError, match=match):
        schedule_for(stages)


def test_a_schedule_needs_one_alpha_per_stage() -> None:
    with pytest.raises(StatsError, match="alphas"):
        Schedule(stages=(3, 5), alphas=(0.01,))


def test_a_precise_reproduction_settles_at_the_first_look() -> None:
    settled, v = decide_sequential(PRECISE[:3], schedule=schedule_for(), paper=0.9, tolerance=0.01)
    assert settled
    assert v.outcome == "matched"
    assert v.interval.level == pytest.approx(1 - 2 * 0.0037)
    assert v.shown.level == 0.95
    assert any("look 1 of 3" in n for n in v.notes)


def test_an_unsettled_look_asks_for_the_next_stage() -> None:
    settled, v = decide_sequential(NOISY[:3], schedule=schedule_for(), paper=0.9, tolerance=0.01)
    assert not settled
    assert v.outcome == "inconclusive"
    assert any("run seeds up to 5" in n for n in v.notes)


def test_the_last_look_always_settles() -> None:
    settled, v = decide_sequential(NOISY, schedule=schedule_for(), paper=0.9, tolerance=0.001)
    assert settled
    assert v.n == 10


def test_the_look_is_the_largest_stage_reached_and_extra_values_wait() -> None:
    settled, v = decide_sequential(NOISY[:4], schedule=schedule_for(), paper=0.9, tolerance=0.01)
    assert v.n == 3
    assert any("not used" in n for n in v.notes)
    fixed = decide_absolute(NOISY[:3], paper=0.9, tolerance=0.01, decide_level=1 - 2 * 0.0037)
    assert v.interval == fixed.interval
    assert not settled


def test_an_adaptive_look_is_stricter_than_a_fixed_seed_count() -> None:
    values = [0.905, 0.9045, 0.9055]
    fixed = decide_absolute(values, paper=0.9, tolerance=0.01)
    _, look = decide_sequential(values, schedule=schedule_for(), paper=0.9, tolerance=0.01)
    assert fixed.outcome == "matched"
    assert look.interval.high - look.interval.low > fixed.interval.high - fixed.interval.low


def test_too_few_values_for_the_first_look_are_refused() -> None:
    with pytest.raises(StatsError, match="first look needs 3 seeds"):
        decide_sequential([0.9, 0.91], schedule=schedule_for(), paper=0.9, tolerance=0.01)


def test_the_schedule_owns_the_decision_level() -> None:
    with pytest.raises(StatsError, match="decide_level"):
        decide_sequential(
            PRECISE, schedule=schedule_for(), paper=0.9, tolerance=0.01, decide_level=0.9
        )


def test_seeds_and_examples_are_cut_to_the_look() -> None:
    seeds = list(range(100, 110))
    values = [*NOISY[:4], float("nan")]  # 5 values reach the look at 5 seeds
    with pytest.raises(StatsError, match="seed 104"):
        decide_sequential(
            values, schedule=schedule_for(), paper=0.9, tolerance=0.01, seeds=seeds[:5]
        )
    _settled, v = decide_sequential(
        NOISY[:4], schedule=schedule_for(), paper=0.9, tolerance=0.01, seeds=seeds[:4]
    )
    assert v.n == 3


def test_sequential_comparative_claims_look_at_pairs() -> None:
    rng = np.random.default_rng(3)
    b = list(rng.normal(0.90, 0.002, 10))
    a = [x + 0.05 + float(e) for x, e in zip(b, rng.normal(0, 0.001, 10), strict=True)]
    settled, v = decide_sequential_comparative(
        a[:3], b[:3], schedule=schedule_for(), paired=True, better="higher"
    )
    assert settled
    assert v.outcome == "matched"
    assert v.interval.level == pytest.approx(1 - 2 * 0.0037)
    settled, v = decide_sequential_comparative(
        a[:6], b[:7], schedule=schedule_for(), paired=False, better="higher"
    )
    assert v.n == 5
