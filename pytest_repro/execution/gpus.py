"""GPU leases shared by every process of a session (xdist workers) and by other sessions.

A run that asks for ``resources: {gpus: N}`` holds N whole devices for its duration; with
``gpu_memory: 20GiB`` it holds that much memory on each of N devices, so small runs pack
onto one device and never over-commit it. Each device has a small state file of its
holders (``gpu-<id>.json``: lease token, holding process, bytes) changed only under that
device's file lock and replaced whole (see :mod:`pytest_repro.execution.gpu_files`), so
pytest-xdist workers and concurrent sessions in one checkout share one account; a holder
whose process has died is dropped when the file is next read. A memory lease goes to the
device with the least memory free that still fits it (best fit), which keeps whole devices
free for whole-device runs.

A request that has to wait writes a file of its own in ``gpus-waiting/`` (its token, what
it asks for, when it began to wait and the seconds it is ``expected`` to hold its devices,
e.g. the ledger's estimate) and waiters are served in **rank** order: the time a request
began to wait less its expected seconds. So of runs that wait together the longest goes
first, as a longest-first list schedule does, and a request overtakes one that waited
longer only by as much as it is expected to run longer, so none waits forever; without
``expected`` it is first come, first served. Free room goes to the best-ranked waiter that
fits it; a waiter claims only what the waiters ranked before it leave (the plan of
:func:`pytest_repro.execution.gpu_state.plan`, worked out alike by every waiter from the
same files), and tries only the devices the plan gives it; a waiter that fits nowhere
holds nobody up. A request that arrives claims at once what the plan leaves it.

A whole-device run needs an empty device, and packed runs arriving one after another
would keep every device busy. So a whole-device request that finds no empty device
**reserves** devices (an entry ``reserve: true`` in the same state file): no new packed run
lands on a reserved device, which drains, and the request takes it when it is empty (its
lease replaces the reservation), unless a better-ranked whole-device request takes it first
(the reservation then stays for the next time it drains). The request renews its
reservation and its waiting file while it waits and drops both when it gets its devices,
times out or is interrupted; a reserver or waiter whose process died is dropped like a dead
holder, and one not renewed for :data:`STALE_RESERVATION` seconds (a stopped process, a
reused pid) too. Packed runs are never starved: reservations cover at most half the
devices at once (at least one; a request for more devices than that may reserve all it
needs, alone), only a device not held whole can be reserved, and a reserved device takes
no new runs, so it drains within its longest current run. A request for several whole
devices reserves all of them or none, so two such requests cannot each hold part of what
the other waits for.

When every waiting request and every lease has an expected duration (a lease records its
expected end, ``until``), the queue is **planned** whole instead
(:func:`pytest_repro.execution.gpu_plan.schedule`: the shortest of several list schedules
and a short local search, from the leases' expected ends), and the plan is written to one
file (``gpus-plan.json``: each request's planned start and devices) by one request at a
time, under the file's lock, while the others wait for the file to change. A request the
plan holds claims its planned devices once no waiter planned before it on one of them is
still waiting and the room is free (so a run whose predecessor ends early starts early),
and reserves nothing: the plan keeps room for it. The queue is planned again when a
request the plan does not hold has been waiting and no request has begun to wait for a
poll (a burst of requests is planned at once), or has waited ten polls; or when a waiter
is late on its planned start by four polls and a tenth of its expected duration (a lease
ran longer than expected). A new plan keeps the one in force where it still fits. A
request expected to run two minutes (and 200 polls) or more waits for the plan to hold it
even when it finds room as it arrives, so the runs of a burst are planned together rather
than the first of them placed as they ask; the wait is a poll or two and the plan. A queue
of such runs is also planned again whenever a lease ends (the plan file names the leases
it was made around), so a run that ended early or late moves the later starts (the view of
the files and these rules: :mod:`pytest_repro.execution.gpu_view`). Until
the plan holds a request, and in a queue with any request or lease of unknown duration
(or a request for devices this session does not lease), requests are served by rank as
above.

Waiters look for changes cheaply (one ``stat`` per state file and of the waiting folder
each poll, shared by the threads of a process), read again only the files that changed,
and one of them reads every file every ``rescan`` seconds (to notice dead holders and
stale entries, whose waiting files it removes). A claim that another request beat to the
room under the lock (its view was older than that request's write) looks again at once,
with fresh stamps, instead of sleeping a poll: the room it did not get may be free
elsewhere. After a few such races in a row it sleeps a poll, so requests that keep undoing
each other's claims take turns.

The devices are an outer ``CUDA_VISIBLE_DEVICES`` (or every GPU ``nvidia-smi`` lists), with
their memory from ``nvidia-smi``; ``--repro-gpus`` picks among them by position, and
``PYTEST_REPRO_FAKE_GPUS`` (``"0:80GiB,1:40GiB"`` or ``"8x80GiB"``) stands in for the
inventory, so the scheduler is tested on a machine without GPUs::

    leases = GpuLeases(Path(".repro/locks"), devices=fake_inventory("2x80GiB"))
    with leases.lease(1, memory=20 * 2**30, expected=600.0) as ids:   # ("0",)
        ...
"""

