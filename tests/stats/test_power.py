"""The power table says how often a perfect reproduction is matched, and it is right."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_repro.stats import decide_absolute
from pytest_repro.stats.power import PowerInput, match_probability, power_lines, seeds_for


def test_the_power_of_one_claim_matches_the_simulated_matched_rate() -> None:
    c = PowerInput(name="c", paper=0.0, tolerance=1.0, n=3, sd=0.5, guarded=True)
    rng = np.random.default_rng(1)
    sims = rng.normal(0.0, 0.5, (1500, 3))
    rate = np.mean(
        [decide_absolute(list(v), paper=0.0, tolerance=1.0).outcome == "matched" for v in sims]
    )
    p = match_probability(c)
    assert p is not None
    assert abs(p - rate) < 4 * np.sqrt(p * (1 - p) / len(sims))


@pytest.mark.slow
def test_the_joint_power_of_a_ten_claim_paper_matches_the_simulated_pass_all_rate() -> None:
    c = PowerInput(name="c", paper=0.0, tolerance=1.0, n=5, sd=0.5, guarded=True)
    p = match_probability(c)
    assert p is not None
    joint = p**10
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 0.5, (1000, 10, 5))
    passed = np.mean(
        [
            all(
                decide_absolute(list(v), paper=0.0, tolerance=1.0).outcome == "matched" for v in rep
            )
            for rep in x
        ]
    )
    assert abs(passed - joint) < 4 * np.sqrt(joint * (1 - joint) / len(x))


def test_a_perfect_reproduction_at_three_seeds_passes_ten_edge_claims_rarely() -> None:
    lines = power_lines(
        [PowerInput(name=f"p::c{i}", paper=0.0, tolerance=1.0, n=3, sd=0.5) for i in range(10)]
    )
    assert (
        lines[-1]
        == "if the paper is right, all 10 claims are matched at these seeds 0.3% of the time"
    )


def test_seeds_for_an_assurance_is_the_fewest_that_reach_it() -> None:
    c = PowerInput(name="c", paper=0.0, tolerance=1.0, n=3, sd=0.5)
    n = seeds_for(c)
    assert n is not None
    assert match_probability(c, n) >= 0.8 > match_probability(c, n - 1)  # type: ignore[operator]
    assert seeds_for(c, rule="anytime") > n  # type: ignore[operator]


def test_an_unknown_spread_has_no_power_figure() -> None:
    c = PowerInput(name="p::c", paper=0.0, tolerance=1.0, n=1, sd=None, sd_source="none")
    assert match_probability(c) is None
    assert power_lines([c])[-1].endswith("unknown (a spread is unknown)")
