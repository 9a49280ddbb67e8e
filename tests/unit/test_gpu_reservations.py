"""A waiting whole-device request reserves a device: packed runs stop landing on it, it
drains, and the request gets it; the reservation is honoured by other processes and
dropped when its request dies, gives up or is served. Real processes share the state files,
as pytest-xdist workers and concurrent sessions do."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pytest_repro.execution.gpus import STALE_RESERVATION, GpuLeases, fake_inventory

from .gpu_helpers import WAIT, child, leases, over_commits, wait_for

GIB = 2**30


def reserved(g: GpuLeases) -> list[str]:
    return [device for device, entries in g.reservations().items() if entries]


def test_a_whole_device_request_from_another_process_reserves_the_device_and_gets_it(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    with g.lease(1, memory=20 * GIB) as packed:
        waiter = child(tmp_path, "1x80GiB", 0, 0.3, "whole.json")
        wait_for(lambda: reserved(g) == ["0"], "the other process's reservation")
        # 60 GiB are free, but the device is draining for the whole-device request
        with pytest.raises(TimeoutError), g.lease(1, memory=10 * GIB, timeout=0.2):
            pass
        assert packed == ("0",)
        released = time.time()
    assert waiter.wait(timeout=WAIT) == 0
    note = json.loads((tmp_path / "whole.json").read_text())
    assert note["ids"] == ["0"] and note["at"] >= released
    assert reserved(g) == []  # served, so dropped
    with g.lease(1, memory=10 * GIB, timeout=1) as again:
        assert again == ("0",)


def test_a_packed_request_from_another_process_waits_behind_a_reservation(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    times: dict[str, float] = {}

    def whole() -> None:
        with g.lease(1, timeout=WAIT):
            times["whole got"] = time.time()
            time.sleep(0.3)
            times["whole released"] = time.time()

    with g.lease(1, memory=40 * GIB):
        waiter = threading.Thread(target=whole)
        waiter.start()
        wait_for(lambda: reserved(g) == ["0"], "the reservation")
        packed = child(tmp_path, "1x80GiB", 10, 0, "packed.json")
        time.sleep(0.5)
        assert not (tmp_path / "packed.json").exists()  # 40 GiB free, but reserved
    assert packed.wait(timeout=WAIT) == 0
    waiter.join(timeout=WAIT)
    # the whole-device request got the drained device first, the packed one after it
    assert json.loads((tmp_path / "packed.json").read_text())["at"] >= times["whole released"]


def test_a_dead_processs_reservation_is_dropped(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "locks").mkdir()
    now = time.time()
    entry = {"token": "x", "pid": int(dead.stdout), "reserve": True, "since": now, "seen": now}
    (tmp_path / "locks" / "gpu-0.json").write_text(json.dumps([{**entry, "bytes": 0}]))
    g = leases(tmp_path)
    assert reserved(g) == []
    with g.lease(1, memory=20 * GIB, timeout=1) as got:
        assert got == ("0",)


def test_a_killed_reserver_stops_blocking_packed_runs(tmp_path: Path) -> None:
    g = leases(tmp_path)
    with g.lease(1, memory=20 * GIB):
        waiter = child(tmp_path, "1x80GiB", 0, 0, "never.json")
        wait_for(lambda: reserved(g) == ["0"], "the other process's reservation")
        waiter.kill()
        waiter.wait(timeout=WAIT)
        with g.lease(1, memory=20 * GIB, timeout=5) as got:
            assert got == ("0",)
    assert not (tmp_path / "never.json").exists()


def test_a_reservation_nobody_renews_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    old = time.time() - STALE_RESERVATION - 1
    entry = {"token": "x", "pid": 1, "reserve": True, "since": old, "seen": old, "bytes": 0}
    (tmp_path / "locks" / "gpu-0.json").write_text(json.dumps([entry]))
    g = leases(tmp_path)
    with g.lease(1, memory=20 * GIB, timeout=1) as got:
        assert got == ("0",)


def test_a_request_that_gives_up_drops_its_reservation(tmp_path: Path) -> None:
    g = leases(tmp_path)
    with g.lease(1, memory=20 * GIB):
        with pytest.raises(TimeoutError), g.lease(1, timeout=0.2):
            pass
        assert reserved(g) == []
        with g.lease(1, memory=20 * GIB, timeout=1) as got:
            assert got == ("0",)


def test_reservations_cover_at_most_half_the_devices_so_packed_runs_still_land(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path, "4x80GiB")
    with contextlib.ExitStack() as stack:
        busy = {stack.enter_context(g.lease(1, memory=50 * GIB))[0] for _ in range(4)}
        assert len(busy) == 4  # every device holds a packed run; four whole requests wait
        outcomes: list[str] = []
        waiters = [threading.Thread(target=_give_up, args=(g, 1.5, outcomes)) for _ in range(4)]
        for t in waiters:
            t.start()
        wait_for(lambda: len(reserved(g)) == 2, "two reservations")
        time.sleep(0.2)
        assert len(reserved(g)) == 2  # not more: half of four
        with g.lease(1, memory=10 * GIB, timeout=1) as packed:
            assert packed[0] not in reserved(g)
        for t in waiters:
            t.join()
        assert outcomes == ["gave up"] * 4
    assert reserved(g) == []


def _give_up(g: GpuLeases, timeout: float, outcomes: list[str]) -> None:
    try:
        with g.lease(1, timeout=timeout):
            outcomes.append("got it")
    except TimeoutError:
        outcomes.append("gave up")


def test_packed_runs_still_pack_best_fit_beside_a_reservation(tmp_path: Path) -> None:
    g = leases(tmp_path, "3x80GiB")
    with (
        g.lease(1, memory=40 * GIB) as x,
        g.lease(1, memory=20 * GIB) as x_again,
        g.lease(1, memory=50 * GIB) as y,
        g.lease(1) as z,
    ):
        assert x == x_again and len({x, y, z}) == 3
        outcomes: list[str] = []
        waiter = threading.Thread(target=_give_up, args=(g, 1.0, outcomes))
        waiter.start()
        # the device with the least leased (50 GiB, against 60) drains for the waiter
        wait_for(lambda: reserved(g) == list(y), "the reservation")
        with g.lease(1, memory=20 * GIB, timeout=0.5) as packed:
            assert packed == x  # best fit: the fullest device that still fits
            with pytest.raises(TimeoutError), g.lease(1, memory=10 * GIB, timeout=0.2):
                pass  # x is full, z held whole, y reserved (30 GiB free there)
        waiter.join()
        assert outcomes == ["gave up"]


def test_two_multi_device_requests_do_not_lock_each_other_out(tmp_path: Path) -> None:
    g = leases(tmp_path, "2x80GiB")
    done: list[tuple[str, ...]] = []

    def pair() -> None:
        with g.lease(2, timeout=WAIT) as ids:
            done.append(ids)
            time.sleep(0.05)

    with g.lease(1, memory=10 * GIB):
        threads = [threading.Thread(target=pair) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.3)
    for t in threads:
        t.join()
    assert done == [("0", "1"), ("0", "1")]


def test_multi_device_and_packed_requests_racing_together_all_end_without_over_commit(
    tmp_path: Path,
) -> None:
    """Pairs and single devices, whole and packed, all asking at once: claims of several
    devices are undone and tried again at once when they lose a race, and every request
    still ends, none over-committing a device."""
    g = GpuLeases(tmp_path, devices=fake_inventory("4x80GiB"), poll=0.005)
    go = threading.Event()
    ended: list[tuple[int, ...]] = []
    asks = [(2, None), (1, 40), (2, None), (1, None), (1, 20), (2, None), (1, 60), (1, 10)] * 3

    def run(count: int, gib: int | None) -> None:
        go.wait()
        memory = None if gib is None else gib * GIB
        with g.lease(count, memory=memory, timeout=WAIT) as ids:
            assert len(set(ids)) == count
            time.sleep(0.01)
        ended.append((count, gib or 0))

    threads = [threading.Thread(target=run, args=ask) for ask in asks]
    with over_commits(g, 80 * GIB) as over:
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(timeout=2 * WAIT)
    assert not any(t.is_alive() for t in threads)
    assert sorted(ended) == sorted((c, m or 0) for c, m in asks)
    assert over == []
    assert all(not hs for hs in g.holders().values())
    assert reserved(g) == [] and g.waiting() == []


@pytest.mark.parametrize("estimates", [False, True], ids=["no-estimates", "estimates"])
def test_twenty_concurrent_mixed_leases_in_four_processes_never_over_commit(
    tmp_path: Path, estimates: bool
) -> None:
    """Whole and packed leases from four processes, first come first served or ranked by
    their expected seconds: no device is ever over-committed and every lease ends."""
    g = leases(tmp_path, "2x80GiB")
    g.lock_dir.mkdir(parents=True)
    script = textwrap.dedent(
        """
        import random, sys, threading, time
        from pathlib import Path
        from pytest_repro.execution.gpus import GpuLeases, fake_inventory

        leases = GpuLeases(Path(sys.argv[1]), devices=fake_inventory("2x80GiB"), poll=0.005)
        rng = random.Random(sys.argv[2])
        choices = [None, 0.01, 0.03, 0.05] if sys.argv[3] == "1" else [None]

        def run(gib):
            expected = rng.choice(choices)
            with leases.lease(1, memory=gib * 2**30 or None, expected=expected, timeout=60):
                time.sleep(0.03)

        threads = [threading.Thread(target=run, args=(int(g),)) for g in sys.argv[4:]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """
    )
    mixes = [["30", "0", "50", "20", "60"], ["0", "10", "40", "0", "70"]] * 2
    flag = "1" if estimates else "0"
    with over_commits(g, 80 * GIB) as over:
        processes = [
            subprocess.Popen([sys.executable, "-c", script, str(g.lock_dir), str(i), flag, *mix])
            for i, mix in enumerate(mixes)
        ]
        codes = [p.wait(timeout=120) for p in processes]
    assert codes == [0, 0, 0, 0]
    assert over == []
    assert all(not hs for hs in g.holders().values())
    assert reserved(g) == [] and g.waiting() == []
