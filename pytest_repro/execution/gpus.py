"""GPU leases shared by every process of a session (xdist workers) and by other sessions.

A run that asks for ``resources: {gpus: N}`` holds N whole devices for its duration; with
``gpu_memory: 20GiB`` it holds that much memory on each of N devices, so small runs pack
onto one device and never over-commit it. Each device has a small state file of its
holders (``gpu-<id>.json``: lease token, holding process, bytes) changed only under that
device's file lock and replaced whole, so pytest-xdist workers and concurrent sessions in
one checkout share one account; a holder whose process has died is dropped when the file
is next read. A memory lease goes to the device with the least memory free that still
fits it (best fit), which keeps whole devices free for whole-device runs.

A whole-device run needs an empty device, and packed runs arriving one after another
would keep every device busy. So a whole-device request that has to wait **reserves**
devices (an entry ``reserve: true`` in the same state file): no new packed run lands on a
reserved device, which drains, and the request takes it when it is empty. The request
renews its reservation while it waits and drops it when it gets its devices, times out or
is interrupted; a reserver whose process died is dropped like a dead holder, and one not
renewed for :data:`STALE_RESERVATION` seconds (a stopped process, a reused pid) too.
Packed runs are never starved: reservations cover at most half the devices at once (at
least one; a request for more devices than that may reserve all it needs, alone), only a
device not held whole can be reserved, and a reserved device takes no new runs, so it
drains within its longest current run. A request for several whole devices reserves all
of them or none, so two such requests cannot each hold part of what the other waits for.

Waiters look for changes cheaply (one ``stat`` per state file each poll) and read the
files again only when one changed, or every ``rescan`` seconds (to notice dead holders).

The devices are an outer ``CUDA_VISIBLE_DEVICES`` (or every GPU ``nvidia-smi`` lists), with
their memory from ``nvidia-smi``; ``--repro-gpus`` picks among them by position, and
``PYTEST_REPRO_FAKE_GPUS`` (``"0:80GiB,1:80GiB"`` or ``"8x80GiB"``) stands in for the
inventory, so the scheduler is tested on a machine without GPUs::

    leases = GpuLeases(Path(".repro/locks"), devices=fake_inventory("2x80GiB"))
    with leases.lease(1, memory=20 * 2**30) as ids:   # ("0",)
        ...
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

#: The environment variable that stands in for the GPU inventory (tests, benchmarks).
FAKE_GPUS = "PYTEST_REPRO_FAKE_GPUS"
#: Seconds after which a reservation its request has not renewed is dropped.
STALE_RESERVATION = 60.0
_MIB = 2**20
#: Seconds between tries for a busy state-file lock (each holds it for well under one).
_LOCK_POLL = 0.001


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU a run may lease: its id as ``CUDA_VISIBLE_DEVICES`` names it, its memory."""

    id: str
    memory: int | None = None  # bytes; None when unknown (then only whole-device leases)


def fake_inventory(text: str) -> tuple[Device, ...]:
    """``"0:80GiB,1:40GiB"`` or ``"8x80GiB"`` as devices; ValueError names what is wrong."""
    from pytest_repro.spec.fields import parse_size

    text = text.strip()
    many = re.fullmatch(r"(\d+)\s*x\s*(\S+)", text)
    if many:
        size = parse_size(many.group(2))
        if size is None:
            raise ValueError(f"{many.group(2)!r} is not a size (e.g. 80GiB)")
        return tuple(Device(str(i), size) for i in range(int(many.group(1))))
    devices = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        ident, _, size_text = part.partition(":")
        size = parse_size(size_text) if size_text else None
        if not ident or (size_text and size is None):
            raise ValueError(f"{part!r} is not ID:SIZE (e.g. 0:80GiB)")
        devices.append(Device(ident, size))
    return tuple(devices)


