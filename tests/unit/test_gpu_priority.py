"""Waiting GPU requests are served by rank: the longest expected run first, first come first
served without durations, and a better-ranked waiter that does not fit holds nobody up.
Real processes share the state files, as pytest-xdist workers and concurrent sessions do.
In each queue here one waiter has no expected duration, so the queue is served by rank, not
planned (``test_gpu_plan_live.py`` has the planned queue)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_repro.execution import gpu_files as files
from pytest_repro.execution.gpus import WAITING, GpuLeases

from .gpu_helpers import WAIT, child, leases, wait_for

GIB = 2**30


def queue_up(g: GpuLeases, tmp_path: Path, asks: list[tuple[str, float, str]]) -> list[str]:
    """Start one child per (name, memory GiB, expected) while the device is held, each once
    the one before it waits; release; the names in the order they got the device."""
    children = []
    with g.lease(1):
        for i, (name, memory, expected) in enumerate(asks):
            children.append(child(tmp_path, "1x80GiB", memory, 0.2, name, expected))
            wait_for(lambda n=i + 1: len(g.waiting()) == n, f"{name} waiting")
    assert [c.wait(timeout=WAIT) for c in children] == [0] * len(children)
    got = {name: json.loads((tmp_path / name).read_text())["at"] for name, _, _ in asks}
    return sorted(got, key=lambda name: got[name])


def test_waiters_in_other_processes_get_a_freed_device_longest_expected_first(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    asks = [("short", 0, "100"), ("long", 0, "300"), ("mid", 0, "200"), ("unknown", 0, "-")]
    order = queue_up(g, tmp_path, asks)
    assert order == ["long", "mid", "short", "unknown"]
    assert g.waiting() == [] and not list((g.lock_dir / WAITING).glob("*.json"))


def test_without_expected_durations_waiters_are_first_come_first_served(tmp_path: Path) -> None:
    g = leases(tmp_path)
    order = queue_up(g, tmp_path, [("first", 60, "-"), ("second", 50, "-"), ("third", 60, "-")])
    assert order == ["first", "second", "third"]


def test_a_later_request_expected_to_run_longer_overtakes_one_that_fits_the_same_room(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    order = queue_up(g, tmp_path, [("early", 60, "1"), ("longer", 60, "100"), ("unknown", 60, "-")])
    assert order == ["longer", "early", "unknown"]  # 60 + 60 GiB do not fit together


def test_a_smaller_run_is_not_held_up_by_a_better_ranked_waiter_that_does_not_fit(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    granted: list[str] = []

    def big() -> None:
        with g.lease(1, memory=40 * GIB, expected=1000.0, timeout=WAIT):
            granted.append("big")

    with g.lease(1, memory=60 * GIB):  # 20 GiB free: the big one waits
        waiter = threading.Thread(target=big)
        waiter.start()
        wait_for(lambda: len(g.waiting()) == 1, "the big request waiting")
        with g.lease(1, memory=10 * GIB, timeout=5) as small:
            assert small == ("0",) and granted == []
    waiter.join(timeout=WAIT)
    assert granted == ["big"]


def test_a_run_waits_for_its_planned_devices_lock_rather_than_open_another_device(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path, "2x80GiB")
    got: list[tuple[str, ...]] = []

    def packed() -> None:
        with g.lease(1, memory=20 * GIB, timeout=WAIT) as ids:
            got.append(ids)

    with g.lease(1, memory=20 * GIB) as first:  # best fit plans the next run beside it
        assert first == ("0",)
        with files.locked(g.lock_dir / "gpu-0.json"):  # another process rewriting device 0
            waiter = threading.Thread(target=packed)
            waiter.start()
            time.sleep(0.2)  # the waiter reaches device 0's lock meanwhile
        waiter.join(timeout=WAIT)
    assert got == [("0",)]  # it waited for device 0 and left device 1 empty


def test_a_dead_waiters_file_holds_nobody_up_and_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    folder = tmp_path / "locks" / WAITING
    folder.mkdir(parents=True)
    entry = {
        "token": "gone",
        "pid": int(dead.stdout),
        "count": 1,
        "memory": None,
        "devices": [["0", 80 * GIB]],
        "expected": 1e6,
        "since": time.time(),
        "seen": time.time(),
    }
    (folder / "gone.json").write_text(json.dumps(entry))
    g = leases(tmp_path)
    assert g.waiting() == []
    with g.lease(1, memory=20 * GIB, timeout=2) as got:  # alive, it would take the device first
        assert got == ("0",)
    assert not (folder / "gone.json").exists()


def test_a_request_leaves_no_waiting_file_when_served_or_when_it_gives_up(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    with g.lease(1, memory=50 * GIB):
        with pytest.raises(TimeoutError), g.lease(1, memory=40 * GIB, timeout=0.2):
            pass
        assert g.waiting() == []

        def later() -> None:
            with g.lease(1, memory=40 * GIB, expected=5.0, timeout=WAIT):
                pass

        waiter = threading.Thread(target=later)
        waiter.start()
        wait_for(lambda: len(g.waiting()) == 1, "the request waiting")
        assert g.waiting()[0]["expected"] == 5.0
    waiter.join(timeout=WAIT)
    assert g.waiting() == [] and not list((g.lock_dir / WAITING).glob("*"))


@pytest.mark.parametrize("expected", [-1.0, float("nan"), float("inf")])
def test_an_expected_duration_must_be_a_number_of_seconds(tmp_path: Path, expected: float) -> None:
    g = leases(tmp_path)
    wrong = "is not a number of seconds >= 0; pass None"
    with pytest.raises(ValueError, match=wrong), g.lease(1, memory=GIB, expected=expected):
        pass
