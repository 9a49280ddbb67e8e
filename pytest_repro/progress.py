"""Live progress while runs execute: what is in flight, how far it got, what is left.

Real runs take hours and a test item waits for all of them in silence. While a claim's
runs execute, a :class:`Ticker` prints a heartbeat every few seconds (``--repro-progress``,
10 s by default; ``off`` turns it off), one line per run in flight::

    repro 14:48:31 | 1 running, 71 done, 0 to go
      2011.14439 [cnn] seed 2: step 3750/6000, 16 s

How far a run got is read from what it already writes, so any executor works and
nothing is sent per ``ctx.log``: the last point of its ``repro-metrics.jsonl``, or, for a
``command:`` read by a regex, the last output line the regex matches. The total comes
from the smoke budget or from ``run.config`` (``epochs``, ``max_steps``, ``steps``,
``max_epochs``); the time left from the wall time of a recorded run of the same config
(the plan's estimate). Under ``-q`` the heartbeat is one short line. The lines go through
pytest's terminal writer, in the pytest process only (xdist workers print nothing).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.report.escape import terminal_line

if TYPE_CHECKING:
    from pytest_repro.execution.plan import RunRequest

#: ``run.config`` keys taken as a run's total, by axis, in this order.
TOTALS = (("epoch", "epochs"), ("epoch", "max_epochs"), ("step", "max_steps"), ("step", "steps"))


@dataclass(slots=True)
class Counters:
    """How many runs a process executed, reused, waited for and read again."""

    reused: int = 0
    executed: int = 0
    failed: int = 0
    waited: int = 0
    #: recorded runs read again because the paper's metrics reader changed.
    reread: int = 0
    run_seconds: float = 0.0

    def add(self, other: Mapping[str, Any]) -> None:
        """Add another process's counts (an xdist worker's, as a dict)."""
        for f in fields(self):
            setattr(
                self,
                f.name,
                getattr(self, f.name) + type(getattr(self, f.name))(other.get(f.name, 0)),
            )


@dataclass(slots=True)
class InFlight:
    """One run executing now."""

    label: str
    run_dir: Path
    started: float
    estimate: float | None = None
    total: tuple[str, int] | None = None
    patterns: tuple[str, ...] = ()
    metrics_file: str = "repro-metrics.jsonl"
    output_file: str = "repro-output.log"


@dataclass(slots=True)
class Progress:
    """The session's runs in flight and counts; safe to use from several threads."""

    runs: dict[str, InFlight] = field(default_factory=dict)
    done: int = 0
    queued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, run_id: str, request: RunRequest, run_dir: Path, estimate: float | None
    ) -> None:
        metrics = request.spec.run.metrics
        patterns: tuple[str, ...] = ()
        if metrics is not None and metrics.format == "regex":
            patterns = metrics.patterns or ((metrics.pattern,) if metrics.pattern else ())
        with self._lock:
            self.runs[run_id] = InFlight(
                label=request.label,
                run_dir=run_dir,
                started=time.time(),
                estimate=estimate,
                total=run_total(request),
                patterns=patterns,
            )

    def finish(self, run_id: str) -> None:
        with self._lock:
            if self.runs.pop(run_id, None) is not None:
                self.done += 1
                self.queued = max(0, self.queued - 1)

    def expect(self, count: int) -> None:
        """``count`` more runs are about to execute."""
        with self._lock:
            self.queued += count

    def lines(self, *, now: float | None = None, short: bool = False) -> list[str]:
        """The heartbeat: a header line, then one per run in flight (none when ``short``)."""
        now = time.time() if now is None else now
        with self._lock:
            runs = list(self.runs.values())
            done, queued = self.done, self.queued
        waiting = max(0, queued - len(runs))
        head = (
            f"repro {time.strftime('%H:%M:%S', time.localtime(now))} | {len(runs)} running, "
            f"{done} done, {waiting} to go"
        )
        if short:
            return [head]
        return [head, *(f"  {terminal_line(describe(run, now))}" for run in runs)]


def run_total(request: RunRequest) -> tuple[str, int] | None:
    """The axis and length of a run, when the spec says it: the smoke budget, or a config value."""
    if request.smoke and request.max_steps:
        return ("step", int(request.max_steps))
    for axis, key in TOTALS:
        value = request.config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return (axis, value)
    return None


def describe(run: InFlight, now: float) -> str:
    """``label: epoch 7/30, 41 s, ~2 m 10 s left``."""
    elapsed = max(0.0, now - run.started)
    parts = []
    point = last_point(run)
    if point is not None:
        axis, value = point
        total = f"/{run.total[1]}" if run.total and run.total[0] == axis else ""
        parts.append(f"{axis} {value}{total}")
    parts.append(clock(elapsed))
    if run.estimate and run.estimate - elapsed >= 1:
        parts.append(f"~{clock(run.estimate - elapsed, coarse=True)} left")
    return f"{run.label}: {', '.join(parts)}"


def clock(seconds: float, *, coarse: bool = False) -> str:
    """``41 s``, ``1 m 5 s``, ``2 h 3 m``; ``coarse`` drops seconds past a minute."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m" if coarse else f"{s // 60} m {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} m"


def last_point(run: InFlight) -> tuple[str, int] | None:
    """The axis and value of the newest point the run logged, read from its files' ends."""
    for line in reversed(_tail(run.run_dir / run.metrics_file)):
        try:
            point = json.loads(line)
        except ValueError:
            continue
        for axis in ("step", "epoch"):
            if isinstance(point, dict) and isinstance(point.get(axis), int):
                return (axis, point[axis])
    if run.patterns:
        compiled = [re.compile(p) for p in run.patterns]
        for line in reversed(_tail(run.run_dir / run.output_file)):
            for pattern in compiled:
                match = pattern.search(line)
                if match is None:
                    continue
                for axis in ("step", "epoch"):
                    value = match.groupdict().get(axis)
                    if value is not None and value.isdigit():
                        return (axis, int(value))
    return None


def _tail(path: Path, size: int = 8192) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            end = handle.tell()
            handle.seek(max(0, end - size))
            data = handle.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if end > size else lines  # the first may be cut


class Ticker:
    """Prints :meth:`Progress.lines` every ``interval`` seconds while runs execute."""

    def __init__(
        self,
        progress: Progress,
        write: Callable[[Sequence[str]], None],
        *,
        interval: float,
        short: bool = False,
    ) -> None:
        self.progress, self.write, self.interval, self.short = progress, write, interval, short
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.beats = 0

    @contextmanager
    def running(self) -> Iterator[None]:
        """Heartbeats while the block runs; none after it returns."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="repro-progress", daemon=True)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.progress.runs:
                continue
            lines = self.progress.lines(short=self.short)
            if not self._stop.is_set():
                self.write(lines)
                self.beats += 1


def terminal_writer(config: Any) -> Callable[[Sequence[str]], None] | None:
    """A function writing heartbeat lines to pytest's terminal, or None where there is none."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):
        return None

    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(lines: Sequence[str]) -> None:
        # Output is captured while an item runs; the heartbeat is for the terminal, as
        # pytest's live logging is.
        held = capture.global_and_fixture_disabled() if capture is not None else nullcontext()
        with held:
            reporter.ensure_newline()
            for line in lines:
                reporter.write_line(line)

    return write


__all__ = [
    "InFlight",
    "Progress",
    "Ticker",
    "describe",
    "last_point",
    "run_total",
    "terminal_writer",
]
