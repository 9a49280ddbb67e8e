"""``interval: anytime``: a claim whose seeds are added ad hoc, decided on the sequence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_repro.errors import StatsError
from pytest_repro.stats import decide_absolute
from pytest_repro.stats.anytime import floored_sd, halfwidth_factor


def test_adding_one_seed_at_a_time_until_decided_keeps_false_matched_under_five_percent() -> None:
    rng = np.random.default_rng(20240229)
    reps, cap = 2000, 40
    x = rng.normal(-1.0, 0.5, (reps, cap))  # the true mean on the lower band edge
    false = 0
    for row in x:
        for n in range(3, cap + 1):  # look after every added seed
            mean = row[:n].mean()
            h = halfwidth_factor(n, alpha=0.10) * floored_sd(float(row[:n].std(ddof=1)), 1.0)
            if mean - h >= -1.0 and mean + h <= 1.0:
                false += 1
                break
            if mean + h < -1.0 or mean - h > 1.0:
                break
    rate = false / reps
    assert rate <= 0.055, rate


def test_decide_absolute_uses_the_sequence_and_says_so() -> None:
    x = [0.9, 0.9, 0.901, 0.899, 0.901, 0.899, 0.901, 0.899, 0.9, 0.9]
    v = decide_absolute(x, paper=0.9, tolerance=0.01, method="anytime")
    fixed = decide_absolute(x, paper=0.9, tolerance=0.01, method="t")
    assert v.method == "anytime confidence sequence"
    assert v.outcome == fixed.outcome == "matched"
    assert v.interval.width > fixed.interval.width  # the price of looking at any time
    sd = float(np.std(x, ddof=1))
    assert v.interval.high - np.mean(x) == pytest.approx(halfwidth_factor(10, alpha=0.1) * sd)
    assert math.isinf(
        decide_absolute([0.9], paper=0.9, tolerance=0.01, method="anytime").interval.width
    )


def test_a_comparative_claim_cannot_ask_for_it() -> None:
    from pytest_repro.stats import decide_comparative

    with pytest.raises(StatsError, match="not available for comparative claims"):
        decide_comparative([1, 2, 3], [0, 1, 2], paired=True, better="higher", method="anytime")
