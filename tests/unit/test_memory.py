"""Resident memory of a process group: every process of the group counts, a group that
has exited measures 0, and what cannot be measured says so with None."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from pytest_repro.execution.memory import group_rss, memory_cap_supported

MIB = 2**20

posix_only = pytest.mark.skipif(not hasattr(os, "getpgid"), reason="needs process groups")

#: Allocates ``sys.argv[1]`` MiB (written, so it is resident), says so, and waits for stdin.
HOLDER = """\
import sys
block = b"x" * (int(sys.argv[1]) * 2**20)
print("ready", flush=True)
sys.stdin.read()
"""

#: Starts a HOLDER child in its own group, allocates ``sys.argv[1]`` MiB itself, and waits.
LEADER = f"""\
import subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-c", {HOLDER!r}, sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE
)
assert child.stdout.readline().strip() == b"ready"
block = b"x" * (int(sys.argv[1]) * 2**20)
print("ready", flush=True)
sys.stdin.read()
child.stdin.close()
child.wait()
"""


def _start_group(code: str, *args: str) -> subprocess.Popen[str]:
    """A process leading its own process group (as a run's worker does), once it is ready."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _finish(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture
def holder() -> Iterator[subprocess.Popen[str]]:
    proc = _start_group(HOLDER, "100")
    yield proc
    if proc.poll() is None:
        _finish(proc)


@posix_only
def test_a_group_holding_100_mib_measures_above_100_mib(holder: subprocess.Popen[str]) -> None:
    used = group_rss(holder.pid)
    assert used is not None
    assert used > 100 * MIB


@posix_only
def test_every_process_of_the_group_counts() -> None:
    proc = _start_group(LEADER, "60", "100")
    try:
        used = group_rss(proc.pid)
        assert used is not None
        assert used > 160 * MIB
    finally:
        _finish(proc)


@posix_only
def test_a_group_that_has_exited_measures_zero(holder: subprocess.Popen[str]) -> None:
    _finish(holder)
    assert group_rss(holder.pid) == 0


@posix_only
def test_a_group_whose_leader_is_a_zombie_measures_zero() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "pass"], stdin=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)
    try:
        assert group_rss(proc.pid) == 0
    finally:
        proc.wait()


@posix_only
def test_this_process_counts_in_its_own_group() -> None:
    own = psutil.Process().memory_info().rss
    used = group_rss(os.getpgrp())
    assert used is not None
    assert used >= 0.9 * own


@posix_only
def test_a_group_whose_memory_cannot_be_read_is_none(
    holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: psutil.Process) -> object:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "memory_info", denied)
    assert group_rss(holder.pid) is None
    assert group_rss(holder.pid + 10**7) == 0  # no members: nothing to read, nothing resident
    assert not memory_cap_supported()


def test_without_process_groups_nothing_can_be_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "getpgid", raising=False)
    monkeypatch.delattr(os, "getpgrp", raising=False)
    assert group_rss(1) is None
    assert not memory_cap_supported()


def test_a_process_list_that_cannot_be_read_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable() -> object:
        raise FileNotFoundError("/proc")

    monkeypatch.setattr(psutil, "process_iter", unreadable)
    assert group_rss(1) is None


@pytest.mark.parametrize("pgid", [0, -5])
def test_a_pgid_that_names_no_group_is_refused(pgid: int) -> None:
    with pytest.raises(ValueError, match=r"pgid=.*: a process group id is > 0"):
        group_rss(pgid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_the_memory_cap_is_supported_on_linux() -> None:
    assert memory_cap_supported()