def inventory() -> tuple[Device, ...]:
    """The devices this session may lease (see the module docstring)."""
    fake = os.environ.get(FAKE_GPUS)
    if fake is not None:
        return fake_inventory(fake)
    from pytest_repro.environment import visible_gpus as smi_gpus

    listed = smi_gpus()
    outer = os.environ.get("CUDA_VISIBLE_DEVICES")
    if outer is not None:
        ids = [d.strip() for d in outer.split(",") if d.strip() and d.strip() != "-1"]
        memory = [_bytes(g) for g in listed] if len(listed) == len(ids) else [None] * len(ids)
        return tuple(Device(i, m) for i, m in zip(ids, memory, strict=True))
    return tuple(Device(str(g.get("index")), _bytes(g)) for g in listed)


def _bytes(gpu: Any) -> int | None:
    mib = gpu.get("memory_mib") if isinstance(gpu, dict) else None
    return int(mib) * _MIB if isinstance(mib, int) else None


def select(devices: Sequence[Device], choice: str) -> tuple[Device, ...]:
    """``--repro-gpus``: ``auto`` (all), ``none``, or positions such as ``0,1,3`` into the
    visible devices. ValueError says what is wrong."""
    if choice == "auto":
        return tuple(devices)
    if choice == "none":
        return ()
    picked = []
    for part in choice.split(","):
        if not part.strip().isdigit():
            raise ValueError(f"{part.strip()!r} is not a device position; write e.g. 0,1,3")
        position = int(part)
        if position >= len(devices):
            raise ValueError(
                f"there is no device {position}: {len(devices)} "
                f"{'is' if len(devices) == 1 else 'are'} visible"
            )
        picked.append(devices[position])
    if len({d.id for d in picked}) != len(picked):
        raise ValueError("a device is named twice")
    return tuple(picked)


