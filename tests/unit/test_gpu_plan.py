"""The plan of a GPU queue whose durations are all known (pure functions): every plan is a
schedule no device is over-committed in, never longer than the lease rule's list schedule,
kept while it holds, and fair to requests that have waited long."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as hs

from pytest_repro.execution import gpu_plan as gp
from pytest_repro.execution.gpu_state import Device, Request, rank

GIB = 2**30


def req(
    token: str,
    expected: float,
    memory: float | None = None,
    devices: tuple[Device, ...] = (),
    count: int = 1,
    since: float = 0.0,
) -> Request:
    return Request(
        token=token,
        count=count,
        memory=None if memory is None else int(memory * GIB),
        devices=devices,
        since=since,
        expected=expected,
    )


def inventory(n: int, gib: int | None = 80) -> tuple[Device, ...]:
    return tuple(Device(str(i), None if gib is None else gib * GIB) for i in range(n))


def check(
    devices: tuple[Device, ...],
    held: dict[str, list[gp.Held]],
    waiters: list[Request],
    plan: dict[str, gp.Planned],
) -> float:
    """The plan's makespan; AssertionError when a device holds more than its memory (or a
    whole-device use beside another) at any moment, or a request is misplaced."""
    memory = {d.id: d.memory for d in devices}
    uses: dict[str, list[tuple[float, float, int, bool]]] = {d.id: [] for d in devices}
    for device, leases in held.items():
        uses[device] += [(0.0, h.left, h.bytes, h.whole) for h in leases]
    for request in waiters:
        planned = plan[request.token]
        assert planned.start >= 0 and len(set(planned.devices)) == request.count
        assert set(planned.devices) <= {d.id for d in request.devices}
        for device in planned.devices:
            whole = request.memory is None or memory[device] is None
            size = (memory[device] or 0) if whole else request.memory or 0
            uses[device].append((planned.start, planned.start + request.expected, size, whole))
    for device, spans in uses.items():
        for at, _, _, _ in spans:
            live = [s for s in spans if s[0] <= at < s[1] - 1e-9]  # a nanosecond is no use
            if any(s[3] for s in live):
                assert len(live) == 1, f"device {device} is shared while held whole at {at}"
            elif memory[device] is not None:
                assert sum(s[2] for s in live) <= memory[device], f"device {device} at {at}"
    return max((s[1] for spans in uses.values() for s in spans), default=0.0)


def listed(
    devices: tuple[Device, ...], held: dict[str, list[gp.Held]], waiters: list[Request]
) -> float:
    """The makespan of the lease rule's list schedule of the same queue."""
    busy = {d.id: [(0.0, h.left, h.bytes, h.whole) for h in held.get(d.id, [])] for d in devices}
    out = gp._listed(sorted(waiters, key=rank), busy)
    ends = [end for _, end in out.values()] + [s[1] for spans in busy.values() for s in spans]
    return max(ends, default=0.0)


def draw(seed: int, runs: int, devices: tuple[Device, ...]) -> list[Request]:
    """Every fourth run a whole device, the others 10, 20 or 40 GiB, each 0.4-0.8 s."""
    rng = random.Random(seed)
    return [
        req(
            f"r{i:02d}",
            rng.uniform(0.4, 0.8),
            None if i % 4 == 0 else rng.choice([10, 20, 40]),
            devices,
        )
        for i in range(runs)
    ]


# -- whole queues ----------------------------------------------------------------------------
def test_a_queue_of_forty_is_planned_far_shorter_than_the_rule_serves_it() -> None:
    devices = inventory(8)
    waiters = draw(1, 40, devices)
    plan = gp.schedule(devices, {}, waiters, now=0.0)
    planned, rule = check(devices, {}, waiters, plan), listed(devices, {}, waiters)
    assert planned < 0.9 * rule  # 1.51 s against 1.74 s on this draw


def test_a_plan_is_never_longer_than_the_rule_and_keeps_what_is_leased() -> None:
    devices = inventory(4)
    for seed in range(20):
        rng = random.Random(seed)
        held = {
            d.id: [gp.Held(rng.choice([10, 40]) * GIB, False, rng.uniform(0, 1))]
            for d in devices
            if rng.random() < 0.5
        }
        waiters = draw(seed, 12, devices)
        plan = gp.schedule(devices, held, waiters, now=0.0, tries=10)
        assert check(devices, held, waiters, plan) <= listed(devices, held, waiters) + 1e-9


