"""GPU leases shared by every process of a session (xdist workers) and by other sessions.

A run that asks for ``resources: {gpus: N}`` holds N leases for its duration.
A lease is an exclusive file lock per device, so two pytest-xdist workers, or two
sessions in one checkout, never put runs on the same GPU at once. The visible
devices respect an outer ``CUDA_VISIBLE_DEVICES``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


def visible_gpus() -> tuple[str, ...]:
    """Device ids a run may use: the outer CUDA_VISIBLE_DEVICES, else every GPU nvidia-smi lists."""
    outer = os.environ.get("CUDA_VISIBLE_DEVICES")
    if outer is not None:
        return tuple(d.strip() for d in outer.split(",") if d.strip() and d.strip() != "-1")
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        out = subprocess.run(
            [smi, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if out.returncode != 0:
        return ()
    return tuple(line.strip() for line in out.stdout.splitlines() if line.strip())


class GpuLeases:
    """Hands out GPU device ids under per-device file locks in ``lock_dir``."""

    def __init__(
        self, lock_dir: Path, devices: tuple[str, ...] | None = None, poll: float = 0.5
    ) -> None:
        self.lock_dir = lock_dir
        self.devices = visible_gpus() if devices is None else devices
        self.poll = poll

    @contextmanager
    def lease(self, count: int, timeout: float | None = None) -> Iterator[tuple[str, ...]]:
        """Hold ``count`` devices for the duration of the block; waits while all are busy."""
        if count <= 0:
            yield ()
            return
        if count > len(self.devices):
            raise RuntimeError(
                f"the run needs {count} GPU{'s' if count > 1 else ''} but "
                + (
                    f"only {len(self.devices)} {'is' if len(self.devices) == 1 else 'are'} visible"
                    if self.devices
                    else "no GPU is visible (CUDA_VISIBLE_DEVICES / nvidia-smi)"
                )
            )
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            held: list[tuple[str, FileLock]] = []
            for device in self.devices:
                lock = FileLock(str(self.lock_dir / f"gpu-{device}.lock"), thread_local=False)
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                held.append((device, lock))
                if len(held) == count:
                    break
            if len(held) == count:
                try:
                    yield tuple(device for device, _ in held)
                finally:
                    for _, lock in held:
                        lock.release()
                return
            for _, lock in held:
                lock.release()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no {count} GPU(s) became free within {timeout:.0f}s")
            time.sleep(self.poll)