def visible_gpus() -> tuple[str, ...]:
    """Device ids a run may use (the inventory's ids)."""
    return tuple(d.id for d in inventory())


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

    @contextmanager
    def lease(
        self, count: int, timeout: float | None = None, memory: int | None = None
    ) -> Iterator[tuple[str, ...]]:
        """Hold ``count`` devices (``memory`` bytes on each, or all of each) for the block;
        waits while they are busy (a whole-device request reserves devices meanwhile).
        RuntimeError when no wait can satisfy the request, TimeoutError after ``timeout``."""
        if count <= 0:
            yield ()
            return
        self._check(count, memory)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        held = self._acquire(count, memory, token, timeout)
        try:
            yield tuple(d.id for d in held)
        finally:
            for device in held:
                self._update(device, lambda holders: _without(holders, token))

    def holders(self) -> dict[str, list[dict[str, Any]]]:
        """Every device's live leases, reservations left out (what the benchmark and tests
        check for over-commit)."""
        return {d.id: _leases(self._read(d)) for d in self.devices}

    def reservations(self) -> dict[str, list[dict[str, Any]]]:
        """Every device's live reservations (at most one each)."""
        return {d.id: [h for h in self._read(d) if h.get("reserve")] for d in self.devices}

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

    def _acquire(
        self, count: int, memory: int | None, token: str, timeout: float | None
    ) -> list[Device]:
        deadline = None if timeout is None else time.monotonic() + timeout
        reserving = memory is None
        reserved = False
        renewed = time.monotonic()
        stamp: tuple[tuple[int, int, int] | None, ...] | None = None
        looked = -float("inf")
        try:
            while True:
                now = time.monotonic()
                current = self._stamp()
                if current != stamp or now - looked >= self.rescan:
                    stamp, looked = current, now
                    states = self._states()
                    held, busy = self._try(count, memory, token, states)
                    if held is not None:
                        return held
                    if busy:  # another process was changing a device: look again soon
                        stamp = None
                    if reserving:
                        mine = [d for d in self.devices if _reserver(states[d.id]) == token]
                        if len(mine) < count:
                            if mine:  # one was dropped as stale: start again, all or none
                                self._unreserve(mine, token)
                            reserved = self._reserve(count, token, states) or reserved
                        elif now - renewed > STALE_RESERVATION / 4:
                            renewed = now
                            for device in mine:
                                self._update(device, lambda h: _renew(h, token))
                if deadline is not None and time.monotonic() > deadline:
                    what = f"{count} GPU(s)" + (f" with {_size(memory)} free" if memory else "")
                    raise TimeoutError(f"no {what} became free within {timeout:.0f}s")
                time.sleep(self.poll)
        finally:
            if reserved:
                self._unreserve(self.devices, token)

    def _try(
        self, count: int, memory: int | None, token: str, states: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[Device] | None, bool]:
        """Claim ``count`` devices that look free in ``states`` (each claim is checked again
        under its device's lock, skipped when another process holds that lock): the devices,
        or None with any partial claim undone; and whether a busy lock was skipped (then
        the waiter looks again at its next poll)."""
        free = {d.id: _free(d, _leases(states[d.id])) for d in self.devices}
        open_ = [d for d in self.devices if _reserver(states[d.id]) in (None, token)]
        if memory is None:  # whole devices: empty ones, those this request reserved first
            order = sorted(
                (d for d in open_ if not _leases(states[d.id])),
                key=lambda d: (_reserver(states[d.id]) != token, d.id),
            )
        else:  # best fit: the least free memory that still fits
            order = sorted(
                (
                    d
                    for d in open_
                    if (free[d.id] is None and not _leases(states[d.id]))
                    or (free[d.id] or 0) >= memory
                ),
                key=lambda d: (free[d.id] is None, free[d.id] or 0, d.id),
            )
        if len(order) < count:
            return None, False
        held: list[Device] = []
        busy = False
        for device in order:
            if len(held) == count:
                break
            got = self._update(device, lambda h, d=device: _claim(d, h, memory, token), wait=False)
            if got:
                held.append(device)
            busy = busy or got is None
        if len(held) == count:
            return held, busy
        for device in held:
            self._update(device, lambda holders: _without(holders, token))
        return None, busy

    def _reserve(self, count: int, token: str, states: dict[str, list[dict[str, Any]]]) -> bool:
        """Reserve ``count`` devices for a waiting whole-device request, all or none: those
        with the least memory leased (the quickest to drain), never one held whole or
        reserved by another request, within the cap on reserved devices."""
        taken = sum(1 for d in self.devices if _reserver(states[d.id]) not in (None, token))
        if taken + count > max(len(self.devices) // 2, 1, count):
            return False
        candidates = sorted(
            (
                d
                for d in self.devices
                if _reserver(states[d.id]) is None
                and not any(h.get("whole") for h in _leases(states[d.id]))
            ),
            key=lambda d: (
                sum(int(h.get("bytes", 0)) for h in _leases(states[d.id])),
                len(_leases(states[d.id])),
                d.id,
            ),
        )[:count]
        if len(candidates) < count:
            return False
        now = time.time()
        got: list[Device] = []
        for device in candidates:
            if not self._update(device, lambda h: _reserve_on(h, token, now)):
                self._unreserve(got, token)
                return False
            got.append(device)
        return True

    def _unreserve(self, devices: Sequence[Device], token: str) -> None:
        for device in devices:
            self._update(device, lambda h: _unreserved(h, token))

    def _path(self, device: Device) -> Path:
        return self._paths[device.id]

    def _stamp(self) -> tuple[tuple[int, int, int] | None, ...]:
        """Each state file's inode, change time and size: a replaced file has a new one."""
        out: list[tuple[int, int, int] | None] = []
        for device in self.devices:
            try:
                st = os.stat(self._path(device))
            except OSError:
                out.append(None)
            else:
                out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def _states(self) -> dict[str, list[dict[str, Any]]]:
        """Every device's live entries, read without the locks: a writer replaces a state
        file whole, so a reader sees the old account or the new one, never half of one."""
        return {d.id: _alive(_load(self._path(d))) for d in self.devices}

    def _read(self, device: Device) -> list[dict[str, Any]]:
        path = self._path(device)
        with FileLock(str(path) + ".lock", thread_local=False, poll_interval=_LOCK_POLL):
            return _alive(_load(path))

    def _update(self, device: Device, change: Any, wait: bool = True) -> bool | None:
        """Apply ``change(holders) -> new holders | None`` under the device's lock; False
        when it declined (returned None); None, without waiting, when ``wait`` is False and
        another process holds the lock."""
        path = self._path(device)
        lock = FileLock(
            str(path) + ".lock", thread_local=False, blocking=wait, poll_interval=_LOCK_POLL
        )
        try:
            lock.acquire()
        except Timeout:
            return None
        try:
            holders = _alive(_load(path))
            new = change(holders)
            if new is None:
                return False
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(new), encoding="utf-8")
            os.replace(tmp, path)
            return True
        finally:
            lock.release()


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [h for h in data if isinstance(h, dict)] if isinstance(data, list) else []