sizes = hs.sampled_from([None, 10, 20, 40, 70])


@settings(max_examples=60, deadline=None)
@given(
    gib=hs.lists(hs.sampled_from([40, 80, None]), min_size=1, max_size=4),
    asks=hs.lists(
        hs.tuples(sizes, hs.floats(0.1, 5.0), hs.integers(1, 2), hs.integers(0, 3)),
        min_size=1,
        max_size=10,
    ),
    leased=hs.lists(hs.tuples(hs.integers(0, 3), sizes, hs.floats(0.0, 3.0)), max_size=4),
)
def test_any_plan_places_every_request_on_its_devices_without_over_committing_one(
    gib: list[int | None],
    asks: list[tuple[int | None, float, int, int]],
    leased: list[tuple[int, int | None, float]],
) -> None:
    devices = tuple(Device(str(i), None if g is None else g * GIB) for i, g in enumerate(gib))
    held: dict[str, list[gp.Held]] = {}
    for position, size, left in leased:  # leases that fit their device as it is now
        device = devices[position % len(devices)]
        there = held.setdefault(device.id, [])
        whole = size is None or device.memory is None
        taken = sum(h.bytes for h in there)
        if any(h.whole for h in there) or (whole and there):
            continue
        if not whole and taken + size * GIB > (device.memory or 0):
            continue
        there.append(gp.Held(device.memory or 0 if whole else size * GIB, whole, left))
    waiters = []
    for i, (size, seconds, count, skip) in enumerate(asks):
        mine = tuple(d for j, d in enumerate(devices) if j != skip or len(devices) == 1)
        fits = [d for d in mine if size is None or d.memory is None or d.memory >= size * GIB]
        if len(fits) < count:
            continue  # no wait could serve it: the leases refuse it before it waits
        waiters.append(req(f"q{i}", seconds, size, mine, count, since=float(i)))
    plan = gp.schedule(devices, held, waiters, now=float(len(asks)), tries=5)
    assert set(plan) == {r.token for r in waiters}
    check(devices, held, waiters, plan)


def test_a_request_for_two_devices_is_planned_on_two_at_one_time() -> None:
    devices = inventory(3)
    held = {"0": [gp.Held(80 * GIB, True, 2.0)], "1": [gp.Held(40 * GIB, False, 1.0)]}
    pair = req("pair", 1.0, None, devices, count=2)
    plan = gp.schedule(devices, held, [pair], now=0.0)
    assert plan["pair"] == gp.Planned(1.0, ("1", "2"))  # device 2 is free, device 1 at 1 s


def test_a_memory_request_on_a_device_of_unknown_memory_has_it_alone() -> None:
    devices = inventory(1, gib=None)
    waiters = [req("a", 1.0, 10, devices), req("b", 1.0, 10, devices)]
    plan = gp.schedule(devices, {}, waiters, now=0.0)
    assert sorted(p.start for p in plan.values()) == [0.0, 1.0]


# -- keeping a plan, and fairness -----------------------------------------------------------
def test_a_plan_that_still_holds_is_kept_when_the_queue_is_planned_again() -> None:
    devices = inventory(8)
    waiters = draw(3, 30, devices)
    first = gp.schedule(devices, {}, waiters, now=100.0)
    written = gp.loaded(gp.written(first, 100.0))
    # nothing started and nothing changed: planned again, nothing moves
    again = gp.schedule(devices, {}, waiters, now=100.0, tries=0, before=written)
    assert again.keys() == first.keys()
    for token, planned in first.items():
        assert again[token].devices == planned.devices
        assert abs(again[token].start - planned.start) < 1e-9


def test_a_request_that_has_waited_longer_than_any_run_takes_goes_first() -> None:
    devices = inventory(1)
    old = req("old", 1.0, None, devices, since=0.0)  # waited 50 s; every run takes <= 10 s
    newer = [req(f"n{i}", 10.0, None, devices, since=49.0) for i in range(3)]
    plan = gp.schedule(devices, {}, [*newer, old], now=50.0)
    assert plan["old"].start == 0.0
    fresh = req("old", 1.0, None, devices, since=45.0)  # waited 5 s: planned by makespan only
    plan = gp.schedule(devices, {}, [*newer, fresh], now=50.0, tries=0)
    assert plan["old"].start > 0.0
    # planned at 30 s, and due: no new plan moves it back, even to start a newcomer sooner
    promised = {"old": (80.0, ("0",)), **{f"n{i}": (50.0 + 10 * i, ("0",)) for i in range(3)}}
    plan = gp.schedule(devices, {}, [*newer, old], now=50.0, before=promised)
    assert plan["old"] == gp.Planned(30.0, ("0",))


