"""GPU leases on a simulated inventory: no device over-committed, and the makespan.

    python benchmarks/gpu_scheduling.py [--gpus 8] [--runs 40] [--seed 0]

Starts ``--runs`` runs at once (threads started longest first), each a thread holding its
lease for a fixed time (0.4-0.8 s): every fourth leases a whole device, the others 10, 20
or 40 GiB of an 80 GiB device. A watcher samples every device's leases and counts any
moment a device held more than its memory, or a whole lease beside another.

The makespan is set against two figures for the same jobs:

- the **lower bound**, which no schedule can beat: the largest of (a) the longest run;
  (b) the total memory-seconds (a whole-device run counts its device's full memory for
  its duration) over the inventory's memory, since at no moment can more memory be held
  than there is; and (c) when more runs need a device to themselves than there are
  devices (whole-device runs; runs of more than half a device, no two of which fit
  together), the sum of the ``n``-th and ``n+1``-th longest of them for ``n`` devices, since
  two of the ``n+1`` longest share a device one after the other. It ignores that runs
  cannot be split in time, so the optimum is usually above it;
- an **offline list schedule**: the jobs, known in advance, sorted longest first, and at
  time 0 and at every finish each job still waiting started in that order if it fits now
  (a whole-device run on an empty device, a packed run best fit), without reservations.
  It is one feasible schedule, so the optimum lies between the bound and it; the live
  leases know no durations and see requests in the order the threads reach them.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.execution.gpus import GpuLeases, fake_inventory

GIB = 2**30
DEVICE = 80 * GIB

#: (GiB of one device, or None for the whole device; seconds held)
Job = tuple[int | None, float]


def lower_bound(jobs: list[Job], devices: int) -> tuple[float, str]:
    """The lower bound of the docstring and which of its terms set it."""
    longest = max(s for _, s in jobs)
    memory = sum((m or DEVICE) * s for m, s in jobs) / (devices * DEVICE)
    alone = sorted((s for m, s in jobs if m is None or m > DEVICE // 2), reverse=True)
    pair = alone[devices - 1] + alone[devices] if len(alone) > devices else 0.0
    terms = {"longest run": longest, "memory-seconds / memory": memory, "exclusive pair": pair}
    which = max(terms, key=lambda k: terms[k])
    return terms[which], which


def list_schedule(jobs: list[Job], devices: int) -> float:
    """The makespan of the offline list schedule of the docstring."""
    waiting = sorted(jobs, key=lambda j: -j[1])
    used = [0] * devices
    whole = [False] * devices
    finishes: list[tuple[float, int, int | None]] = []
    now = 0.0
    while True:
        for job in list(waiting):
            memory, seconds = job
            if memory is None:
                fits = [d for d in range(devices) if not whole[d] and used[d] == 0]
            else:
                fits = sorted(
                    (d for d in range(devices) if not whole[d] and DEVICE - used[d] >= memory),
                    key=lambda d: (DEVICE - used[d], d),
                )
            if fits:
                device = fits[0]
                if memory is None:
                    whole[device] = True
                else:
                    used[device] += memory
                heapq.heappush(finishes, (now + seconds, device, memory))
                waiting.remove(job)
        if not finishes:
            return now
        now, device, memory = heapq.heappop(finishes)
        if memory is None:
            whole[device] = False
        else:
            used[device] -= memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    jobs: list[Job] = [
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
                    if sum(h["bytes"] for h in holders) > DEVICE or (whole and len(holders) > 1):
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
    bound, which = lower_bound(jobs, args.gpus)
    offline = list_schedule(jobs, args.gpus)
    whole = sum(1 for m, _ in jobs if m is None)
    print(
        f"{args.runs} runs ({whole} whole-device, {args.runs - whole} packed) on {args.gpus} x 80 GiB"
    )
    print(f"over-committed samples: {len(over)} (goal 0)")
    print(f"lower bound {bound:.2f} s ({which}); offline list schedule {offline:.2f} s")
    print(
        f"makespan {makespan:.2f} s: {makespan / bound:.2f}x the lower bound (goal <= 1.10x), "
        f"{makespan / offline:.2f}x the offline list schedule"
    )


if __name__ == "__main__":
    main()
