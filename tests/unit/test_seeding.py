"""Seeds: the same seed gives the same draws everywhere, and the mode is set every time."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from pytest_repro import seeding
from pytest_repro.seeding import (
    capture_rng_state,
    dataloader_seeding,
    deterministic_env,
    restore_rng_state,
    seed_everything,
    seed_worker,
)

ROOT = Path(__file__).resolve().parents[2]

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restore_global_state(monkeypatch: pytest.MonkeyPatch):
    """Leave the global generators and torch's determinism switches as we found them."""
    # setenv first so that monkeypatch restores (or removes) the variable afterwards,
    # whatever seed_everything sets in between; then start the test without it.
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", os.environ.get("CUBLAS_WORKSPACE_CONFIG", ""))
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG")
    state = capture_rng_state()
    yield
    restore_rng_state(state)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = False


def _draws(seeded: seeding.Seeded) -> tuple[object, ...]:
    assert seeded.torch is not None
    return (
        random.random(),
        np.random.random(3).tolist(),
        seeded.numpy.random(3).tolist(),
        torch.rand(3).tolist(),
        torch.rand(3, generator=seeded.torch).tolist(),
    )


def test_the_same_seed_gives_identical_draws_from_every_generator() -> None:
    first = _draws(seed_everything(7))
    second = _draws(seed_everything(7))
    assert first == second


def test_different_seeds_give_different_draws_from_every_generator() -> None:
    a = _draws(seed_everything(7))
    b = _draws(seed_everything(8))
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_the_report_names_the_generators_it_seeded_and_is_json() -> None:
    report = seed_everything(3).report
    assert report.seed == 3
    assert report.generators[:3] == ("python", "numpy", "torch")
    assert ("torch.cuda" in report.generators) == torch.cuda.is_available()
    assert json.loads(json.dumps(report.to_json()))["deterministic"] == "off"


def test_deterministic_on_is_applied_recorded_and_reset_by_off() -> None:
    on = seed_everything(1, deterministic="on").report
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.benchmark is False
    assert on.settings["torch.use_deterministic_algorithms"] is True
    assert on.settings["torch.backends.cudnn.deterministic"] is True
    assert on.settings["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"

    torch.backends.cudnn.benchmark = True  # a previous paper's leftovers in a reused worker
    off = seed_everything(1, deterministic="off").report
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic is False
    assert torch.backends.cudnn.benchmark is False
    assert off.settings["torch.use_deterministic_algorithms"] is False


def test_deterministic_warn_only_warns() -> None:
    report = seed_everything(1, deterministic="warn").report
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert report.settings["warn_only"] is True


def test_a_cublas_setting_chosen_by_the_user_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    report = seed_everything(1, deterministic="on").report
    assert report.settings["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    assert "CUBLAS_WORKSPACE_CONFIG" not in deterministic_env()


def test_torch_false_leaves_an_imported_torch_alone() -> None:
    torch.manual_seed(11)
    expected = torch.rand(2).tolist()
    torch.manual_seed(11)
    seeded = seed_everything(5, torch=False)
    assert seeded.torch is None
    assert torch.rand(2).tolist() == expected


class _Noisy(torch.utils.data.Dataset):  # type: ignore[misc]
    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int) -> tuple[int, float, float]:
        return index, float(np.random.random()), random.random()


def _epoch(seed: int) -> list[tuple[int, float, float]]:
    loader = torch.utils.data.DataLoader(
        _Noisy(), batch_size=3, shuffle=True, num_workers=2, **dataloader_seeding(seed)
    )
    rows: list[tuple[int, float, float]] = []
    for index, np_draw, py_draw in loader:
        rows.extend(zip(index.tolist(), np_draw.tolist(), py_draw.tolist(), strict=True))
    return rows


def test_dataloader_workers_repeat_order_and_draws_for_the_same_seed() -> None:
    first, second, other = _epoch(4), _epoch(4), _epoch(5)
    assert first == second
    assert [r[0] for r in first] != [r[0] for r in other]
    # each worker draws its own stream: no two batches repeat the same numpy draws
    assert len({r[1] for r in first}) == len(first)


def test_seed_worker_seeds_numpy_and_random_from_torch() -> None:
    torch.manual_seed(99)
    seed_worker(0)
    a = (np.random.random(), random.random())
    torch.manual_seed(99)
    seed_worker(0)
    assert (np.random.random(), random.random()) == a


def test_capture_and_restore_round_trip() -> None:
    seed_everything(21)
    state = capture_rng_state()
    before = (random.random(), np.random.random(), torch.rand(1).item())
    random.random(), np.random.random(4), torch.rand(5)  # consume more
    restore_rng_state(state)
    assert (random.random(), np.random.random(), torch.rand(1).item()) == before
