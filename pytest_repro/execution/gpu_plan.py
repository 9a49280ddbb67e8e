"""A plan of the whole GPU queue, for waiters whose durations are all known.

When every waiting request and every lease on the devices has an expected duration (the
ledger's estimate of each run), the waiters need not be served one free slot at a time:
the schedule of all of them can be worked out ahead, and each started when the plan says.
:func:`schedule` does that from the devices' current leases (each held until its expected
end) and the waiting requests, and returns, for each request, when it is planned to start
and on which devices. :mod:`pytest_repro.execution.gpus` writes it to a file and each
request claims its planned devices when its :func:`turn` has come there and the room is
free; :func:`stale` says when the queue needs a new plan.

The schedule places the requests one by one, in a list order, each at the earliest time
enough of its devices have room for it all the way through (a whole-device request an
empty device, a memory request its bytes beside what is planned there), ties to the
devices with the most held then (best fit). Several orders are tried and the one whose
makespan (then the sum of planned ends) is least is kept:

- the waiters' rank order (:func:`pytest_repro.execution.gpu_state.rank`: longest first,
  overtaken only by as much as a request is expected to run longer);
- whole-device requests first, longest first within each kind;
- the rank order served as the lease rule serves it (at every planned end, each waiter in
  rank order started where it fits then), so the plan is never longer than that rule;
- the plan in force, where it still fits (each request at its planned start and devices,
  the others after them), kept on a tie, so a plan that still holds does not change;
- then a fixed-seed local search from the best list order: ``tries`` times (fewer for long
  queues, and within ``budget`` seconds when one is given), one request moved elsewhere in
  the order, the change kept when the plan is no longer.

**Nobody waits forever.** A request that has waited longer than the longest expected
duration in view is *due*: it keeps the start and devices the plan in force gives it in
every order tried, so no later plan moves it back, and due requests the plan does not hold
yet come first in every order, in rank order.

Without a ``budget`` the plan is pure: the same leases, waiters and ``now`` give the same
plan in every process. (With one, a slower machine may try fewer orders; one request writes
the plan for all, so they need not agree.)
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from pytest_repro.execution.gpu_state import Device, Entry, Request, Room, leases, rank, taken
from pytest_repro.execution.gpu_state import order as claimable

#: Local-search tries for a queue of ``n`` requests: ``PLACEMENTS // n`` (each try places
#: every request), so a plan costs about the same whatever the queue's length.
PLACEMENTS = 1000
#: The most tries a plan makes.
TRIES = 100


@dataclass(frozen=True, slots=True)
class Held:
    """A lease on a device: the bytes it holds (the device's memory when held whole),
    whether it holds the device whole, and the seconds from now it is expected to end
    (0 when it is past its expected end: it may end at any moment)."""

    bytes: int
    whole: bool
    left: float


@dataclass(frozen=True, slots=True)
class Planned:
    """When a request is planned to start (seconds from now) and on which devices."""

    start: float
    devices: tuple[str, ...]


#: Seconds within which two planned times count as one.
_TICK = 1e-9
#: A device's planned use: (start, end, bytes, whole), seconds from now.
_Slot = tuple[float, float, int, bool]


def schedule(
    devices: Sequence[Device],
    held: Mapping[str, Sequence[Held]],
    waiters: Sequence[Request],
    now: float,
    tries: int | None = None,
    before: Mapping[str, tuple[float, tuple[str, ...]]] | None = None,
    budget: float | None = None,
) -> dict[str, Planned]:
    """The plan of the module docstring for ``waiters`` (each with ``expected`` > 0) on
    ``devices`` holding the leases ``held`` (device id -> leases), at time ``now`` (the
    clock of ``Request.since``). ``tries``: the local search's, default by the queue's
    length. ``before``: the plan in force (token -> planned start on the clock of ``now``,
    devices); it is tried again as it stands where it still fits (the others placed after
    its requests, by rank), so a plan that still holds is kept. ``budget``: the seconds the
    local search may take, at most (its tries stop there)."""
    deadline = None if budget is None else time.perf_counter() + budget
    memory = {d.id: d.memory for d in devices}
    busy = {
        d.id: [(0.0, max(h.left, 0.0), h.bytes, h.whole) for h in held.get(d.id, ())]
        for d in devices
    }
    ranked = sorted(waiters, key=rank)
    if not ranked:
        return {}
    patience = max([r.expected for r in ranked] + [h.left for hs in held.values() for h in hs])
    due = [r for r in ranked if now - r.since > patience]
    rest = [r for r in ranked if now - r.since <= patience]
    whole_first = sorted(rest, key=lambda r: (r.memory is not None, -r.count, -r.expected, r.token))
    pins = {t: (max(start - now, 0.0), ids) for t, (start, ids) in (before or {}).items()}
    late = {r.token for r in due}
    fixed = {t: pin for t, pin in pins.items() if t in late}  # kept by every order
    starts = [due + rest, due + whole_first]
    plans = [_serial(o, memory, busy, fixed) for o in starts]
    if not fixed:  # the rule's schedule cannot keep a due request where it was planned
        plans.append(_listed(due + rest, busy))
    best = min(plans, key=_cost)
    if pins:  # the plan in force, the others after its requests
        kept = sorted(rest, key=lambda r: (r.token not in pins, pins.get(r.token, (0.0,))[0]))
        held_plan = _serial(due + kept, memory, busy, pins)
        if not _shorter(_cost(best), _cost(held_plan)):  # a tie keeps the plan in force
            best = held_plan
    current, first = min((_cost(p), i) for i, p in enumerate(plans[:2]))
    order = starts[first]
    if tries is None:
        tries = min(TRIES, PLACEMENTS // len(ranked))
    movable, k = len(rest), len(due)
    rng = random.Random(0)
    for _ in range(tries if movable > 1 else 0):
        if deadline is not None and time.perf_counter() > deadline:
            break
        trial = list(order)
        trial.insert(k + rng.randrange(movable), trial.pop(k + rng.randrange(movable)))
        plan = _serial(trial, memory, busy, fixed)
        cost = _cost(plan)
        if cost <= current:
            order, current = trial, cost
            if _shorter(cost, _cost(best)):
                best = plan
    return {token: planned for token, (planned, _) in best.items()}


def _shorter(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether cost ``a`` is below ``b`` by more than rounding."""
    return a[0] < b[0] - _TICK or (abs(a[0] - b[0]) <= _TICK and a[1] < b[1] - _TICK)


def _cost(plan: Mapping[str, tuple[Planned, float]]) -> tuple[float, float]:
    ends = [end for _, end in plan.values()]
    return (max(ends, default=0.0), sum(ends))


def _room(
    slots: list[_Slot], at: float, until: float, size: int, whole: bool, cap: int | None
) -> bool:
    """Whether a device with ``slots`` planned has room for ``size`` bytes (or the whole
    device) from ``at`` to ``until``. Times a nanosecond apart count as one (a plan read
    back from its file is rounded)."""
    during = [s for s in slots if s[0] < until - _TICK and s[1] > at + _TICK]
    if whole or cap is None:
        return not during
    if any(s[3] for s in during):
        return False
    points = [at, *(s[0] for s in during if s[0] > at + _TICK)]
    return all(
        sum(s[2] for s in during if s[0] <= q + _TICK and q < s[1] - _TICK) + size <= cap
        for q in points
    )


def _serial(
    order: Sequence[Request],
    memory: Mapping[str, int | None],
    busy: Mapping[str, list[_Slot]],
    pins: Mapping[str, tuple[float, tuple[str, ...]]] | None = None,
) -> dict[str, tuple[Planned, float]]:
    """Each request in ``order`` at the earliest time enough of its devices have room for it
    all the way through, on the fullest of them then: token -> (planned, planned end). With
    ``pins`` (token -> start, devices), a request pinned where it still fits stays there."""
    on = {d: list(slots) for d, slots in busy.items()}
    out: dict[str, tuple[Planned, float]] = {}
    for request in order:
        ids = [d.id for d in request.devices if d.id in on]
        whole = request.memory is None
        size = request.memory or 0
        pin = (pins or {}).get(request.token)
        if (
            pin is not None
            and len(pin[1]) == request.count
            and all(
                d in ids and _room(on[d], pin[0], pin[0] + request.expected, size, whole, memory[d])
                for d in pin[1]
            )
        ):
            at, chosen = pin
        elif request.count == 1:  # each device's earliest room, the earliest of them kept
            found: tuple[float, int, str] | None = None
            for d in ids:
                for at in sorted({0.0, *(s[1] for s in on[d])}):
                    if found is not None and at > found[0] + _TICK:
                        break
                    if _room(on[d], at, at + request.expected, size, whole, memory[d]):
                        key = (at, -sum(s[2] for s in on[d] if s[0] <= at < s[1]), d)
                        found = key if found is None or key < found else found
                        break
            if found is None:
                continue  # none of its devices is known here: it is left out
            at, chosen = found[0], tuple(found[2:])
        else:  # the earliest time enough of its devices have room together
            for at in sorted({0.0, *(s[1] for d in ids for s in on[d])}):
                fits = [
                    d
                    for d in ids
                    if _room(on[d], at, at + request.expected, size, whole, memory[d])
                ]
                if len(fits) >= request.count:
                    break
            else:  # fewer of its devices known here than it asks for: it is left out
                continue
            fits.sort(key=lambda d: (-sum(s[2] for s in on[d] if s[0] <= at < s[1]), d))
            chosen = tuple(fits[: request.count])
        until = at + request.expected
        for d in chosen:
            alone = whole or memory[d] is None
            on[d].append((at, until, (memory[d] or 0) if alone else size, alone))
        out[request.token] = (Planned(at, chosen), until)
    return out


def _listed(
    order: Sequence[Request], busy: Mapping[str, list[_Slot]]
) -> dict[str, tuple[Planned, float]]:
    """The rank rule's own list schedule: now and at every planned end, each request still
    waiting in ``order`` claims the devices :func:`gpu_state.order` gives it then, as
    :func:`gpu_state.plan` serves a queue (reservations left out)."""
    room = {
        d: Room(
            held=sum(s[2] for s in slots),
            whole=any(s[3] for s in slots),
            leased=bool(slots),
            reserver=None,
        )
        for d, slots in busy.items()
    }
    ends = [(s[1], d, s[2], s[3]) for d, slots in busy.items() for s in slots]  # what each frees
    heapq.heapify(ends)
    waiting = list(order)
    out: dict[str, tuple[Planned, float]] = {}
    now = 0.0
    while waiting:
        for request in list(waiting):
            fits = claimable(request.devices, room, request.memory, request.token)
            if len(fits) < request.count:
                continue
            for device in fits[: request.count]:
                was = room[device.id]
                room[device.id] = taken(was, device, request.memory)
                freed = room[device.id].held - was.held
                whole = room[device.id].whole and not was.whole
                heapq.heappush(ends, (now + request.expected, device.id, freed, whole))
            chosen = tuple(d.id for d in fits[: request.count])
            out[request.token] = (Planned(now, chosen), now + request.expected)
            waiting.remove(request)
        if not waiting or not ends:
            break
        now, d, freed, whole = heapq.heappop(ends)
        was = room[d]
        room[d] = replace(
            was,
            held=was.held - freed,
            whole=was.whole and not whole,
            leased=any(e[1] == d for e in ends),
        )
    return out


# -- the plan's file and following it --------------------------------------------------------
def plannable(waiters: Iterable[Request], states: Mapping[str, list[Entry]]) -> bool:
    """Whether the queue can be planned: every waiter and every lease has an expected
    duration (a lease records its expected end as ``until``), and every waiter may lease
    only devices whose leases are in ``states`` (a session that leases other devices
    beside the same lock folder is served by rank with it)."""
    return all(r.expected > 0 and all(d.id in states for d in r.devices) for r in waiters) and all(
        "until" in h for entries in states.values() for h in leases(entries)
    )


def holding(states: Mapping[str, list[Entry]], now: float) -> dict[str, list[Held]]:
    """Each device's leases as the plan sees them (``now``: the clock of ``until``)."""
    return {
        device: [
            Held(int(h.get("bytes", 0)), bool(h.get("whole")), float(h["until"]) - now)
            for h in leases(entries)
            if "until" in h
        ]
        for device, entries in states.items()
    }


def written(plan: Mapping[str, Planned], now: float, basis: Iterable[str] = ()) -> list[Entry]:
    """The plan file's entries: each request's planned start (``now`` + its offset) and
    devices, the earliest first; then, when ``basis`` names any, the leases running when
    the plan was made (read back by :func:`based`)."""
    entries: list[Entry] = sorted(
        (
            {"token": token, "start": now + p.start, "devices": list(p.devices)}
            for token, p in plan.items()
        ),
        key=lambda e: (e["start"], e["token"]),
    )
    leases = sorted(set(basis))
    return [*entries, {"leases": leases}] if leases else entries


def based(entries: Iterable[Entry]) -> frozenset[str]:
    """The leases a plan file was made around (see :func:`written`)."""
    for entry in entries:
        tokens = entry.get("leases")
        if isinstance(tokens, list):
            return frozenset(map(str, tokens))
    return frozenset()


def released(
    plan: Mapping[str, tuple[float, tuple[str, ...]]],
    basis: frozenset[str],
    waiters: Iterable[Request],
    states: Mapping[str, list[Entry]],
) -> bool:
    """Whether a lease has ended since the plan was made: one it was made around, or one
    of a request it planned (a lease takes its request's token), that is neither running
    nor waiting now."""
    running = {str(h.get("token")) for entries in states.values() for h in leases(entries)}
    return bool((basis | plan.keys()) - running - {r.token for r in waiters})


def loaded(entries: Iterable[Entry]) -> dict[str, tuple[float, tuple[str, ...]]]:
    """The plan file's entries read back: token -> (planned start, devices); malformed
    entries are left out."""
    out = {}
    for entry in entries:
        try:
            out[str(entry["token"])] = (float(entry["start"]), tuple(map(str, entry["devices"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def stale(
    plan: Mapping[str, tuple[float, tuple[str, ...]]],
    waiters: Sequence[Request],
    now: float,
    settle: float,
) -> bool:
    """Whether the queue needs a new plan: waiters the plan does not hold, once no request
    has begun to wait for ``settle`` seconds (so that a burst of requests is planned at once)
    or one of them has waited ten times that; or a waiter still waiting more than four times
    ``settle`` (and a tenth of its own expected duration) past its planned start, so the
    leases before it ran longer than expected."""
    return due(plan, waiters, settle) <= now


def due(
    plan: Mapping[str, tuple[float, tuple[str, ...]]], waiters: Sequence[Request], settle: float
) -> float:
    """When :func:`stale` will be true if nothing changes meanwhile (``inf``: never), so a
    waiter need not look again before then."""
    newest = max((r.since for r in waiters), default=0.0)
    at = math.inf
    for request in waiters:
        planned = plan.get(request.token)
        if planned is None:
            at = min(at, newest + settle, request.since + 10 * settle)
        else:
            at = min(at, planned[0] + max(4 * settle, request.expected / 10))
    return at


def turn(
    plan: Mapping[str, tuple[float, tuple[str, ...]]], waiters: Iterable[Request], token: str
) -> tuple[str, ...]:
    """The devices the plan gives ``token`` when its turn has come on every one of them (no
    waiter planned on one of them starts before it, ties by token), else ``()``."""
    mine = plan.get(token)
    if mine is None:
        return ()
    key = (mine[0], token)
    for request in waiters:
        other = plan.get(request.token)
        if other is not None and (other[0], request.token) < key and set(other[1]) & set(mine[1]):
            return ()
    return mine[1]
