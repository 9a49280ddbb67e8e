"""GPU leases on a simulated inventory: no device over-committed, and the makespan against
the ideal, bracketed from both sides.

    python benchmarks/gpu_scheduling.py [--gpus 8] [--runs 40] [--seeds 0-4] [--search 2000]
                                        [--repeat 1] [--processes] [--scale 1]

For each seed, draws ``--runs`` runs (every fourth leases a whole device, the others 10, 20
or 40 GiB of an 80 GiB device; each holds its lease 0.4-0.8 s, times ``--scale``) and runs
them through the real :class:`GpuLeases` (``poll=0.005``), one thread each, or with
``--processes`` one process each with leases of its own on the same files, as a session's
xdist workers have. They are started first, then all ask at once (the makespan counts from
then), so which asks first is up to the operating system, not the order of the durations.
Each run, as it gets its lease, reads its device's recorded leases (that look is counted
inside the run's hold, not added to it), and a watcher reads every device's every 20 ms;
each counts a device holding more than its memory, or a whole lease beside another. The
runs go twice: once knowing nothing of their durations, as a run without history does, and
once passing each run's true duration as ``expected`` (what the ledger's estimate stands
for); the line says which. ``--repeat N`` runs each N times and reports the median makespan
(the machine's load moves a single run by several per cent). Threads share one interpreter
lock, so every lease's bookkeeping waits for it; processes share the machine's cores (forty
of them polling on two cores is a load no session puts on them). The runs are short, so a
fixed cost per grant weighs more than it does against runs of minutes: ``--scale 4`` shows
how much.

Each live line also gives where the time goes: the mean wait of whole-device and packed
runs, the time from a release on a device to the next grant there for a run that was
already waiting (median and 90th percentile), when the last device got its first lease,
and the share of the inventory's memory-seconds held until the makespan. Beside it, the
**lease rule alone**: the same rule the leases follow (waiters by rank, a whole-device run
on an empty device, one reserved for it first, a packed run best fit and never on a device
reserved for another, a whole-device waiter reserving the device with the least leased, at
most half of them) simulated without latency, all runs asking at time 0 in the order drawn,
by rank (longest first when durations are given, the order drawn without); ``live / rule``
is what the live leases cost, ``rule / best`` what the rule costs. Part of ``live / rule``
is not latency: live requests that ask before any waiter is queued are served as they ask,
not by rank. The line gives that part too: the rule again, serving the runs in the order
they asked in the live run until the first that must wait, and by rank from then on.
Given durations, the live leases plan the queue whole (``gpu_plan``), so the line also gives
the **planned queue alone** (``planned_queue``): all runs waiting at time 0, planned by
``gpu_plan.schedule`` and planned again at every finish as the leases do, without latency;
and the same after the first arrivals are served as they asked in the live run.

The ideal (the shortest makespan of any schedule of the same runs) is not known, so it is
bracketed:

- **best offline schedule found**: the runs, known in advance, placed one by one in a
  list order at the earliest time a device has room for them all the way through (ties to
  the fullest device), with the order improved by a fixed-seed local search (half the
  ``--search`` tries from the longest-first order, half from whole-device runs first,
  longest first within each kind; each try moves one run in the order, keeping a change
  that is no worse and, rarely, one that is); the longest-first list schedule (at time 0
  and at every finish, start each waiting run in longest-first order that fits now, a
  whole-device run on an empty device, a packed run best fit) is tried too. Every
  schedule is checked (no device over its memory at any start, a whole-device run alone).
  It is feasible, so the ideal is **at most** it: ``live / best`` is at most
  ``live / ideal``.
- **lower bound**: the ideal is **at least** it. The simple terms are (a) the longest run,
  (b) the memory-seconds (a whole-device run counts its device's memory) over the
  inventory's memory, (c) when more runs need a device to themselves (whole-device runs,
  runs of more than half a device) than there are devices, the sum of the n-th and
  (n+1)-th longest of them. The stronger **slice bound** needs every size to be a multiple
  of a slice ``s`` that divides a device (here 10 GiB of 80: 8 slices a device). In any
  schedule, the runs on a device can keep fixed slices for their whole run: taking them in
  order of start, the runs still going hold at most ``80 - m`` GiB when one of ``m`` GiB
  starts, so ``m / s`` slices are free for it. Each slice then runs its runs one after
  another, so their durations add up to at most the makespan ``T``; a whole-device run is
  on every slice of its device. So for ``T`` to be feasible there must be a choice, for
  each device, of the whole-device runs on it (``y_W`` devices with set ``W``, an integer)
  and ``8 y_W`` slices holding ``W`` and sets ``P`` of packed runs with durations adding
  up to at most ``T`` (``x_{W,P} >= 0``), with every whole-device run on one device and a
  run of ``m`` GiB on at least ``m / s`` slices. Dropping that a packed run's slices are on
  one device at one time, and that ``x`` is whole, only widens the choice. When
  ``scipy.optimize.milp`` (HiGHS) proves that choice infeasible for ``T``, no schedule has
  makespan ``T``; a bisection between the simple bound and the best schedule found gives
  the largest ``T`` so proven (a solve that is not proven infeasible counts as feasible).
  Without scipy the simple bound stands.

The summary prints ``live / best`` (the figure judged: the ideal is at most the best, so
the live makespan is at least that far above it) and ``live / bound`` (at most that far),
each for the median and the worst seed.
"""

