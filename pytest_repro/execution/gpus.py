"""GPU leases shared by every process of a session (xdist workers) and by other sessions.

A run that asks for ``resources: {gpus: N}`` holds N whole devices for its duration; with
``gpu_memory: 20GiB`` it holds that much memory on each of N devices, so small runs pack
onto one device and never over-commit it. Each device has a small state file of its
holders (``gpu-<id>.json``: lease token, holding process, bytes) changed only under that
device's file lock, so pytest-xdist workers and concurrent sessions in one checkout share
one account; a holder whose process has died is dropped when the file is next read. A
memory lease goes to the device with the least memory free that still fits it (best fit),
which keeps whole devices free for whole-device runs.

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

from filelock import FileLock

#: The environment variable that stands in for the GPU inventory (tests, benchmarks).
FAKE_GPUS = "PYTEST_REPRO_FAKE_GPUS"
_MIB = 2**20


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
    """Hands out devices, whole or by memory, under per-device state files in ``lock_dir``."""

    def __init__(
        self,
        lock_dir: Path,
        devices: Sequence[Device | str] | None = None,
        poll: float = 0.5,
    ) -> None:
        self.lock_dir = lock_dir
        found = inventory() if devices is None else devices
        self.devices = tuple(d if isinstance(d, Device) else Device(d) for d in found)
        self.poll = poll

    @contextmanager
    def lease(
        self, count: int, timeout: float | None = None, memory: int | None = None
    ) -> Iterator[tuple[str, ...]]:
        """Hold ``count`` devices (``memory`` bytes on each, or all of each) for the block;
        waits while they are busy. RuntimeError when no wait can satisfy the request."""
        if count <= 0:
            yield ()
            return
        self._check(count, memory)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        token = uuid.uuid4().hex
        while True:
            held = self._try(count, memory, token)
            if held is not None:
                try:
                    yield tuple(d.id for d in held)
                finally:
                    for device in held:
                        self._update(device, lambda holders: _without(holders, token))
                return
            if deadline is not None and time.monotonic() > deadline:
                what = f"{count} GPU(s)" + (f" with {_size(memory)} free" if memory else "")
                raise TimeoutError(f"no {what} became free within {timeout:.0f}s")
            time.sleep(self.poll)

    def holders(self) -> dict[str, list[dict[str, Any]]]:
        """Every device's live holders (what the benchmark and tests check)."""
        return {d.id: self._read(d) for d in self.devices}

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

    def _try(self, count: int, memory: int | None, token: str) -> list[Device] | None:
        free = {d.id: _free(d, self._read(d)) for d in self.devices}
        # best fit: the least free memory that still fits (whole devices need all of it)
        order = sorted(self.devices, key=lambda d: (free[d.id] is None, free[d.id] or 0, d.id))
        held: list[Device] = []
        for device in order:
            if len(held) == count:
                break
            if self._update(device, lambda h, d=device: _claim(d, h, memory, token)):
                held.append(device)
        if len(held) == count:
            return held
        for device in held:
            self._update(device, lambda holders: _without(holders, token))
        return None

    def _path(self, device: Device) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", device.id)
        return self.lock_dir / f"gpu-{safe}.json"

    def _read(self, device: Device) -> list[dict[str, Any]]:
        path = self._path(device)
        with FileLock(str(path) + ".lock", thread_local=False):
            return _alive(_load(path))

    def _update(self, device: Device, change: Any) -> bool:
        """Apply ``change(holders) -> new holders | None`` under the device's lock; False
        when it declined (returned None)."""
        path = self._path(device)
        with FileLock(str(path) + ".lock", thread_local=False):
            holders = _alive(_load(path))
            new = change(holders)
            if new is None:
                return False
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(new), encoding="utf-8")
            os.replace(tmp, path)
            return True


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [h for h in data if isinstance(h, dict)] if isinstance(data, list) else []


def _alive(holders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for holder in holders:
        pid = holder.get("pid")
        try:
            if isinstance(pid, int):
                os.kill(pid, 0)
        except ProcessLookupError:
            continue  # its session died: the lease is gone
        except PermissionError:
            pass  # alive, another user's
        out.append(holder)
    return out


def _free(device: Device, holders: list[dict[str, Any]]) -> int | None:
    if any(h.get("whole") for h in holders):
        return 0
    if device.memory is None:
        return None if not holders else 0
    return device.memory - sum(int(h.get("bytes", 0)) for h in holders)


def _claim(
    device: Device, holders: list[dict[str, Any]], memory: int | None, token: str
) -> list[dict[str, Any]] | None:
    entry: dict[str, Any] = {"token": token, "pid": os.getpid()}
    if memory is None or device.memory is None:  # the whole device, nothing else on it
        if holders:
            return None
        entry.update(whole=True, bytes=device.memory or 0)
    else:
        free = _free(device, holders)
        if free is None or free < memory:
            return None
        entry["bytes"] = memory
    return [*holders, entry]


def _without(holders: list[dict[str, Any]], token: str) -> list[dict[str, Any]]:
    return [h for h in holders if h.get("token") != token]


def _size(value: int | None) -> str:
    from pytest_repro.report.format import size

    return size(value or 0)


__all__ = [
    "FAKE_GPUS",
    "Device",
    "GpuLeases",
    "fake_inventory",
    "inventory",
    "select",
    "visible_gpus",
]
