"""Holm keeps the chance of any false gap in a paper at 5%."""

from __future__ import annotations

import numpy as np

from pytest_repro.stats import decide_absolute
from pytest_repro.stats.multiplicity import absolute_test, adjust, benjamini_hochberg, holm, p_value


def _p(values: list[float]) -> float:
    t = absolute_test(values, paper=0.0, tolerance=1.0, better="higher")
    assert t is not None
    return p_value(t)


def test_the_p_value_flags_exactly_the_gaps_of_the_verdict() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        v = list(rng.normal(-1.2, 0.3, 4))
        assert (
            decide_absolute(v, paper=0.0, tolerance=1.0).outcome in ("gap", "disagreement")
        ) == (_p(v) < 0.05)


def test_holm_keeps_the_familywise_false_gap_rate_of_ten_edge_claims_at_5_percent() -> None:
    rng = np.random.default_rng(20240229)
    x = rng.normal(-1.0, 0.5, (1000, 10, 3))
    any_raw = any_holm = 0
    for rep in x:
        p = [_p(list(v)) for v in rep]
        any_raw += any(q <= 0.05 for q in p)
        any_holm += any(q <= 0.05 for q in holm(p))
    assert any_raw / len(x) > 0.3
    assert any_holm / len(x) <= 0.05


def test_adjusted_p_values_follow_the_textbook_definitions() -> None:
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert benjamini_hochberg([0.01, 0.04, 0.03]) == [0.03, 0.04, 0.04]
    assert adjust([0.2, 0.01], "none") == [0.2, 0.01]