from __future__ import annotations

import argparse
import heapq
import inspect
import math
import multiprocessing
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.execution.gpus import GpuLeases, fake_inventory

GIB = 2**30
DEVICE = 80  # GiB
#: (GiB of one device, or None for the whole device; seconds held)
Job = tuple[int | None, float]
#: (job index, device, start, end)
Placed = tuple[int, int, float, float]


def draw(seed: int, runs: int) -> list[Job]:
    """The runs of one seed (the same draw for every version of this benchmark)."""
    rng = random.Random(seed)
    return [
        (None, rng.uniform(0.4, 0.8))
        if i % 4 == 0
        else (rng.choice([10, 20, 40]), rng.uniform(0.4, 0.8))
        for i in range(runs)
    ]


def need(job: Job) -> int:
    return DEVICE if job[0] is None else job[0]


# -- lower bounds --------------------------------------------------------------------------
def simple_bound(jobs: list[Job], devices: int) -> tuple[float, str]:
    """The simple lower bound of the docstring and which of its terms set it."""
    longest = max(s for _, s in jobs)
    memory = sum(need(j) * j[1] for j in jobs) / (devices * DEVICE)
    alone = sorted((s for m, s in jobs if m is None or m > DEVICE // 2), reverse=True)
    pair = alone[devices - 1] + alone[devices] if len(alone) > devices else 0.0
    terms = {"longest run": longest, "memory-seconds / memory": memory, "exclusive pair": pair}
    which = max(terms, key=lambda k: terms[k])
    return terms[which], which


def _sets(lengths: dict[int, float], room: float) -> list[tuple[int, ...]]:
    """Every set of the runs in ``lengths`` whose durations add up to at most ``room``."""
    order = sorted(lengths, key=lambda j: lengths[j])
    out: list[tuple[int, ...]] = [()]

    def grow(start: int, chosen: list[int], total: float) -> None:
        for i in range(start, len(order)):
            j = order[i]
            if total + lengths[j] > room + 1e-12:
                return
            chosen.append(j)
            out.append(tuple(chosen))
            grow(i + 1, chosen, total + lengths[j])
            chosen.pop()

    grow(0, [], 0.0)
    return out


def _infeasible(jobs: list[Job], devices: int, makespan: float, slice_gib: int) -> bool:
    """Whether the slice relaxation of the docstring is proven infeasible for ``makespan``."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    per_device = DEVICE // slice_gib
    whole = [j for j, (m, _) in enumerate(jobs) if m is None]
    packed = {j: s for j, (m, s) in enumerate(jobs) if m is not None}
    wsets = _sets({j: jobs[j][1] for j in whole}, makespan)
    columns: list[tuple[int, tuple[int, ...]] | int] = list(range(len(wsets)))  # y_W first
    for w, chosen in enumerate(wsets):
        room = makespan - sum(jobs[j][1] for j in chosen)
        columns.extend((w, p) for p in _sets(packed, room))
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    row: dict[object, int] = {("whole", j): i for i, j in enumerate(whole)}
    row["devices"] = len(row)
    for w in range(len(wsets)):
        row[("slices", w)] = len(row)
    for j in packed:
        row[("packed", j)] = len(row)
    lo += [1.0] * len(whole) + [float(devices)] + [0.0] * len(wsets)
    hi += [1.0] * len(whole) + [float(devices)] + [0.0] * len(wsets)
    lo += [float(need(jobs[j]) // slice_gib) for j in packed]
    hi += [np.inf] * len(packed)
    for c, column in enumerate(columns):
        if isinstance(column, int):  # y_W: devices holding whole-device set W
            entries = [(row[("whole", j)], 1.0) for j in wsets[column]]
            entries += [(row["devices"], 1.0), (row[("slices", column)], -per_device)]
        else:  # x_{W,P}: slices holding W and the packed set P
            w, chosen = column
            entries = [(row[("slices", w)], 1.0)] + [(row[("packed", j)], 1.0) for j in chosen]
        for r, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(row), len(columns))).tocsr()
    integer = np.array([1 if isinstance(c, int) else 0 for c in columns])
    found = milp(
        np.zeros(len(columns)),
        constraints=LinearConstraint(matrix, lo, hi),
        integrality=integer,
        bounds=Bounds(0, np.inf),
        options={"time_limit": 20},
    )
    return bool(found.status == 2)  # 2: proven infeasible; a time limit proves nothing


def slice_bound(jobs: list[Job], devices: int, low: float, high: float) -> tuple[float, str]:
    """The largest makespan the slice relaxation proves infeasible, bisected between
    ``low`` (a valid bound) and ``high`` (a feasible makespan); ``low`` and why when it
    cannot be used."""
    sizes = [m for m, _ in jobs if m is not None] + [DEVICE]
    slice_gib = math.gcd(*sizes)
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        return low, "scipy is not installed"
    while high - low > 5e-4:
        middle = (low + high) / 2
        if _infeasible(jobs, devices, middle, slice_gib):
            low = middle
        else:
            high = middle
    return low, f"slice bound, {DEVICE // slice_gib} slices a device"


# -- feasible offline schedules ------------------------------------------------------------
def check(jobs: list[Job], devices: int, placed: list[Placed]) -> float:
    """The makespan of ``placed``; ValueError if it is not a schedule of ``jobs``."""
    if sorted(j for j, *_ in placed) != list(range(len(jobs))):
        raise ValueError("not every run placed once")
    for j, d, start, end in placed:
        if not (0 <= d < devices and start >= 0 and abs(end - start - jobs[j][1]) < 1e-9):
            raise ValueError(f"run {j} is misplaced")
        held = [(k, s, e) for k, dd, s, e in placed if dd == d and s <= start < e]
        if sum(need(jobs[k]) for k, _, _ in held) > DEVICE:
            raise ValueError(f"device {d} is over-committed at {start:.3f}")
    return max(end for *_, end in placed)


def list_schedule(jobs: list[Job], devices: int) -> list[Placed]:
    """The offline longest-first list schedule of the docstring."""
    waiting = sorted(range(len(jobs)), key=lambda j: -jobs[j][1])
    used = [0] * devices
    finishes: list[tuple[float, int, int]] = []
    placed: list[Placed] = []
    now = 0.0
    while True:
        for j in list(waiting):
            memory, seconds = jobs[j]
            if memory is None:
                fits = [d for d in range(devices) if used[d] == 0]
            else:
                fits = sorted(
                    (d for d in range(devices) if DEVICE - used[d] >= memory),
                    key=lambda d: (DEVICE - used[d], d),
                )
            if fits:
                used[fits[0]] += need(jobs[j])
                heapq.heappush(finishes, (now + seconds, fits[0], need(jobs[j])))
                placed.append((j, fits[0], now, now + seconds))
                waiting.remove(j)
        if not finishes:
            return placed
        now, device, size = heapq.heappop(finishes)
        used[device] -= size


def serial(order: list[int], jobs: list[Job], devices: int) -> list[Placed]:
    """Each run in ``order`` at the earliest time a device has room for it all the way
    through, ties to the device with the most held then."""
    on: list[list[tuple[float, float, int]]] = [[] for _ in range(devices)]
    placed: list[Placed] = []
    for j in order:
        size, seconds = need(jobs[j]), jobs[j][1]
        best: tuple[float, int, int] | None = None  # (start, -held then, device)
        for d in range(devices):
            held = on[d]
            for start in sorted({0.0, *(e for _, e, _ in held)}):
                if best is not None and start > best[0] + 1e-12:
                    break
                points = [start, *(s for s, _, _ in held if start < s < start + seconds)]
                if all(sum(m for s, e, m in held if s <= q < e) + size <= DEVICE for q in points):
                    used = sum(m for s, e, m in held if s <= start < e)
                    if best is None or (start, -used, d) < best:
                        best = (start, -used, d)
                    break
        assert best is not None  # an empty device's end always has room
        start, _, d = best
        on[d].append((start, start + seconds, size))
        placed.append((j, d, start, start + seconds))
    return placed


def best_offline(jobs: list[Job], devices: int, tries: int, seed: int) -> tuple[float, str]:
    """The shortest checked schedule found (see the docstring) and how it was found."""
    listed = check(jobs, devices, list_schedule(jobs, devices))
    longest = sorted(range(len(jobs)), key=lambda j: -jobs[j][1])
    whole_first = sorted(range(len(jobs)), key=lambda j: (jobs[j][0] is not None, -jobs[j][1]))
    found = []
    for start, name in ((longest, "longest first"), (whole_first, "whole-device runs first")):
        rng = random.Random(seed)
        order = start
        current = best = check(jobs, devices, serial(order, jobs, devices))
        for _ in range(tries // 2):
            trial = order[:]
            trial.insert(rng.randrange(len(trial)), trial.pop(rng.randrange(len(trial))))
            value = check(jobs, devices, serial(trial, jobs, devices))
            if value <= current or rng.random() < 0.02:
                order, current = trial, value
                best = min(best, value)
        found.append((best, name))
    best, name = min(found)
    if listed <= best:
        return listed, "the longest-first list schedule"
    return best, (
        f"local search from {name}, {tries // 2} tries from each of two orders "
        f"(longest-first list schedule {listed:.3f} s)"
    )


@dataclass(frozen=True, slots=True)
class Variant:
    """A change to the lease rule, for ``gpu_rules.py --variants`` to simulate; the default
    is the rule the leases follow. ``whole_weight``: a whole-device run ranks by its
    expected seconds times this; ``empty_to_whole``: a packed run does not take an empty
    device while no more devices are empty than whole-device runs wait; ``drain``: a
    whole-device waiter reserves the device whose leases are expected to end first, not the
    one with the least leased; ``backfill``: a packed run may take a device reserved for
    another when it is expected to end before the device drains."""

    whole_weight: float = 1.0
    empty_to_whole: bool = False
    drain: bool = False
    backfill: bool = False


def lease_rule(
    jobs: list[Job],
    devices: int,
    durations: bool,
    asked: list[int] | None = None,
    variant: Variant = Variant(),
    estimates: list[float] | None = None,
) -> float:
    """The makespan of the lease rule alone (see the docstring), all runs asking at 0; with
    ``asked`` (the runs in the order they asked), each is served as it asks until the first
    that must wait, as live leases serve requests that arrive before any waiter is queued,
    and by rank from then on; with ``variant``, the rule so changed; with ``estimates``,
    ranked by them instead of the true durations (the runs still take their true time)."""
    weight = [variant.whole_weight if m is None else 1.0 for m, _ in jobs]
    told = estimates or [s for _, s in jobs]
    waiting = sorted(
        range(len(jobs)), key=lambda j: (-weight[j] * told[j] if durations else 0.0, j)
    )
    used = [0] * devices
    whole = [False] * devices
    reserved: list[int | None] = [None] * devices
    finishes: list[tuple[float, int, int]] = []
    now = 0.0

    def drains(d: int) -> float:  # when device d is expected to be empty
        return max((end for end, on, _ in finishes if on == d), default=now)

    def start(j: int) -> bool:
        nonlocal reserved
        memory, seconds = jobs[j]
        if memory is None:
            fits = sorted(
                (d for d in range(devices) if used[d] == 0),
                key=lambda d: (reserved[d] != j, reserved[d] is not None, d),
            )
        else:
            room = DEVICE - need(jobs[j])
            fits = sorted(
                (
                    d
                    for d in range(devices)
                    if used[d] <= room
                    and (
                        reserved[d] in (None, j)
                        or (variant.backfill and now + seconds <= drains(d) + 1e-9)
                    )
                ),
                key=lambda d: (-used[d], d),
            )
            if variant.empty_to_whole and fits and used[fits[0]] == 0:
                empty = sum(1 for d in range(devices) if used[d] == 0 and reserved[d] is None)
                wholes = sum(1 for k in waiting if jobs[k][0] is None and k not in reserved)
                if empty <= wholes:
                    fits = []
        if not fits:
            return False
        used[fits[0]] += need(jobs[j])
        whole[fits[0]] = memory is None
        reserved = [None if r == j else r for r in reserved]
        heapq.heappush(finishes, (now + seconds, fits[0], need(jobs[j])))
        waiting.remove(j)
        return True

    for j in asked or []:
        if not start(j):
            break
    while True:
        started = True
        while started:  # the best-ranked waiter that fits starts, then look again
            started = False
            for j in waiting:
                if start(j):
                    started = True
                    break
                if jobs[j][0] is None and j not in reserved:
                    free = [d for d in range(devices) if reserved[d] is None and not whole[d]]
                    if free and sum(r is not None for r in reserved) < max(devices // 2, 1):
                        quickest = (lambda d: (drains(d), d)) if variant.drain else None
                        reserved[min(free, key=quickest or (lambda d: (used[d], d)))] = j
        if not finishes:
            return now
        now, device, size = heapq.heappop(finishes)
        used[device] -= size
        whole[device] = False


def planned_queue(
    jobs: list[Job],
    devices: int,
    asked: list[int] | None = None,
    estimates: list[float] | None = None,
) -> float | None:
    """The makespan of the planned queue alone (``gpu_plan.schedule``, as the leases plan a
    queue whose durations are all known), without latency: all runs waiting at time 0 and
    planned again at every finish, each plan keeping the one before where it holds; with
    ``asked``, the runs served as they asked until the first that must wait, as live leases
    serve requests that arrive before any plan; with ``estimates``, planned from them
    instead of the true durations (the runs still take their true time, and a run past
    its estimate is planned as ending at once). None when this version has no plan."""
    told = estimates or [s for _, s in jobs]
    try:
        from pytest_repro.execution import gpu_plan
        from pytest_repro.execution.gpu_state import Device, Request
    except ImportError:
        return None
    inventory = tuple(Device(str(d), DEVICE * GIB) for d in range(devices))
    requests = {
        j: Request(
            token=f"{j:04d}",
            count=1,
            memory=None if m is None else m * GIB,
            devices=inventory,
            since=0.0,
            expected=told[j],
        )
        for j, (m, _) in enumerate(jobs)
    }
    running: list[tuple[float, int, int, float]] = []  # (end, device, job, start)
    waiting = set(range(len(jobs)))

    def start(j: int, d: int, now: float) -> None:
        running.append((now + jobs[j][1], d, j, now))
        waiting.discard(j)

    for j in asked or []:  # served as they ask: a whole device empty, a packed run best fit
        used = [sum(need(jobs[k]) for _, dd, k, _ in running if dd == d) for d in range(devices)]
        fits = [d for d in range(devices) if used[d] + need(jobs[j]) <= DEVICE]
        if jobs[j][0] is None:
            fits = [d for d in fits if used[d] == 0]
        if not fits:
            break
        start(j, min(fits, key=lambda d: (DEVICE - used[d], d)), 0.0)
    now, before, placed = 0.0, {}, []
    while waiting or running:
        if waiting:
            held = {
                str(d): [
                    gpu_plan.Held(need(jobs[j]) * GIB, jobs[j][0] is None, at + told[j] - now)
                    for _, dd, j, at in running
                    if dd == d
                ]
                for d in range(devices)
            }
            plan = gpu_plan.schedule(
                inventory, held, [requests[j] for j in sorted(waiting)], now, before=before
            )
            before = {t: (now + p.start, p.devices) for t, p in plan.items()}
            for j in sorted(waiting):
                mine = plan.get(f"{j:04d}")
                d = -1 if mine is None else int(mine.devices[0])
                on = [k for _, dd, k, _ in running if dd == d]
                room = DEVICE - sum(need(jobs[k]) for k in on)
                free = room >= need(jobs[j]) and not any(jobs[k][0] is None for k in on)
                if mine is not None and mine.start <= 1e-9 and free:  # room, as leases check
                    start(j, d, now)
        if not running:  # pragma: no cover - a plan starts a run on an empty inventory
            raise RuntimeError("the plan started nothing on an empty inventory")
        running.sort()
        now = running[0][0]
        # what ends within the plan's rounding (a nanosecond) of now has ended
        placed += [(j, d, at, end) for end, d, j, at in running if end <= now + 1e-9]
        running = [r for r in running if r[0] > now + 1e-9]
    return check(jobs, devices, placed)


# -- the live leases -----------------------------------------------------------------------
@dataclass(slots=True)
class _Started:
    """When the runs were let go (a process-shared ``Value`` when they are processes)."""

    value: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Live:
    makespan: float
    over: int  # over-committed samples
    whole_wait: float  # mean seconds a whole-device run waited
    packed_wait: float
    handoff: tuple[float, float]  # median, p90 seconds from a release to a grant there
    start: float  # seconds until every device had held a lease
    grants: list[tuple[int, str, float, float, float]]  # job, device, asked, got, released


def _over(holders: dict[str, list[dict[str, object]]]) -> list[str]:
    """The devices among ``holders`` that hold more than their memory, or a whole lease
    beside another."""
    over = []
    for device, held in holders.items():
        whole = any(h.get("whole") for h in held)
        if sum(int(str(h["bytes"])) for h in held) > DEVICE * GIB or (whole and len(held) > 1):
            over.append(device)
    return over


def _run(
    leases: GpuLeases, job: Job, durations: bool, go: Any, started: Any
) -> tuple[str, float, float, float, list[str]]:
    """One run: say it is ready, wait for ``go``, lease, check the device as granted, hold
    for the job's seconds, release. Its device, when it asked, got and released (seconds
    from ``started.value``, on the monotonic clock every process shares), and what the
    check at the grant found over-committed."""
    memory, seconds = job
    extra = {"expected": seconds} if durations else {}
    go[0].wait()  # ready
    go[1].wait()
    asked = time.monotonic() - started.value
    with leases.lease(1, memory=None if memory is None else memory * GIB, **extra) as ids:
        got = time.monotonic() - started.value
        over = _over(leases.holders(ids[0]))  # as granted, with this lease in it
        # the check is the watcher's time, not the run's: it holds for ``seconds`` in all
        time.sleep(max(0.0, got + seconds - (time.monotonic() - started.value)))
    return ids[0], asked, got, time.monotonic() - started.value, over


def _process(
    lock_dir: str,
    devices: int,
    poll: float,
    job: Job,
    durations: bool,
    go: Any,
    started: Any,
    out: Any,
    j: int,
) -> None:
    """A run in a process of its own, with its own leases on the shared files, as a
    session's xdist workers have."""
    leases = GpuLeases(Path(lock_dir), devices=fake_inventory(f"{devices}x80GiB"), poll=poll)
    out.put((j, *_run(leases, job, durations, go, started)))


def live(jobs: list[Job], devices: int, poll: float, durations: bool, processes: bool) -> Live:
    """Run ``jobs`` through real leases, one thread (or process) each, all asking at once."""
    with tempfile.TemporaryDirectory() as tmp:
        leases = GpuLeases(Path(tmp), devices=fake_inventory(f"{devices}x80GiB"), poll=poll)
        over: list[str] = []
        grants: list[tuple[int, str, float, float, float]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                over.extend(_over(leases.holders()))
                time.sleep(0.02)

        def record(
            j: int, device: str, asked: float, got: float, released: float, found: list[str]
        ) -> None:
            grants.append((j, device, asked, got, released))
            over.extend(found)

        context = multiprocessing.get_context("fork")
        go = (  # every run is ready, then every run asks at once
            (context.Barrier(len(jobs) + 1), context.Event())
            if processes
            else (threading.Barrier(len(jobs) + 1), threading.Event())
        )
        started = context.Value("d", 0.0) if processes else _Started()
        out = context.Queue()
        if processes:
            workers: list[Any] = [
                context.Process(
                    target=_process,
                    args=(tmp, devices, poll, jobs[j], durations, go, started, out, j),
                )
                for j in range(len(jobs))
            ]
        else:
            workers = [
                threading.Thread(
                    target=lambda j=j: record(j, *_run(leases, jobs[j], durations, go, started))
                )
                for j in range(len(jobs))
            ]
        for w in workers:  # forked before the watcher thread starts: a fork copies no thread
            w.start()
        watcher = threading.Thread(target=watch)
        watcher.start()
        go[0].wait()
        started.value = time.monotonic()
        go[1].set()
        if processes:
            for _ in jobs:
                while True:
                    try:
                        record(*out.get(timeout=1.0))
                        break
                    except queue.Empty:  # a run that died sends nothing: say so
                        if any(w.exitcode not in (None, 0) for w in workers):
                            raise RuntimeError(
                                "a run's process failed; its error is above"
                            ) from None
        for w in workers:
            w.join()
        makespan = time.monotonic() - started.value
        stop.set()
        watcher.join()
    waits = {
        kind: [got - asked for j, _, asked, got, _ in grants if (jobs[j][0] is None) == kind]
        for kind in (True, False)
    }
    handoff = []
    for j, device, asked, got, _ in grants:  # a release on the device, then this grant there
        before = [r for k, d, _, _, r in grants if d == device and k != j and asked < r <= got]
        if before:
            handoff.append(got - max(before))
    handoff.sort()
    first: dict[str, float] = {}
    for _, device, _, got, _ in grants:
        first[device] = min(got, first.get(device, got))
    return Live(
        makespan=makespan,
        over=len(over),
        whole_wait=statistics.mean(waits[True]) if waits[True] else 0.0,
        packed_wait=statistics.mean(waits[False]) if waits[False] else 0.0,
        handoff=(
            (statistics.median(handoff), handoff[int(0.9 * (len(handoff) - 1))])
            if handoff
            else (0.0, 0.0)
        ),
        start=max(first.values()) if len(first) == devices else makespan,
        grants=grants,
    )


# -- the report ----------------------------------------------------------------------------
def bracket(
    jobs: list[Job], devices: int, search: int, seed: int
) -> tuple[float, str, float, str, float, str]:
    """The ideal bracketed: the best offline schedule found and how, the lower bound and
    why, and the simple bound and which of its terms set it."""
    best, how = best_offline(jobs, devices, search, seed)
    simple, which = simple_bound(jobs, devices)
    bound, why = slice_bound(jobs, devices, simple, best)
    return best, how, bound, why, simple, which


def summary(label: str, ratios: list[tuple[float, float]]) -> str:
    """The summary line of one mode from each seed's (live / best, live / bound)."""
    best_r = sorted(r for r, _ in ratios)
    bound_r = sorted(r for _, r in ratios)
    return (
        f"  {label:<16} live / best offline: median {statistics.median(best_r):.3f}x, "
        f"worst {best_r[-1]:.3f}x; live / lower bound: median "
        f"{statistics.median(bound_r):.3f}x, worst {bound_r[-1]:.3f}x; so on the worst "
        f"seed at least {100 * (best_r[-1] - 1):.0f}% and at most "
        f"{100 * (bound_r[-1] - 1):.0f}% above the ideal"
    )


def seeds(text: str) -> list[int]:
    """``0-4`` or ``0,2,5`` as seeds."""
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seeds", type=seeds, default=None, help="e.g. 0-4 or 0,2,5")
    parser.add_argument("--seed", type=int, default=None, help="one seed (same as --seeds N)")
    parser.add_argument("--search", type=int, default=2000, help="local-search tries per seed")
    parser.add_argument("--repeat", type=int, default=1, help="live runs per mode (median)")
    parser.add_argument("--poll", type=float, default=0.005)
    parser.add_argument(
        "--processes", action="store_true", help="each run a process of its own (xdist's case)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every run's seconds (default 1)"
    )
    args = parser.parse_args()
    chosen = args.seeds or [args.seed if args.seed is not None else 0]
    knows = "expected" in inspect.signature(GpuLeases.lease).parameters
    modes = [False, True] if knows else [False]
    ratios: dict[bool, list[tuple[float, float]]] = {m: [] for m in modes}
    for seed in chosen:
        jobs = [(m, args.scale * seconds) for m, seconds in draw(seed, args.runs)]
        whole = sum(1 for m, _ in jobs if m is None)
        print(
            f"seed {seed}: {args.runs} runs ({whole} whole-device, {args.runs - whole} packed) "
            f"on {args.gpus} x {DEVICE} GiB, each a {'process' if args.processes else 'thread'}"
            + (f", seconds x{args.scale:g}" if args.scale != 1 else "")
        )
        best, how, bound, why, simple, which = bracket(jobs, args.gpus, args.search, seed)
        print(
            f"  ideal between {bound:.3f} s ({why}; simple bound {simple:.3f} s, {which}) "
            f"and {best:.3f} s (best offline schedule: {how})"
        )
        memory_seconds = sum(need(j) * j[1] for j in jobs) / (args.gpus * DEVICE)
        for durations in modes:
            tries = [
                live(jobs, args.gpus, args.poll, durations, args.processes)
                for _ in range(args.repeat)
            ]
            got = sorted(tries, key=lambda t: t.makespan)[(len(tries) - 1) // 2]
            ratios[durations].append((got.makespan / best, got.makespan / bound))
            label = "given each run's duration" if durations else "no durations"
            rule = ""
            if knows:  # this version's rule; an older GpuLeases follows another
                alone = lease_rule(jobs, args.gpus, durations)
                asked = [j for j, *_ in sorted(got.grants, key=lambda g: g[2])]
                arrived = lease_rule(jobs, args.gpus, durations, asked)
                rule = f"lease rule alone {alone:.3f} s = {alone / best:.3f}x best; "
                rule += f"live / rule {got.makespan / alone:.3f}x; the rule serving the "
                rule += f"first arrivals as they asked {arrived / alone:.3f}x the rule; "
                whole_queue = planned_queue(jobs, args.gpus) if durations else None
                if whole_queue is not None:
                    as_asked = planned_queue(jobs, args.gpus, asked)
                    rule += f"\n    the queue planned alone {whole_queue / best:.3f}x best, "
                    rule += f"after the first arrivals served as they asked {as_asked / best:.3f}x "
                    rule += f"best; live / that {got.makespan / as_asked:.3f}x; "
            print(
                f"  live, {label}: makespan {got.makespan:.3f} s"
                + (f" (median of {args.repeat})" if args.repeat > 1 else "")
                + f" = {got.makespan / best:.3f}x best, {got.makespan / bound:.3f}x bound; "
                f"over-committed {sum(t.over for t in tries)}\n    {rule}"
                f"mean wait whole {got.whole_wait:.2f} s, "
                f"packed {got.packed_wait:.2f} s; release to grant "
                f"{1000 * got.handoff[0]:.0f} ms median, {1000 * got.handoff[1]:.0f} ms p90; "
                f"every device leased by {got.start:.3f} s; memory held "
                f"{memory_seconds / got.makespan:.0%}"
            )
    print(f"summary over seeds {','.join(map(str, chosen))} (goal: within 10% of the ideal):")
    for durations in modes:
        print(summary("given durations" if durations else "no durations", ratios[durations]))
    if not knows:
        print("  (this GpuLeases.lease takes no expected durations: only the first mode ran)")


if __name__ == "__main__":
    main()
