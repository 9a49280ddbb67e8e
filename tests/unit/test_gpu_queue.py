"""The order waiting GPU requests are served in, and the plan every waiter works out from
the state files: longest expected run first, a waiter claims only what better-ranked
waiters leave, and one that fits nowhere holds nobody up. Pure functions, no files."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from hypothesis import given
from hypothesis import strategies as hs

from pytest_repro.execution.gpu_state import (
    STALE_RESERVATION,
    Device,
    Request,
    Room,
    alive,
    claim,
    plan,
    rank,
    rooms,
    waiter,
)

GIB = 2**30
D80 = (Device("0", 80 * GIB), Device("1", 80 * GIB))


def ask(
    token: str,
    memory: int | None,
    since: float = 0.0,
    expected: float = 0.0,
    devices: tuple[Device, ...] = D80,
    count: int = 1,
) -> Request:
    gib = None if memory is None else memory * GIB
    return Request(
        token=token, count=count, memory=gib, devices=devices, since=since, expected=expected
    )


def empty(*ids: str) -> dict[str, Room]:
    return {i: Room(held=0, whole=False, leased=False, reserver=None) for i in ids}


def held(gib: int, whole: bool = False, reserver: str | None = None) -> Room:
    return Room(held=gib * GIB, whole=whole, leased=True, reserver=reserver)


def served(room: dict[str, Room], *ranked: Request) -> dict[str, list[str]]:
    return {t: [d.id for d in ds] for t, ds in plan(room, sorted(ranked, key=rank)).items()}


def test_of_runs_asking_together_the_longest_expected_goes_first() -> None:
    short, long_, middle = (
        ask("a", 20, 0.0, 5.0),
        ask("b", 20, 0.01, 60.0),
        ask("c", 20, 0.02, 30.0),
    )
    assert [r.token for r in sorted([short, long_, middle], key=rank)] == ["b", "c", "a"]


def test_a_later_request_overtakes_only_by_how_much_longer_it_is_expected_to_run() -> None:
    waited = ask("early", 20, since=0.0, expected=10.0)
    assert rank(ask("later", 20, since=5.0, expected=20.0)) < rank(waited)  # 10 s longer
    assert rank(waited) < rank(ask("later", 20, since=50.0, expected=20.0))  # waited 50 s


def test_without_expected_durations_waiters_are_first_come_first_served() -> None:
    first, second = ask("z", 20, since=1.0), ask("a", 20, since=2.0)
    assert [r.token for r in sorted([second, first], key=rank)] == ["z", "a"]


def test_a_waiter_claims_only_what_the_better_ranked_waiters_leave() -> None:
    room = {"0": held(20), "1": held(0, whole=True)}  # 60 GiB free on device 0
    got = served(room, ask("first", 40, expected=9.0), ask("second", 40), ask("third", 20))
    assert got == {"first": ["0"], "second": [], "third": ["0"]}  # 60 = 40 + 20


def test_a_waiter_that_fits_nowhere_holds_nobody_up() -> None:
    room = {"0": held(20), "1": held(70)}
    got = served(room, ask("whole", None, expected=99.0), ask("packed", 10))
    assert got == {"whole": [], "packed": ["1", "0"]}  # best fit: the fullest that fits


def test_the_plan_packs_best_fit_so_an_empty_device_stays_for_a_whole_run() -> None:
    asks = [ask(f"p{i}", 20, expected=10.0 - i) for i in range(4)] + [ask("w", None)]
    got = served(empty("0", "1"), *asks)
    assert [got[f"p{i}"][0] for i in range(4)] == ["0"] * 4 and got["w"] == ["1"]


def test_a_device_drained_for_a_whole_run_takes_no_packed_run() -> None:
    room = {"0": Room(held=0, whole=False, leased=False, reserver="w"), "1": held(50)}
    got = served(room, ask("p", 20, expected=50.0), ask("w", None))
    assert got == {"p": ["1"], "w": ["0"]}


def test_a_drained_device_goes_to_the_best_ranked_whole_run() -> None:
    room = {"0": Room(held=0, whole=False, leased=False, reserver="w")}
    got = served(room, ask("v", None, since=1.0, expected=99.0), ask("w", None, since=0.0))
    assert got == {"v": ["0"], "w": []}  # w keeps its reservation and waits for the next


def test_each_waiter_is_planned_with_the_devices_its_own_session_knows() -> None:
    # the other session does not know the memory: it takes device 0 only when nothing holds it
    other = ask("other", 20, expected=99.0, devices=(Device("0"),))
    got = served({"0": held(10)}, other, ask("mine", 20, devices=(Device("0", 80 * GIB),)))
    assert got == {"other": [], "mine": ["0"]}


def test_a_request_for_two_devices_waits_until_both_fit() -> None:
    room = {**empty("0"), "1": held(30)}
    got = served(room, ask("pair", None, count=2, expected=9.0), ask("one", 20))
    assert got["pair"] == [] and got["one"][0] == "1"  # the pair holds nobody up


def test_the_room_of_a_device_comes_from_its_live_leases_not_its_reservation() -> None:
    entries = [
        {"token": "a", "pid": os.getpid(), "bytes": 20 * GIB},
        {"token": "w", "pid": os.getpid(), "reserve": True, "bytes": 0, "seen": time.time()},
    ]
    room = rooms({"0": entries})["0"]
    assert (room.held, room.whole, room.leased, room.reserver) == (20 * GIB, False, True, "w")
    assert room.free(Device("0", 80 * GIB)) == 60 * GIB and room.free(Device("0")) == 0


def test_a_waiting_entry_round_trips_and_a_malformed_one_is_ignored() -> None:
    request = ask("t", 20, since=3.0, expected=7.5, devices=(Device("2", 40 * GIB), Device("5")))
    assert waiter(request.entry(time.time())) == request
    assert waiter({"token": "t", "count": "many", "devices": [], "since": 0}) is None
    assert waiter({"token": "t"}) is None


def test_a_dead_or_unrenewed_waiting_entry_is_not_alive() -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    now = time.time()
    live = ask("live", 20).entry(now)
    gone = {**ask("dead", 20).entry(now), "pid": int(dead.stdout)}
    stale = ask("stale", 20).entry(now - STALE_RESERVATION - 1)
    assert [e["token"] for e in alive([live, gone, stale])] == ["live"]


def test_claiming_a_device_reserved_for_the_request_turns_the_reservation_into_the_lease() -> None:
    device = Device("0", 80 * GIB)
    mine = {"token": "w", "pid": os.getpid(), "reserve": True, "bytes": 0, "seen": time.time()}
    after = claim(device, [mine], None, "w")
    assert after is not None and [h.get("reserve") for h in after] == [None]
    assert after[0]["whole"] is True and after[0]["token"] == "w"
    assert claim(device, [mine], 10 * GIB, "other") is None  # reserved for another request
    taken = claim(device, [mine], None, "better")  # a whole-device run ranked before it
    assert taken is not None and [h["token"] for h in taken] == ["w", "better"]


@given(
    used=hs.lists(hs.sampled_from([0, 10, 20, 40, 80]), min_size=1, max_size=4),
    asks=hs.lists(
        hs.tuples(hs.sampled_from([None, 10, 20, 40]), hs.floats(0, 100), hs.integers(1, 2)),
        max_size=12,
    ),
)
def test_a_plan_never_gives_a_device_more_than_it_has(
    used: list[int], asks: list[tuple[int | None, float, int]]
) -> None:
    devices = tuple(Device(str(i), 80 * GIB) for i in range(len(used)))
    room = {
        d.id: held(u, whole=u == 80) if u else empty(d.id)[d.id]
        for d, u in zip(devices, used, strict=True)
    }
    requests = sorted(
        (
            ask(f"r{i}", m, since=float(i), expected=e, devices=devices, count=min(c, len(used)))
            for i, (m, e, c) in enumerate(asks)
        ),
        key=rank,
    )
    out = plan(room, requests)
    load = {d.id: u for d, u in zip(devices, used, strict=True)}
    for request in requests:  # replay the plan in rank order
        ids = [d.id for d in out[request.token][: request.count]]
        assert len(ids) in (0, request.count) and len(set(ids)) == len(ids)
        for device in ids:
            if request.memory is None:
                assert load[device] == 0  # a whole-device run only on an empty device
                load[device] = 80
            else:
                load[device] += request.memory // GIB
            assert load[device] <= 80
