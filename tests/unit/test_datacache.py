"""Warm data in a worker: a cached load changes nothing a run computes."""

from __future__ import annotations

import random

import numpy as np

from pytest_repro.execution.datacache import DataCache
from pytest_repro.seeding import seed_everything

SOURCE = {"name": "x", "kind": "python", "target": "data:make", "args": {}}


def loader(calls: list[int]):  # type: ignore[no-untyped-def]
    """A loader that draws from the global generators, as real ones sometimes do."""

    def load():  # type: ignore[no-untyped-def]
        calls.append(1)
        return {"x": np.random.normal(size=4), "r": random.random()}, {"sha": "abc"}

    return load


def run(cache: DataCache, seed: int, calls: list[int]) -> tuple[dict[str, object], float, bool]:
    seed_everything(seed, torch=False)
    key = cache.key(SOURCE, "/papers/p")
    value, _, hit = cache.load(key, loader(calls))
    return value, float(np.random.random()), hit  # the run's next draw after loading


def test_a_hit_gives_the_same_data_and_the_same_draws_afterwards() -> None:
    calls: list[int] = []
    cold = DataCache(max_entries=0)  # keeps nothing: every load is fresh
    expected_value, expected_next, _ = run(cold, 7, calls)
    warm = DataCache()
    first = run(warm, 7, calls)
    second = run(warm, 7, calls)
    assert (first[2], second[2]) == (False, True)
    assert len(calls) == 2  # the cold run and the warm cache's first load; the hit loaded nothing
    for value, following, _ in (first, second):
        assert np.array_equal(value["x"], expected_value["x"])
        assert value["r"] == expected_value["r"]
        assert following == expected_next


def test_another_seed_loads_afresh() -> None:
    calls: list[int] = []
    cache = DataCache()
    a, _, _ = run(cache, 1, calls)
    b, _, hit = run(cache, 2, calls)
    assert not hit and len(calls) == 2
    assert not np.array_equal(a["x"], b["x"])


def test_a_run_that_changes_its_data_does_not_change_the_next_runs() -> None:
    calls: list[int] = []
    cache = DataCache()
    value, _, _ = run(cache, 3, calls)
    original = value["x"].copy()
    value["x"][:] = 0.0
    again, _, hit = run(cache, 3, calls)
    assert hit and np.array_equal(again["x"], original)


def test_hugging_face_sources_are_not_kept() -> None:
    assert DataCache.key({"name": "d", "kind": "hf"}, "/p") is None
    calls: list[int] = []
    cache = DataCache()
    seed_everything(0, torch=False)
    cache.load(None, loader(calls))
    seed_everything(0, torch=False)
    _, _, hit = cache.load(None, loader(calls))
    assert not hit and len(calls) == 2


def test_a_hit_holds_with_torch_loaded_and_restores_torchs_draws() -> None:
    import pytest

    torch = pytest.importorskip("torch")
    calls: list[int] = []
    cache = DataCache()

    def once() -> tuple[bool, float]:
        seed_everything(5, torch=True)
        _, _, hit = cache.load(cache.key(SOURCE, "/p"), loader(calls))
        return hit, float(torch.rand(1))

    first, second = once(), once()
    assert (first[0], second[0]) == (False, True)
    assert first[1] == second[1]
