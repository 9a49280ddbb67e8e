"""Bootstrap intervals: reproducible from the generator, and correct where they are offered."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from pytest_repro.stats import DEFAULT_SEED, decide_absolute, decide_comparative
from pytest_repro.stats import bootstrap as boot

VALUES = [0.912, 0.905, 0.921, 0.899, 0.915, 0.908, 0.917, 0.903]
EXAMPLES = [(np.random.default_rng(i).random(400) < 0.9).astype(float).tolist() for i in range(10)]
MANY = list(np.random.default_rng(42).normal(0.9, 0.01, 24))


def absolute(method: str, rng: np.random.Generator | None) -> tuple[float, float, float, float]:
    kwargs: dict[str, object] = {"method": method, "rng": rng}
    values = VALUES
    if method == "hierarchical":
        kwargs["examples"] = EXAMPLES
        values = [float(np.mean(e)) for e in EXAMPLES]
    elif method == "bca":
        values = MANY
    v = decide_absolute(values, paper=0.91, tolerance=0.02, **kwargs)  # type: ignore[arg-type]
    return v.interval.low, v.interval.high, v.shown.low, v.shown.high


@pytest.mark.parametrize("method", ["bootstrap-t", "bca", "hierarchical"])
def test_the_same_generator_seed_gives_the_identical_interval(method: str) -> None:
    first = absolute(method, np.random.default_rng(123))
    second = absolute(method, np.random.default_rng(123))
    assert first == second


@pytest.mark.parametrize("method", ["bootstrap-t", "bca", "hierarchical"])
def test_different_generator_seeds_give_different_intervals(method: str) -> None:
    assert absolute(method, np.random.default_rng(1)) != absolute(method, np.random.default_rng(2))


@pytest.mark.parametrize("method", ["bootstrap-t", "bca", "hierarchical"])
def test_no_generator_means_the_documented_default_seed(method: str) -> None:
    assert absolute(method, None) == absolute(method, None)
    assert absolute(method, None) == absolute(method, np.random.default_rng(DEFAULT_SEED))


@pytest.mark.parametrize("method", ["bootstrap-t", "bca"])
def test_comparative_bootstrap_is_reproducible(method: str) -> None:
    rng = np.random.default_rng(9)
    a, b = list(rng.normal(1.0, 0.1, 20)), list(rng.normal(0.9, 0.1, 20))
    for paired in (True, False):
        runs = [
            decide_comparative(
                a,
                b,
                paired=paired,
                better="higher",
                method=method,  # type: ignore[arg-type]
                rng=np.random.default_rng(5),
            ).interval
            for _ in range(2)
        ]
        assert runs[0] == runs[1]


def test_bca_agrees_with_scipy() -> None:
    data = np.random.default_rng(7).gamma(2.0, 1.0, 30)
    _, low, high = boot.bca(data, [0.90], rng=np.random.default_rng(1), resamples=9999)
    ref = sps.bootstrap(
        (data,),
        np.mean,
        confidence_level=0.90,
        method="BCa",
        n_resamples=9999,
        rng=np.random.default_rng(2),
    ).confidence_interval
    width = ref.high - ref.low
    assert float(low[0, 0]) == pytest.approx(ref.low, abs=0.03 * width)
    assert float(high[0, 0]) == pytest.approx(ref.high, abs=0.03 * width)


def test_bca_of_the_median_agrees_with_scipy() -> None:
    data = np.random.default_rng(8).normal(0.0, 1.0, 41)
    _, low, high = boot.bca(
        data, [0.90], rng=np.random.default_rng(1), resamples=9999, statistic="median"
    )
    ref = sps.bootstrap(
        (data,),
        np.median,
        confidence_level=0.90,
        method="BCa",
        n_resamples=9999,
        rng=np.random.default_rng(2),
    ).confidence_interval
    width = ref.high - ref.low
    assert float(low[0, 0]) == pytest.approx(ref.low, abs=0.06 * width)
    assert float(high[0, 0]) == pytest.approx(ref.high, abs=0.06 * width)


def test_percentile_bootstrap_agrees_with_scipy() -> None:
    data = np.random.default_rng(9).normal(0.0, 1.0, 15)
    _, low, high = boot.percentile(data, [0.95], rng=np.random.default_rng(1), resamples=9999)
    ref = sps.bootstrap(
        (data,),
        np.mean,
        confidence_level=0.95,
        method="percentile",
        n_resamples=9999,
        rng=np.random.default_rng(2),
    ).confidence_interval
    width = ref.high - ref.low
    assert float(low[0, 0]) == pytest.approx(ref.low, abs=0.03 * width)
    assert float(high[0, 0]) == pytest.approx(ref.high, abs=0.03 * width)


def test_bootstrap_t_is_close_to_student_t_for_normal_values() -> None:
    data = np.random.default_rng(10).normal(0.0, 1.0, 40)
    _, low, high = boot.bootstrap_t(data, [0.90], rng=np.random.default_rng(1), resamples=9999)
    ref = sps.t.interval(0.90, 39, loc=data.mean(), scale=sps.sem(data))
    width = ref[1] - ref[0]
    assert float(low[0, 0]) == pytest.approx(ref[0], abs=0.08 * width)
    assert float(high[0, 0]) == pytest.approx(ref[1], abs=0.08 * width)


def test_bootstrap_intervals_nest_across_levels() -> None:
    data = np.random.default_rng(11).normal(0.0, 1.0, (3, 25))
    for fn in (boot.bca, boot.percentile):
        _, low, high = fn(data, [0.90, 0.95], rng=np.random.default_rng(1), resamples=999)
        assert np.all(low[1] <= low[0])
        assert np.all(high[0] <= high[1])
    _, low, high = boot.bootstrap_t(data, [0.90, 0.95], rng=np.random.default_rng(1))
    assert np.all(low[1] <= low[0])
    assert np.all(high[0] <= high[1])


def test_batched_rows_are_independent_datasets() -> None:
    rows = np.random.default_rng(12).normal(0.0, 1.0, (4, 10))
    est, low, high = boot.bca(rows, [0.9], rng=np.random.default_rng(1), resamples=499)
    assert est.shape == (4,)
    assert low.shape == high.shape == (1, 4)
    assert np.all(low[0] < est)
    assert np.all(est < high[0])


def test_hierarchical_estimate_is_the_mean_of_per_seed_means() -> None:
    examples = [[1.0, 0.0, 1.0, 1.0], [1.0, 1.0], [0.0, 1.0, 1.0]]
    est, low, high = boot.hierarchical(examples, [0.9], rng=np.random.default_rng(1))
    assert float(est[0]) == pytest.approx(np.mean([0.75, 1.0, 2 / 3]))
    assert float(low[0, 0]) <= float(est[0]) <= float(high[0, 0])


def test_hierarchical_bootstrap_handles_continuous_per_example_values() -> None:
    rng = np.random.default_rng(13)
    examples = [rng.exponential(1.0, 300) for _ in range(10)]
    assert boot.hierarchical_resamples(examples) == 1999
    est, low, high = boot.hierarchical(examples, [0.9], rng=np.random.default_rng(1))
    assert float(low[0, 0]) < float(est[0]) < float(high[0, 0])


def test_hierarchical_width_includes_the_finite_test_set() -> None:
    # Seeds identical in accuracy: the whole width comes from resampling examples.
    examples = [[1.0] * 90 + [0.0] * 10] * 10
    _, low, high = boot.hierarchical(examples, [0.95], rng=np.random.default_rng(1))
    binomial_se = np.sqrt(0.9 * 0.1 / 100 / 10)
    z = -float(sps.norm.ppf(boot.expanded_tail(0.95, 10)))  # expanded for 10 seeds: 2.38
    assert float(high[0, 0] - low[0, 0]) == pytest.approx(2 * z * binomial_se, rel=0.1)


def test_the_expanded_percentile_widens_for_few_seeds_and_fades_with_many() -> None:
    assert boot.expanded_tail(0.95, 5) < boot.expanded_tail(0.95, 20) < 0.025
    assert boot.expanded_tail(0.95, 10_000) == pytest.approx(0.025, rel=1e-3)
