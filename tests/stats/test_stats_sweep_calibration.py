"""The sweep rules keep false matched at or below 5% at their boundaries, and match a
stated truth as often as ``docs/statistics-sweeps.md`` says; measured by fixed-seed
simulation (the settings are the constants of ``pytest_repro.stats.simulate_sweep``)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_repro.stats.rules import MATCHED, OUTCOME_CODES
from pytest_repro.stats.simulate_sweep import (
    KINDS,
    PEAK_TRUTH,
    Shape,
    boundary_and_truth,
    location_coverage,
    sweep_values,
    trend_sim,
)
from pytest_repro.stats.trend import decide_trend

REPS = 4000  # binomial sd at .05: about .0035
#: Matched at the stated truth, normal seeds, at least (the table measures a few points
#: above each, with 20,000 reproductions).
MATCHED_AT_TRUTH = {
    ("trend", 3): 0.13, ("trend", 5): 0.74, ("trend", 10): 0.99,
    ("slope", 3): 0.88, ("slope", 5): 0.99, ("slope", 10): 0.99,
    ("peak", 3): 0.17, ("peak", 5): 0.62, ("peak", 10): 0.96,
    ("curve", 3): 0.80, ("curve", 5): 0.99, ("curve", 10): 0.99,
}  # fmt: skip
#: What the docs report for seeds that are not normal, as upper bounds on false matched.
FALSE_MATCHED_BOUND = {"normal": 0.056, "t3": 0.056, "skewed": 0.056}
#: Curves decide each point on its own seeds' mean, so a skew shared by every seed is not
#: cancelled by pairing: the absolute rule's 0.12-0.17 at the band edge (docs).
SKEWED_CURVE_BOUND = 0.20


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("kind", KINDS)
def test_false_matched_at_the_boundary_is_at_most_five_percent(kind: str, n: int) -> None:
    boundary, _ = boundary_and_truth(
        kind, n=n, reps=REPS, shape="normal", rng=np.random.default_rng(1000 + n)
    )
    assert float((boundary == MATCHED).mean()) <= 0.06


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("kind", KINDS)
def test_a_true_claim_is_matched_as_often_as_the_docs_say(kind: str, n: int) -> None:
    _, truth = boundary_and_truth(
        kind, n=n, reps=REPS, shape="normal", rng=np.random.default_rng(7 + n)
    )
    assert float((truth == MATCHED).mean()) >= MATCHED_AT_TRUTH[kind, n]
    assert float((truth == OUTCOME_CODES.index("disagreement")).mean()) <= 0.01


def test_the_simulation_is_controlled_by_its_generator() -> None:
    def run(seed: int) -> np.ndarray:
        b, t = boundary_and_truth(
            "peak", n=3, reps=300, shape="t3", rng=np.random.default_rng(seed)
        )
        return np.concatenate([b, t])

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_the_trend_rule_on_one_claim_is_the_simulated_rule() -> None:
    mu = np.array([0.0, 1.0, 2.0, 2.2])
    v = sweep_values(mu, n=4, reps=200, sd=1.0, shape="normal", rng=np.random.default_rng(3))
    sim = trend_sim(mu, margin=0.0, n=4, reps=200, shape="normal", rng=np.random.default_rng(3))
    one = [decide_trend([0, 1, 2, 3], v[i], direction="increasing").outcome for i in range(200)]
    assert one == [OUTCOME_CODES[c] for c in sim]
    assert len(set(one)) > 1


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["normal", "t3", "skewed"])
@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("kind", KINDS)
def test_false_matched_with_many_reproductions_and_real_seed_shapes(
    kind: str, n: int, shape: Shape
) -> None:
    boundary, _ = boundary_and_truth(
        kind, n=n, reps=40_000, shape=shape, rng=np.random.default_rng(5000 + n)
    )
    rate = float((boundary == MATCHED).mean())
    if kind == "curve" and shape == "skewed":
        assert 0.08 < rate <= SKEWED_CURVE_BOUND  # documented: above 5%, and why
    else:
        assert rate <= FALSE_MATCHED_BOUND[shape]


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["normal", "t3", "skewed"])
def test_the_peak_location_interval_holds_a_clear_peak(shape: Shape) -> None:
    cov = location_coverage(PEAK_TRUTH, n=5, reps=300, shape=shape, rng=np.random.default_rng(4))
    assert cov >= 0.9
