"""The GPUs a session may lease: the outer ``CUDA_VISIBLE_DEVICES`` (or every GPU
``nvidia-smi`` lists) with their memory, ``--repro-gpus``'s choice among them, and
``PYTEST_REPRO_FAKE_GPUS``, which stands in for the inventory on a machine without GPUs."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from pytest_repro.execution.gpu_state import Device

#: The environment variable that stands in for the GPU inventory (tests, benchmarks).
FAKE_GPUS = "PYTEST_REPRO_FAKE_GPUS"
_MIB = 2**20


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
    """The devices this session may lease: ``PYTEST_REPRO_FAKE_GPUS`` when set, else the outer
    ``CUDA_VISIBLE_DEVICES`` (memory from ``nvidia-smi`` when it lists as many), else every GPU
    ``nvidia-smi`` lists."""
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