from __future__ import annotations

import functools
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pytest_repro.execution import gpu_files as files
from pytest_repro.execution import gpu_plan as gp
from pytest_repro.execution import gpu_state as st
from pytest_repro.execution.gpu_files import Stamp
from pytest_repro.execution.gpu_inventory import (
    FAKE_GPUS,
    fake_inventory,
    inventory,
    select,
    visible_gpus,
)
from pytest_repro.execution.gpu_state import STALE_RESERVATION, Device, Entry, Request
from pytest_repro.execution.gpu_view import View

#: The folder, in the lock folder, of the waiting requests' files (``<token>.json``).
WAITING = "gpus-waiting"
#: The file, in the lock folder, of the plan of a queue whose durations are all known.
PLAN = "gpus-plan.json"


#: Races for room a request may lose in a row and look again at once, before it sleeps a poll.
_RACES = 8


class GpuLeases:
    """Hands out devices, whole or by memory, under per-device state files in ``lock_dir``.

    ``poll`` is the seconds between a waiter's looks for a change; ``rescan`` (default the
    larger of ``poll`` and one second) the longest it goes without reading every file."""

    def __init__(
        self,
        lock_dir: Path,
        devices: Sequence[Device | str] | None = None,
        poll: float = 0.5,
        rescan: float | None = None,
    ) -> None:
        self.lock_dir = lock_dir
        found = inventory() if devices is None else devices
        self.devices = tuple(d if isinstance(d, Device) else Device(d) for d in found)
        self.poll = poll
        self.rescan = max(poll, 1.0) if rescan is None else rescan
        self._paths = {
            d.id: lock_dir / f"gpu-{re.sub(r'[^A-Za-z0-9._-]', '_', d.id)}.json"
            for d in self.devices
        }
        self._waiting = lock_dir / WAITING
        self._plan = lock_dir / PLAN
        #: each file's stamp and live entries as this process's threads last read them
        self._seen: dict[Path, tuple[Stamp, list[Entry]]] = {}
        self._view: View | None = None  # the last look of any of this process's threads
        #: the plan file's stamp and plan as this process last read them
        self._planned: (
            tuple[Stamp, dict[str, tuple[float, tuple[str, ...]]], frozenset[str]] | None
        ) = None
        self._stamped: tuple[float, tuple[Stamp, ...]] | None = None  # when, and the stamps
        self._posted: dict[str, tuple[int, Entry]] = {}  # the waiting files read: inode, entry
        self._scanned = -float("inf")  # when a thread here last read every file (monotonic)

    @contextmanager
    def lease(
        self,
        count: int,
        timeout: float | None = None,
        memory: int | None = None,
        expected: float | None = None,
    ) -> Iterator[tuple[str, ...]]:
        """Hold ``count`` devices (``memory`` bytes on each, or all of each) for the block;
        waits while they are busy (a whole-device request reserves devices meanwhile).
        ``expected`` is the seconds the block is expected to take (None when unknown): among
        waiters, longer runs go first (see the module docstring).
        RuntimeError when no wait can satisfy the request, TimeoutError after ``timeout``,
        ValueError for an ``expected`` that is not a finite number of seconds >= 0."""
        if expected is not None and not (math.isfinite(expected) and expected >= 0):
            raise ValueError(f"expected={expected!r} is not a number of seconds >= 0; pass None")
        if count <= 0:
            yield ()
            return
        self._check(count, memory)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        request = Request(
            token=uuid.uuid4().hex,
            count=count,
            memory=memory,
            devices=self.devices,
            since=time.time(),
            expected=expected or 0.0,
        )
        held = self._acquire(request, timeout)
        try:
            yield tuple(d.id for d in held)
        finally:
            for device in held:
                self._update(device, lambda holders: st.without(holders, request.token))

    def holders(self, *ids: str) -> dict[str, list[Entry]]:
        """Every device's live leases, or those of the devices ``ids`` names, reservations
        left out (what the benchmark and tests check for over-commit)."""
        chosen = [d for d in self.devices if not ids or d.id in ids]
        if not self.lock_dir.is_dir():  # no lease was ever asked for here
            return {d.id: [] for d in chosen}
        return {d.id: st.leases(files.read(self._paths[d.id])) for d in chosen}

    def reservations(self) -> dict[str, list[Entry]]:
        """Every device's live reservations (at most one each)."""
        return {
            d.id: [h for h in files.read(self._paths[d.id]) if h.get("reserve")]
            for d in self.devices
        }

    def waiting(self) -> list[Entry]:
        """The live waiting requests' entries, first served first."""
        entries = st.alive(list(files.posts(self._waiting, {})[0].values()))
        ranked = [(st.rank(r), e) for e in entries if (r := st.waiter(e)) is not None]
        return [e for _, e in sorted(ranked, key=lambda pair: pair[0])]

    # -- inside ------------------------------------------------------------------------------
    def _check(self, count: int, memory: int | None) -> None:
        if count > len(self.devices):
            raise RuntimeError(
                f"the run needs {count} GPU{'s' if count > 1 else ''} but "
                + (
                    f"only {len(self.devices)} {'is' if len(self.devices) == 1 else 'are'} visible"
                    if self.devices
                    else "no GPU is visible (CUDA_VISIBLE_DEVICES / nvidia-smi)"
                )
            )
        if memory is not None:
            fits = [d for d in self.devices if d.memory is None or d.memory >= memory]
            if len(fits) < count:
                largest = max((d.memory or 0 for d in self.devices), default=0)
                raise RuntimeError(
                    f"the run asks for {_size(memory)} of GPU memory on {count} device(s), but "
                    f"the largest visible device has {_size(largest)}; lower "
                    "run.resources.gpu_memory, or run it where a larger GPU is visible"
                )

    def _acquire(self, request: Request, timeout: float | None) -> list[Device]:
        deadline = None if timeout is None else time.monotonic() + timeout
        token, count = request.token, request.count
        reserving = request.memory is None
        queued = False
        reserved: set[Device] = set()  # every device this request reserved (to drop at the end)
        mine: list[Device] = []  # the devices reserved for it now
        renewed = time.monotonic()
        stamp: tuple[Stamp, ...] | None = None
        looked = time.monotonic()
        raced = False
        races = 0  # races lost in a row since the last poll's sleep
        wake = math.inf  # when the plan of the queue falls due (time.time()): look again then
        try:
            while True:
                now = time.monotonic()
                current = self._stamp(now, share=not raced)
                fresh = now - self._scanned >= self.rescan  # no thread here read all lately
                if current != stamp or now - looked >= self.rescan or fresh or time.time() >= wake:
                    stamp, looked = current, now
                    if fresh:
                        self._scanned = now
                    view = self._look(current, fresh)
                    states = view.states
                    held, fits, raced = self._try(request, view)
                    if held is not None:
                        reserved.difference_update(held)  # claiming took their reservation
                        return held
                    if fits:  # room goes to better-ranked waiters, or the view was old
                        stamp = None  # look again at the next poll (at once after a race)
                    if not queued:  # from now on the others see it waiting
                        files.post(self._waiting, token, request.entry(time.time()))
                        queued = True
                    wake = math.inf
                    if view.planning and request.expected > 0:
                        wake = gp.due(view.planned, view.queue, self.poll)
                        if view.released(self.poll):
                            wake = time.time()
                        if queued and wake <= time.time():
                            # written, or another request wrote one since: look again in a
                            # poll; another is writing one: its file's change wakes this
                            # one, or in a few polls, should it find the plan holds
                            busy = self._replan() is None
                            wake = time.time() + (4 if busy else 1) * self.poll
                    if view.follows(request):  # the plan keeps room for it, not a reservation
                        if mine:
                            self._unreserve(mine, token)
                            mine = []
                    elif reserving and not fits:  # no empty device: drain some
                        mine = [d for d in self.devices if st.reserver(states[d.id]) == token]
                        if len(mine) < count:
                            if mine:  # one was dropped as stale: start again, all or none
                                self._unreserve(mine, token)
                            reserved.update(self._reserve(count, token, states))
                            mine = []
                if now - renewed > STALE_RESERVATION / 4:
                    renewed = now
                    if queued:
                        files.post(self._waiting, token, request.entry(time.time()))
                    for device in mine:
                        self._update(device, lambda h: st.renew(h, token))
                if deadline is not None and time.monotonic() > deadline:
                    what = f"{count} GPU(s)" + (
                        f" with {_size(request.memory)} free" if request.memory else ""
                    )
                    raise TimeoutError(f"no {what} became free within {timeout:.0f}s")
                if raced and races < _RACES:  # another request took the room first: look now
                    races += 1
                    continue
                races = 0  # two requests that keep undoing each other's claims take turns
                time.sleep(self.poll)
        finally:
            self._unreserve([d for d in self.devices if d in reserved], token)
            if queued:
                files.unpost(self._waiting, token)

    def _try(self, request: Request, view: View) -> tuple[list[Device] | None, bool, bool]:
        """Claim the devices ``request`` may take in ``view`` once the waiters ranked before
        it have taken what they fit, each checked again under its device's lock (waited
        for: its holder is only rewriting the file): the devices, or None with any partial
        claim undone; whether it fitted in ``view`` (False: it has to wait for room); and
        whether a claim was refused under the lock (another request changed the device
        since ``view``, so a new look may find room at once).
        Only the planned devices are tried, so that a run never lands on a device the plan
        keeps for another; when one no longer has the room, the view was old."""
        order = st.order(self.devices, view.room, request.memory, request.token)
        if len(order) < request.count:
            return None, False, False
        if view.awaits_plan(request, self.poll):
            return None, True, False
        if view.queue:
            order = view.plan(request)
            if len(order) < request.count:
                return None, True, False  # what is free goes to waiters before this one
        held: list[Device] = []
        for device in order[: request.count]:
            if not self._update(device, functools.partial(_claim, device, request)):
                for got in held:
                    self._update(got, lambda holders: st.without(holders, request.token))
                return None, True, True
            held.append(device)
        return held, True, False

    def _replan(self) -> bool | None:
        """Write a new plan of the queue (:func:`gpu_plan.schedule`) from the files as they
        are now, unless the plan on file still holds (False) or another request is writing
        one (None)."""

        def change(entries: list[Entry]) -> list[Entry] | None:
            view = self._look(self._stamp(time.monotonic(), share=False), fresh=False)
            now = time.time()
            old = gp.loaded(entries)
            if not view.planning or not (
                gp.stale(old, view.queue, now, self.poll) or view.released(self.poll)
            ):
                return None
            held = gp.holding(view.states, now)
            shortest = min(r.expected for r in view.queue)
            budget = min(max(shortest / 100, 0.005), 1.0)  # the search's share of a run
            plan = gp.schedule(self.devices, held, view.queue, now, before=old, budget=budget)
            running = (h.get("token") for es in view.states.values() for h in st.leases(es))
            return gp.written(plan, now, map(str, running))

        return files.write(self._plan, change, wait=False)

    def _reserve(self, count: int, token: str, states: dict[str, list[Entry]]) -> list[Device]:
        """Reserve ``count`` devices for a waiting whole-device request, all or none: those
        with the least memory leased (the quickest to drain), never one held whole or
        reserved by another request, within the cap on reserved devices: the devices
        reserved (none when it could not reserve them all)."""
        taken = sum(1 for d in self.devices if st.reserver(states[d.id]) not in (None, token))
        if taken + count > max(len(self.devices) // 2, 1, count):
            return []
        candidates = sorted(
            (
                d
                for d in self.devices
                if st.reserver(states[d.id]) is None
                and not any(h.get("whole") for h in st.leases(states[d.id]))
            ),
            key=lambda d: (
                sum(int(h.get("bytes", 0)) for h in st.leases(states[d.id])),
                len(st.leases(states[d.id])),
                d.id,
            ),
        )[:count]
        if len(candidates) < count:
            return []
        now = time.time()
        got: list[Device] = []
        for device in candidates:
            if not self._update(device, lambda h: st.reserve_on(h, token, now)):
                self._unreserve(got, token)
                return []
            got.append(device)
        return got

    def _unreserve(self, devices: Sequence[Device], token: str) -> None:
        for device in devices:
            self._update(device, lambda h: st.unreserved(h, token))

    def _files(self) -> list[Path]:
        return [*self._paths.values(), self._waiting, self._plan]

    def _stamp(self, now: float, share: bool = True) -> tuple[Stamp, ...]:
        """The files' stamps: those another thread of this process took less than half a
        poll ago (when ``share``), or new ones."""
        shared = self._stamped
        if share and shared is not None and 0 <= now - shared[0] < self.poll / 2:
            return shared[1]
        current = files.stamp(self._files())
        self._stamped = (now, current)
        return current

    def _look(self, stamps: tuple[Stamp, ...], fresh: bool) -> View:
        """Every device's live entries and the waiting requests, read without the locks (a
        writer replaces a file whole, so a reader sees the old account or the new one, never
        half of one); a file whose stamp is unchanged is not read again unless ``fresh``."""
        view = self._view
        if view is not None and view.stamps == stamps and not fresh:
            return view
        found = []
        for path, stamp in zip(self._paths.values(), stamps, strict=False):
            kept = self._seen.get(path)
            if fresh or kept is None or kept[0] != stamp:
                kept = (stamp, st.alive(files.load(path)))
                self._seen[path] = kept
            found.append(kept[1])
        waiting_stamp, plan_stamp = stamps[len(self._paths)], stamps[-1]
        if self._planned is None or self._planned[0] != plan_stamp:
            plan_file = files.load(self._plan)
            self._planned = (plan_stamp, gp.loaded(plan_file), gp.based(plan_file))
        _, planned, basis = self._planned
        kept = self._seen.get(self._waiting)
        if fresh or kept is None or kept[0] != waiting_stamp:
            entries, self._posted = files.posts(self._waiting, {} if fresh else self._posted)
            kept = (waiting_stamp, st.alive(list(entries.values())))
            self._seen[self._waiting] = kept
            if fresh:  # the files of waiters that died or stopped renewing go
                live = {id(e) for e in kept[1]}
                for gone in [n for n, e in entries.items() if id(e) not in live]:
                    files.unpost(self._waiting, gone)
        states = {d.id: entries for d, entries in zip(self.devices, found, strict=True)}
        served = {h.get("token") for entries in states.values() for h in st.leases(entries)}
        posted = [r for e in kept[1] if (r := st.waiter(e)) is not None]
        queue = [r for r in posted if r.token not in served]
        view = View(
            stamps=stamps,
            states=states,
            room=st.rooms(states),
            queue=queue,
            planned=planned,
            basis=basis,
            planning=gp.plannable(queue, states),
        )
        self._view = view
        return view

    def _update(
        self, device: Device, change: Callable[[list[Entry]], list[Entry] | None], wait: bool = True
    ) -> bool | None:
        return files.write(self._paths[device.id], change, wait)


def _claim(device: Device, request: Request, holders: list[Entry]) -> list[Entry] | None:
    until = time.time() + request.expected if request.expected > 0 else None
    return st.claim(device, holders, request.memory, request.token, until)


def _size(value: int | None) -> str:
    from pytest_repro.report.format import size

    return size(value or 0)


__all__ = [
    "FAKE_GPUS",
    "STALE_RESERVATION",
    "WAITING",
    "Device",
    "GpuLeases",
    "fake_inventory",
    "inventory",
    "select",
    "visible_gpus",
]
