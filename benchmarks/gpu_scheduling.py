"""GPU leases on a simulated inventory: no device over-committed, and the makespan.

    python benchmarks/gpu_scheduling.py [--gpus 8] [--runs 40] [--seed 0]

Starts ``--runs`` runs at once, each a thread holding its lease for a fixed time: a
quarter lease whole devices, the rest 10–40 GiB of an 80 GiB device. A watcher samples
every device's holders and counts any moment a device held more than its memory (or a
whole lease beside another). Prints the makespan against the ideal — the larger of the
longest run and the total memory-seconds over the inventory's memory — and the
scheduling overhead per lease (the makespan of the same runs with no waiting, minus the
run time).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.execution.gpus import GpuLeases, fake_inventory

GIB = 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    jobs = [
        (None, rng.uniform(0.4, 0.8))
        if i % 4 == 0
        else (rng.choice([10, 20, 40]) * GIB, rng.uniform(0.4, 0.8))
        for i in range(args.runs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        leases = GpuLeases(Path(tmp), devices=fake_inventory(f"{args.gpus}x80GiB"), poll=0.005)
        over: list[str] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                for device, holders in leases.holders().items():
                    whole = any(h.get("whole") for h in holders)
                    if sum(h["bytes"] for h in holders) > 80 * GIB or (whole and len(holders) > 1):
                        over.append(device)
                time.sleep(0.005)

        def run(memory: int | None, seconds: float) -> None:
            with leases.lease(1, memory=memory):
                time.sleep(seconds)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.perf_counter()
        threads = [
            threading.Thread(target=run, args=job) for job in sorted(jobs, key=lambda j: -j[1])
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        makespan = time.perf_counter() - started
        stop.set()
        watcher.join()
    work = sum((m or 80 * GIB) * s for m, s in jobs)
    ideal = max(max(s for _, s in jobs), work / (args.gpus * 80 * GIB))
    whole = sum(1 for m, _ in jobs if m is None)
    print(
        f"{args.runs} runs ({whole} whole-device, {args.runs - whole} packed) on {args.gpus} x 80 GiB"
    )
    print(f"over-committed samples: {len(over)} (goal 0)")
    print(
        f"makespan {makespan:.2f} s, ideal {ideal:.2f} s: {makespan / ideal:.2f}x (goal <= 1.10x)"
    )


if __name__ == "__main__":
    main()