def _alive(holders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    oldest = time.time() - STALE_RESERVATION
    for holder in holders:
        if holder.get("reserve") and float(holder.get("seen", 0)) < oldest:
            continue  # a reservation nobody renewed: its request is gone
        pid = holder.get("pid")
        try:
            if isinstance(pid, int):
                os.kill(pid, 0)
        except ProcessLookupError:
            continue  # its session died: the lease (or reservation) is gone
        except PermissionError:
            pass  # alive, another user's
        out.append(holder)
    return out


def _leases(holders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [h for h in holders if not h.get("reserve")]


def _reserver(holders: list[dict[str, Any]]) -> str | None:
    """The token of the request holding the device's reservation, or None."""
    for holder in holders:
        if holder.get("reserve"):
            return str(holder.get("token"))
    return None


def _free(device: Device, leases: list[dict[str, Any]]) -> int | None:
    if any(h.get("whole") for h in leases):
        return 0
    if device.memory is None:
        return None if not leases else 0
    return device.memory - sum(int(h.get("bytes", 0)) for h in leases)


def _claim(
    device: Device, holders: list[dict[str, Any]], memory: int | None, token: str
) -> list[dict[str, Any]] | None:
    if _reserver(holders) not in (None, token):
        return None  # drained for a waiting whole-device request
    leases = _leases(holders)
    entry: dict[str, Any] = {"token": token, "pid": os.getpid()}
    if memory is None or device.memory is None:  # the whole device, nothing else on it
        if leases:
            return None
        entry.update(whole=True, bytes=device.memory or 0)
    else:
        free = _free(device, leases)
        if free is None or free < memory:
            return None
        entry["bytes"] = memory
    return [*holders, entry]


def _reserve_on(
    holders: list[dict[str, Any]], token: str, now: float
) -> list[dict[str, Any]] | None:
    if _reserver(holders) is not None or any(h.get("whole") for h in holders):
        return None
    entry = {"token": token, "pid": os.getpid(), "reserve": True, "since": now, "seen": now}
    return [*holders, {**entry, "bytes": 0}]


def _renew(holders: list[dict[str, Any]], token: str) -> list[dict[str, Any]] | None:
    if _reserver(holders) != token:
        return None
    now = time.time()
    return [{**h, "seen": now} if h.get("reserve") else h for h in holders]


def _unreserved(holders: list[dict[str, Any]], token: str) -> list[dict[str, Any]] | None:
    if _reserver(holders) != token:
        return None
    return [h for h in holders if not (h.get("reserve") and h.get("token") == token)]


def _without(holders: list[dict[str, Any]], token: str) -> list[dict[str, Any]]:
    """The holders without this request's leases (its reservation, if any, stays)."""
    return [h for h in holders if h.get("token") != token or h.get("reserve")]


def _size(value: int | None) -> str:
    from pytest_repro.report.format import size

    return size(value or 0)


__all__ = [
    "FAKE_GPUS",
    "STALE_RESERVATION",
    "Device",
    "GpuLeases",
    "fake_inventory",
    "inventory",
    "select",
    "visible_gpus",
]
