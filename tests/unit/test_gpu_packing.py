"""GPU leases by memory: small runs pack onto one device, never over-commit it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_repro.execution.gpus import Device, GpuLeases, fake_inventory, inventory, select

from .gpu_helpers import over_commits

GIB = 2**30


def leases(tmp_path: Path, text: str = "2x80GiB") -> GpuLeases:
    return GpuLeases(tmp_path, devices=fake_inventory(text), poll=0.01)


def test_a_fake_inventory_is_read_in_either_form() -> None:
    assert fake_inventory("2x80GiB") == (Device("0", 80 * GIB), Device("1", 80 * GIB))
    assert fake_inventory("3:40GiB, 5:80GiB") == (Device("3", 40 * GIB), Device("5", 80 * GIB))
    with pytest.raises(ValueError, match="is not ID:SIZE"):
        fake_inventory("0:lots")


def test_the_environment_stands_in_for_the_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_REPRO_FAKE_GPUS", "4x24GiB")
    assert [d.id for d in inventory()] == ["0", "1", "2", "3"]


def test_gpus_picks_by_position_and_says_what_is_wrong() -> None:
    devices = fake_inventory("4x24GiB")
    assert [d.id for d in select(devices, "0,3")] == ["0", "3"]
    assert select(devices, "none") == ()
    with pytest.raises(ValueError, match="there is no device 4: 4 are visible"):
        select(devices, "4")
    with pytest.raises(ValueError, match="is not a device position"):
        select(devices, "0,x")


def test_small_runs_pack_onto_one_device_and_a_whole_run_gets_the_other(tmp_path: Path) -> None:
    g = leases(tmp_path)
    with (
        g.lease(1, memory=20 * GIB) as a,
        g.lease(1, memory=20 * GIB) as b,
        g.lease(1, memory=40 * GIB) as c,
    ):
        assert a == b == c  # best fit: the same device until it is full
        with g.lease(1) as whole:
            assert whole != a
            with pytest.raises(TimeoutError), g.lease(1, memory=1 * GIB, timeout=0.05):
                pass  # device a is full (80 of 80 GiB), device b is held whole
        used = {d: sum(h["bytes"] for h in hs) for d, hs in g.holders().items()}
        assert g.holders(a[0]) == {a[0]: g.holders()[a[0]]}  # one device's leases alone
        assert used[a[0]] == 80 * GIB
    assert all(not hs for hs in g.holders().values())


def test_a_request_no_device_can_hold_is_refused_with_the_fix(tmp_path: Path) -> None:
    g = leases(tmp_path, "2x24GiB")
    expected = re.escape("the largest visible device has 24.0 GiB; lower run.resources.gpu_memory")
    with pytest.raises(RuntimeError, match=expected), g.lease(1, memory=40 * GIB):
        pass


def test_a_dead_sessions_lease_is_dropped(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "gpu-0.json").write_text(
        json.dumps([{"token": "x", "pid": int(dead.stdout), "whole": True, "bytes": 80 * GIB}])
    )
    g = leases(tmp_path, "1x80GiB")
    with g.lease(1, timeout=1) as got:
        assert got == ("0",)


def test_concurrent_holders_never_over_commit_a_device(tmp_path: Path) -> None:
    g = leases(tmp_path, "2x80GiB")

    def run(memory: int | None) -> None:
        with g.lease(1, memory=memory):
            time.sleep(0.02)

    sizes = [30 * GIB, 50 * GIB, None, 20 * GIB, 60 * GIB, None, 10 * GIB, 40 * GIB] * 2
    threads = [threading.Thread(target=run, args=(m,)) for m in sizes]
    with over_commits(g, 80 * GIB) as over:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert over == []


def test_a_request_that_loses_a_race_for_room_looks_again_without_waiting_a_poll(
    tmp_path: Path,
) -> None:
    # Best fit sends all sixteen to the same device first; fifteen lose that race. Room for
    # all is there (8 x 10 GiB on each of two devices), so no loser has cause to sleep a
    # poll: each looks again at once and takes what is left.
    g = GpuLeases(tmp_path, devices=fake_inventory("2x80GiB"), poll=30.0)
    go = threading.Event()
    done = threading.Barrier(17)
    granted: list[tuple[str, float]] = []

    def run() -> None:
        go.wait()
        with g.lease(1, memory=10 * GIB, timeout=60) as ids:
            granted.append((ids[0], time.monotonic()))
            done.wait(timeout=60)  # everyone holds at once: sixteen leases, no sharing of turns

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    began = time.monotonic()
    go.set()
    done.wait(timeout=60)
    for t in threads:
        t.join()
    assert sorted(d for d, _ in granted) == ["0"] * 8 + ["1"] * 8
    assert max(at for _, at in granted) - began < 15.0  # half the 30 s poll: nobody slept one
