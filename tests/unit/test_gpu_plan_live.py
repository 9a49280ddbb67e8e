"""A GPU queue whose durations are all known is planned, and the plan is followed by real
processes sharing the state files, as pytest-xdist workers and concurrent sessions do."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

from pytest_repro.execution import gpu_plan as gp
from pytest_repro.execution.gpus import PLAN, GpuLeases
from pytest_repro.execution.gpus import fake_inventory as g_devices

from .gpu_helpers import WAIT, child, leases, over_commits, wait_for

GIB = 2**30


def plan_of(g: GpuLeases) -> dict[str, tuple[float, tuple[str, ...]]]:
    try:
        return gp.loaded(json.loads((g.lock_dir / PLAN).read_text()))
    except FileNotFoundError:
        return {}


def test_of_two_runs_with_the_same_makespan_the_planned_queue_starts_the_shorter_first(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    children = []
    with g.lease(1, expected=30.0):  # a lease with an expected end: the queue is planned
        for i, (name, expected) in enumerate([("long", "100"), ("short", "1")]):
            children.append(child(tmp_path, "1x80GiB", 0, 0.2, name, expected))
            wait_for(lambda n=i + 1: len(g.waiting()) == n, f"{name} waiting")
        wait_for(lambda: len(plan_of(g)) == 2, "a plan of both waiters")
        planned = sorted(plan_of(g).values())
        assert planned[0][0] > time.time() + 20  # after the lease's expected end, 30 s away
    assert [c.wait(timeout=WAIT) for c in children] == [0, 0]
    got = {n: json.loads((tmp_path / n).read_text())["at"] for n in ("long", "short")}
    assert got["short"] < got["long"]  # by rank alone the longer would go first


def test_a_burst_of_processes_follows_the_plan_and_never_over_commits_a_device(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path, "2x80GiB")
    asks = [(0, 0.4), (20, 0.3), (40, 0.5), (60, 0.3), (20, 0.6), (0, 0.3), (40, 0.4), (10, 0.5)]
    with over_commits(g, 80 * GIB) as over:
        children = [
            child(tmp_path, "2x80GiB", memory, hold, f"run{i}", str(hold))
            for i, (memory, hold) in enumerate(asks)
        ]
        assert [c.wait(timeout=WAIT) for c in children] == [0] * len(asks)
    assert over == []
    assert plan_of(g)  # the waiters were planned
    assert g.waiting() == [] and all(not held for held in g.holders().values())


def test_a_lease_that_overruns_its_estimate_gets_the_queue_planned_again(
    tmp_path: Path,
) -> None:
    g = leases(tmp_path)
    with g.lease(1, expected=0.1):  # expected to end in 0.1 s, held longer
        waiter = child(tmp_path, "1x80GiB", 0, 0.1, "waiter", "2")
        wait_for(lambda: len(plan_of(g)) == 1, "a plan of the waiter")
        first = next(iter(plan_of(g).values()))[0]
        # late by a tenth of its 2 s past its planned start: planned again, later
        wait_for(lambda: next(iter(plan_of(g).values()))[0] > first + 0.1, "a later plan")
        assert waiter.poll() is None
    assert waiter.wait(timeout=WAIT) == 0


def test_a_whole_device_request_in_a_planned_queue_reserves_nothing(tmp_path: Path) -> None:
    g = leases(tmp_path, "2x80GiB")
    with g.lease(1, memory=70 * GIB, expected=5.0), g.lease(1, memory=70 * GIB, expected=5.0):
        waiter = child(tmp_path, "2x80GiB", 0, 0.1, "whole", "1")
        wait_for(lambda: len(plan_of(g)) == 1, "a plan of the whole-device waiter")
        time.sleep(0.2)  # a waiter by rank would have reserved a device by now
        assert all(not r for r in g.reservations().values())
        assert waiter.poll() is None  # still waiting: no device is empty
    assert waiter.wait(timeout=WAIT) == 0


def _granted_in_order(g: GpuLeases, asks: list[tuple[str, float]], gap: float) -> list[str]:
    """Each ask (name, expected seconds) a thread with leases of its own, asking ``gap``
    seconds after the one before and holding 0.2 s: the names in the order granted."""
    order: list[str] = []

    def run(name: str, expected: float) -> None:
        mine = GpuLeases(g.lock_dir, devices=g.devices, poll=g.poll)
        with mine.lease(1, expected=expected):
            order.append(name)
            time.sleep(0.2)

    threads = []
    for name, expected in asks:
        threads.append(threading.Thread(target=run, args=(name, expected)))
        threads[-1].start()
        time.sleep(gap)
    for t in threads:
        t.join(timeout=WAIT)
    assert not any(t.is_alive() for t in threads)
    return order


def test_long_runs_that_arrive_together_wait_for_the_plan_instead_of_claiming_as_they_arrive(
    tmp_path: Path,
) -> None:
    g = GpuLeases(tmp_path / "locks", devices=g_devices("1x80GiB"), poll=0.1)
    # runs of 20 and 5 minutes: the longer asks first, the shorter 10 ms later. Claiming as
    # it arrives, the longer would take the empty device; the plan starts the shorter first
    order = _granted_in_order(g, [("long", 1200.0), ("short", 300.0)], gap=0.01)
    assert order == ["short", "long"]


def test_short_runs_and_queues_with_an_unknown_duration_claim_as_they_arrive(
    tmp_path: Path,
) -> None:
    g = GpuLeases(tmp_path / "locks", devices=g_devices("2x80GiB"), poll=0.1)
    # a 10-second run waits for no plan: the one that asks first gets the device
    assert _granted_in_order(g, [("first", 10.0), ("second", 5.0)], gap=0.01)[0] == "first"
    assert plan_of(g) == {}
    with g.lease(1):  # a lease of unknown duration: the queue cannot be planned
        assert _granted_in_order(g, [("long", 1200.0)], gap=0.0) == ["long"]
    assert plan_of(g) == {}


def test_a_queue_of_long_runs_is_planned_again_when_a_lease_ends_early(tmp_path: Path) -> None:
    g = GpuLeases(tmp_path / "locks", devices=g_devices("1x80GiB"), poll=0.05)

    def run(expected: float) -> None:
        with GpuLeases(g.lock_dir, devices=g.devices, poll=g.poll).lease(1, expected=expected):
            time.sleep(1.0)

    threads = [threading.Thread(target=run, args=(e,)) for e in (300.0, 400.0)]
    with g.lease(1, expected=600.0):  # expected to hold the device ten minutes
        for t in threads:
            t.start()
        wait_for(lambda: len(plan_of(g)) == 2, "a plan of both waiters")
        first = plan_of(g)
        later = max(first, key=lambda token: first[token][0])  # after A's end and the other
    # the lease ends nine minutes early: the next run starts, and the last is planned again
    # after it, not where the old plan had it (that plan still held: none was late on it)
    wait_for(
        lambda: plan_of(g).get(later, (math.inf,))[0] < first[later][0] - 200,
        "the last run planned again, earlier",
    )
    for t in threads:
        t.join(timeout=WAIT)
    assert not any(t.is_alive() for t in threads)
