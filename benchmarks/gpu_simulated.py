"""GPU leases at the durations real training has, in simulated time: the real lease code,
its files and its decisions, with a clock that jumps from one sleep to the next.

    python benchmarks/gpu_simulated.py [--gpus 8] [--runs 40] [--seeds 0-4] [--minutes 10]
                                       [--poll 0.5] [--noise 0] [--search 2000] [--workers 8]
                                       [--repeat 1]

``benchmarks/gpu_scheduling.py`` runs leases of 0.4-0.8 s polling every 5 ms, forty of them
on two cores: it measures what the lease protocol costs on a loaded machine, and there a
hand-off of 10-15 ms and a plan computed in 20-130 ms weigh several per cent. Real runs
hold a GPU for minutes to hours and poll every half second (the default). Running that for
real takes hours per draw, so this benchmark runs the same draw of runs (every fourth a
whole device, the others 10, 20 or 40 GiB of an 80 GiB device; durations drawn as there,
stretched so the shortest possible run takes ``--minutes``) through the real
:class:`GpuLeases` on the real files, each run a thread, the runs sharing ``--workers``
lease objects (as a session's xdist workers each have one, shared by its slots; ``0`` gives
every run its own, which is slower to simulate), with the lease modules' clock replaced by a
simulated one:

- ``time.time``, ``time.monotonic`` and ``time.sleep`` of the lease modules read and
  advance one simulated clock; a run holds its lease by sleeping its duration on it;
- the clock stands still while any run is doing something (reading files, claiming,
  planning) and, once every run sleeps, jumps to the earliest wake-up. So everything the
  leases compute costs no simulated time: latency from the machine's load is left out, and
  what is measured is what the protocol decides (who starts when, on which device). A
  plan's search is still bounded by the real clock (1% of the shortest expected run, at
  most 1 s, and 1,000 placements), as it is live.
- all runs ask at simulated time 0, in the order the threads get there.

``--noise r`` gives each run an ``expected`` duration off its true one by a factor drawn
uniformly from ``[1 - r, 1 + r]`` (fixed per seed), as a ledger's estimate is off: runs end
early or late against the plan. The schedule is judged on the true durations; the rank rule
and the planned queue alone are given the same estimates (the runs still take their true
time), so they show what the estimates cost without latency.

Each seed prints the live makespan over the best offline schedule found (and over the lower
bound) from ``gpu_scheduling.py``, the rank rule and the planned queue alone without
latency, and the check for over-commits (at every grant and by a watcher every poll of
simulated time). Without ``--noise`` the runs go twice, knowing nothing of their durations
and given them. Which request writes a plan, and the random tokens that break its ties,
differ from one run to the next, so the same draw can give plans a few per cent apart:
``--repeat N`` runs each N times and reports the median, with every run's figure.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_scheduling import (
    DEVICE,
    GIB,
    Job,
    _over,
    bracket,
    draw,
    lease_rule,
    planned_queue,
    seeds,
    summary,
)

from pytest_repro.execution import gpu_state, gpus
from pytest_repro.execution.gpus import GpuLeases, fake_inventory

#: Where the simulated wall clock starts (any time will do; a plausible one reads well).
EPOCH = 1_800_000_000.0


class Clock:
    """A simulated clock shared by ``parties`` threads: it stands still while any of them is
    awake and jumps to the earliest wake-up once all sleep (or have left)."""

    def __init__(self, parties: int) -> None:
        self._lock = threading.Lock()
        self._now = 0.0
        self._awake = parties
        self._sleepers: list[tuple[float, int, threading.Event]] = []
        self._order = 0

    def now(self) -> float:
        return self._now

    def time(self) -> float:
        return EPOCH + self._now

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        event = threading.Event()
        with self._lock:
            self._order += 1
            heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), self._order, event))
            self._awake -= 1
            self._advance()
        event.wait()

    def leave(self) -> None:
        """A party is done: the clock no longer waits for it."""
        with self._lock:
            self._awake -= 1
            self._advance()

    def _advance(self) -> None:
        if self._awake or not self._sleepers:
            return
        self._now = max(self._now, self._sleepers[0][0])
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, event = heapq.heappop(self._sleepers)
            self._awake += 1
            event.set()


@contextmanager
def simulated(clock: Clock) -> Iterator[None]:
    """The lease modules read ``clock`` for the time and sleep on it; a plan's search keeps
    the real ``perf_counter``."""
    shim = types.SimpleNamespace(
        time=clock.time,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        perf_counter=time.perf_counter,
    )
    modules = (gpus, gpu_state)
    saved = [m.time for m in modules]
    for m in modules:
        m.time = shim  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for m, original in zip(modules, saved, strict=True):
            m.time = original  # type: ignore[attr-defined]


def live(
    jobs: list[Job], expected: list[float] | None, devices: int, poll: float, workers: int
) -> tuple[float, int, list[tuple[int, str, float, float, float]], list[int], float]:
    """The runs through real leases on a simulated clock: the makespan (simulated seconds),
    the over-committed samples, each grant (job, device, asked, got, released), the jobs in
    the order they were granted and the real seconds the simulation took."""
    real = time.perf_counter()
    clock = Clock(len(jobs) + 1)  # the runs and the watcher
    grants: list[tuple[int, str, float, float, float]] = []
    over: list[str] = []
    order: list[int] = []  # the jobs in the order they were granted
    failed: list[BaseException] = []
    done = threading.Event()
    with tempfile.TemporaryDirectory() as tmp, simulated(clock):
        inventory = fake_inventory(f"{devices}x{DEVICE}GiB")
        shared = [GpuLeases(Path(tmp), devices=inventory, poll=poll) for _ in range(workers)]

        def run(j: int) -> None:
            try:
                leases = (
                    shared[j % workers]
                    if workers
                    else GpuLeases(Path(tmp), devices=inventory, poll=poll)
                )
                memory, seconds = jobs[j]
                asked = clock.now()
                with leases.lease(
                    1,
                    memory=None if memory is None else memory * GIB,
                    expected=None if expected is None else expected[j],
                ) as ids:
                    got = clock.now()
                    order.append(j)
                    over.extend(_over(leases.holders(ids[0])))
                    clock.sleep(seconds)
                grants.append((j, ids[0], asked, got, clock.now()))
            except BaseException as error:
                failed.append(error)
            finally:
                clock.leave()

        def watch() -> None:
            leases = GpuLeases(Path(tmp), devices=inventory, poll=poll)
            try:
                while not done.is_set():
                    over.extend(_over(leases.holders()))
                    if len(grants) + len(failed) == len(jobs):
                        break
                    clock.sleep(poll)
            finally:
                clock.leave()

        threads = [threading.Thread(target=run, args=(j,)) for j in range(len(jobs))]
        threads.append(threading.Thread(target=watch))
        for t in threads:
            t.start()
        for t in threads[:-1]:
            t.join()
        done.set()
        threads[-1].join()
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed: {failed[0]!r}") from failed[0]
    makespan = max(released for *_, released in grants)
    return makespan, len(over), grants, order, time.perf_counter() - real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seeds", type=seeds, default=[0, 1, 2, 3, 4], help="e.g. 0-4")
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="the shortest possible run (default 10)"
    )
    parser.add_argument("--poll", type=float, default=0.5, help="the leases' poll (default 0.5)")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="estimates off by up to this share (e.g. 0.2)"
    )
    parser.add_argument("--search", type=int, default=2000, help="offline search tries")
    parser.add_argument(
        "--workers", type=int, default=8, help="lease objects the runs share (0: one per run)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="live runs per mode (median)")
    args = parser.parse_args()
    scale = 60 * args.minutes / 0.4  # draw() gives 0.4-0.8 s
    modes = [(False, "no durations"), (True, "given durations")]
    if args.noise:
        modes = [(True, f"estimates off by up to {args.noise:.0%}")]
    ratios: dict[str, list[tuple[float, float]]] = {label: [] for _, label in modes}
    for seed in args.seeds:
        jobs = [(m, scale * s) for m, s in draw(seed, args.runs)]
        rng = random.Random(f"noise {seed}")
        factors = [rng.uniform(1 - args.noise, 1 + args.noise) for _ in jobs]
        best, how, bound, why, *_ = bracket(jobs, args.gpus, args.search, seed)
        print(
            f"seed {seed}: {args.runs} runs of {min(s for _, s in jobs) / 60:.1f}-"
            f"{max(s for _, s in jobs) / 60:.1f} min on {args.gpus} x {DEVICE} GiB, poll "
            f"{args.poll:g} s; ideal between {bound / 60:.1f} min ({why}) and "
            f"{best / 60:.1f} min ({how})"
        )
        for durations, label in modes:
            expected = (
                [s * f for (_, s), f in zip(jobs, factors, strict=True)] if durations else None
            )
            tries = [
                live(jobs, expected, args.gpus, args.poll, args.workers) for _ in range(args.repeat)
            ]
            makespan, _, grants, order, _ = sorted(tries)[(len(tries) - 1) // 2]
            over = sum(t[1] for t in tries)
            real = sum(t[-1] for t in tries)
            spread = ""
            if args.repeat > 1:
                spread = (
                    f" (median of {args.repeat}: {', '.join(f'{t[0] / best:.3f}' for t in tries)})"
                )

            ratios[label].append((makespan / best, makespan / bound))
            rule = lease_rule(jobs, args.gpus, durations, estimates=expected)
            line = (
                f"  live, {label}: {makespan / 60:.1f} min = {makespan / best:.3f}x best{spread}, "
                f"{makespan / bound:.3f}x bound; over-committed {over}; the rank rule alone "
                f"{rule / best:.3f}x best"
            )
            if durations:
                alone = planned_queue(jobs, args.gpus, estimates=expected)
                at_once = {j for j, _, _, got, _ in grants if got == 0}
                first = [j for j in order if j in at_once]
                served = planned_queue(jobs, args.gpus, first, estimates=expected)
                if alone is not None and served is not None:
                    line += (
                        f"; the queue planned alone {alone / best:.3f}x, after the "
                        f"{len(first)} runs granted at once {served / best:.3f}x"
                    )
            print(line + f" ({real:.1f} s to simulate)")
    print(f"summary over seeds {','.join(map(str, args.seeds))} (goal: within 10% of the ideal):")
    for _, label in modes:
        print(summary(label, ratios[label]))


if __name__ == "__main__":
    main()
