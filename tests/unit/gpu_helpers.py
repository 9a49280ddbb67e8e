"""What the GPU lease tests share: leases on a simulated inventory, a lease held by a child
process, waiting for a condition, and a watch for over-commitment while leases come and go."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_repro.execution.gpus import GpuLeases, fake_inventory

WAIT = 30.0  # seconds a test waits for another process before it fails

#: A child process: lease one device (whole when memory is 0) with an expected duration
#: ("-" for none), note the device and when it got it, hold it for `hold` seconds.
#: Arguments: lock dir, inventory, memory GiB, expected seconds, hold seconds, note file.
CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from pytest_repro.execution.gpus import GpuLeases, fake_inventory

    where, devices, memory, expected, hold, note = sys.argv[1:7]
    leases = GpuLeases(Path(where), devices=fake_inventory(devices), poll=0.01)
    size = int(float(memory) * 2**30) or None
    seconds = None if expected == "-" else float(expected)
    with leases.lease(1, memory=size, expected=seconds, timeout=60) as ids:
        Path(note).write_text(json.dumps({"ids": ids, "at": time.time()}))
        time.sleep(float(hold))
    """
)


def leases(tmp_path: Path, text: str = "1x80GiB") -> GpuLeases:
    """Leases on the simulated inventory ``text``, under ``tmp_path / "locks"``."""
    return GpuLeases(tmp_path / "locks", devices=fake_inventory(text), poll=0.01)


def child(
    tmp_path: Path,
    text: str,
    memory_gib: float,
    hold: float,
    note: str,
    expected: str = "-",
) -> subprocess.Popen[bytes]:
    """A child process holding one lease of ``leases(tmp_path, text)`` (see :data:`CHILD`);
    it notes its device and when it got it in ``tmp_path / note``."""
    args = [str(tmp_path / "locks"), text, str(memory_gib), expected, str(hold)]
    return subprocess.Popen([sys.executable, "-c", CHILD, *args, str(tmp_path / note)])


def wait_for(condition: object, what: str) -> None:
    """Return once ``condition()`` is true; AssertionError naming ``what`` after :data:`WAIT`."""
    deadline = time.monotonic() + WAIT
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT:.0f}s")
        time.sleep(0.01)


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
