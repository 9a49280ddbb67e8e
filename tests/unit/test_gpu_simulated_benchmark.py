"""benchmarks/gpu_simulated.py: its clock jumps from one sleep to the next and stands still
while anyone is awake, and a small draw runs through the real leases without an over-commit
and with a makespan no schedule can beat."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_simulated.py"


def _module() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("gpu_simulated", SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPT.parent))


def test_the_clock_wakes_sleepers_in_order_and_stands_still_while_one_is_awake() -> None:
    clock = _module().Clock(2)
    woke: list[tuple[str, float]] = []

    def sleeper(name: str, seconds: float) -> None:
        clock.sleep(seconds)
        woke.append((name, clock.now()))
        clock.leave()

    def busy() -> None:  # awake for a real 0.2 s, then sleeps 100 simulated seconds
        time.sleep(0.2)
        woke.append(("busy awake", clock.now()))
        clock.sleep(100.0)
        woke.append(("busy", clock.now()))
        clock.leave()

    threads = [threading.Thread(target=sleeper, args=("s", 30.0)), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert woke == [("busy awake", 0.0), ("s", 30.0), ("busy", 100.0)]


def test_a_small_draw_runs_through_the_leases_without_an_over_commit() -> None:
    small = ["--runs", "8", "--gpus", "2", "--seeds", "0", "--minutes", "3", "--search", "50"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *small, "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("  live")]
    assert len(lines) == 2  # without and with durations
    for line in lines:
        assert "over-committed 0;" in line
        bound = float(re.search(r"([\d.]+)x bound", line).group(1))  # type: ignore[union-attr]
        assert bound >= 1.0  # no schedule is shorter than the proven lower bound