# -- the plan file and following it ---------------------------------------------------------
def test_the_plan_file_round_trips_and_skips_malformed_entries() -> None:
    plan = {"a": gp.Planned(0.5, ("0",)), "b": gp.Planned(0.0, ("1", "2"))}
    entries = gp.written(plan, 10.0)
    assert [e["token"] for e in entries] == ["b", "a"]  # the earliest first
    assert gp.loaded([*entries, {"token": "c"}, {"start": "x"}]) == {
        "a": (10.5, ("0",)),
        "b": (10.0, ("1", "2")),
    }


def test_the_plan_file_names_the_leases_it_was_made_around_and_sees_one_end() -> None:
    entries = gp.written({"w": gp.Planned(5.0, ("0",))}, 10.0, ["l2", "l1", "l1"])
    assert entries[-1] == {"leases": ["l1", "l2"]}
    assert gp.loaded(entries) == {"w": (15.0, ("0",))}  # the basis is not a planned request
    assert gp.based(entries) == {"l1", "l2"}
    assert gp.based(gp.written({"w": gp.Planned(5.0, ("0",))}, 10.0)) == frozenset()

    def state(*tokens: str) -> dict[str, list[dict[str, object]]]:
        return {"0": [{"token": t, "pid": 1, "bytes": 1, "until": 20.0} for t in tokens]}

    plan, basis, waiting = gp.loaded(entries), gp.based(entries), [req("w", 5.0)]
    assert not gp.released(plan, basis, waiting, state("l1", "l2"))
    assert gp.released(plan, basis, waiting, state("l2"))  # l1 ended
    assert not gp.released(plan, basis, [], state("l1", "l2", "w"))  # w started: no end
    assert gp.released(plan, basis, [], state("l1", "l2"))  # w started and ended


def test_a_waiter_starts_when_no_waiter_planned_before_it_shares_a_device() -> None:
    plan = {"a": (1.0, ("0",)), "b": (2.0, ("0", "1")), "c": (0.5, ("2",))}
    queue = [req(t, 1.0) for t in ("a", "b", "c")]
    assert gp.turn(plan, queue, "a") == ("0",)
    assert gp.turn(plan, queue, "b") == ()  # a comes first on device 0
    assert gp.turn(plan, queue[1:], "b") == ("0", "1")  # a has started
    assert gp.turn(plan, queue, "c") == ("2",)
    assert gp.turn(plan, queue, "unplanned") == ()


def test_a_queue_is_planned_again_once_a_burst_settles_or_a_waiter_runs_late() -> None:
    a, b = req("a", 10.0, since=100.0), req("b", 10.0, since=100.2)
    assert gp.due({}, [a, b], settle=0.5) == 100.7  # half a second after the newest came
    late = {"a": (200.0, ("0",)), "b": (300.0, ("0",))}
    assert gp.due(late, [a, b], settle=0.5) == 202.0  # a tenth of its 10 s past its start
    assert not gp.stale(late, [a, b], 201.9, 0.5) and gp.stale(late, [a, b], 202.0, 0.5)
    assert gp.due(late, [], settle=0.5) == float("inf")


def test_a_queue_is_planned_only_when_every_waiter_and_lease_has_a_duration() -> None:
    timed = {"0": [{"token": "x", "pid": 1, "bytes": 0, "whole": True, "until": 5.0}]}
    untimed = {"0": [{"token": "x", "pid": 1, "bytes": 0, "whole": True}]}
    assert gp.plannable([req("a", 1.0)], timed)
    assert not gp.plannable([req("a", 1.0), req("b", 0.0)], timed)
    assert not gp.plannable([req("a", 1.0)], untimed)
    elsewhere = req("b", 1.0, devices=(Device("0"), Device("7")))  # device 7 is not known here
    assert gp.plannable([req("a", 1.0, devices=(Device("0"),))], timed)
    assert not gp.plannable([elsewhere], timed)
    assert gp.holding(timed, now=2.0) == {"0": [gp.Held(0, True, 3.0)]}
