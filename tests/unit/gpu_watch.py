"""Watching a lease account for over-commitment while leases come and go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pytest_repro.execution.gpus import GpuLeases


@contextmanager
def over_commits(leases: GpuLeases, memory: int) -> Iterator[list[str]]:
    """For the block, every 2 ms, the devices found holding more than ``memory`` bytes or a
    whole-device lease beside another (the list is filled as the block runs)."""
    over: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for device, holders in leases.holders().items():
                total = sum(h["bytes"] for h in holders)
                whole = any(h.get("whole") for h in holders)
                if total > memory or (whole and len(holders) > 1):
                    over.append(device)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield over
    finally:
        stop.set()
        watcher.join()
