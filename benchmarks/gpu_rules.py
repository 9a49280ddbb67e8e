"""What the GPU lease rule costs by itself, over many draws and several mixes of runs, and
what planning the whole queue would gain.

    python benchmarks/gpu_rules.py [--seeds 40] [--gpus 8] [--variants | --planned]

No leases are taken: both schedules are worked out without latency, every run asking at
time 0 with its true duration known (what the ledger's estimate stands for).

- **lease rule**: the rule :class:`GpuLeases` follows, simulated as in
  ``gpu_scheduling.py`` (``lease_rule``): at every finish, the waiters in rank order
  (longest first), each started where it fits now.
- **queue plan**: the schedule a waiter could work out from the whole queue instead: the
  runs placed one by one at the earliest time a device has room for them all the way
  through (``serial``), in two orders, longest first and whole-device runs first (longest
  first within each kind), keeping the shorter, worked out once at time 0.
- **planned queue** (``--planned``): what the leases do when every duration is known
  (``gpu_scheduling.planned_queue``): the queue planned by ``gpu_plan.schedule`` and
  planned again at every finish, each plan keeping the one before where it holds.

For each mix and number of runs it prints the queue plan's makespan over the lease
rule's: median, 90th percentile, the best and the worst draw (below 1: the plan is
shorter). With ``--variants`` it prints instead, for each change to the rule in
:data:`VARIANTS` (see ``gpu_scheduling.Variant``), the changed rule's makespan over the
rule's: median and worst draw. With ``--planned`` it prints the planned queue's makespan
over the rule's (median, worst and best draw; ``--seeds`` defaults to 10 there, as each
draw plans its queue dozens of times). The mixes vary the share of whole-device runs, their length against the packed
runs', the spread of durations and the packed runs' sizes, so that a change to the rule
can be judged on more than the draw ``gpu_scheduling.py`` measures.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_scheduling import Job, Variant, check, lease_rule, planned_queue, serial

#: name: (every n-th run whole-device, packed seconds, whole-device seconds, packed GiB)
MIXES: dict[str, tuple[int, tuple[float, float], tuple[float, float], list[int]]] = {
    "a quarter whole-device (gpu_scheduling.py's draw)": (4, (0.4, 0.8), (0.4, 0.8), [10, 20, 40]),
    "half whole-device": (2, (0.4, 0.8), (0.4, 0.8), [10, 20, 40]),
    "a tenth whole-device": (10, (0.4, 0.8), (0.4, 0.8), [10, 20, 40]),
    "whole-device runs 2-4x longer": (4, (0.4, 0.8), (1.0, 3.0), [10, 20, 40]),
    "whole-device runs 2-4x shorter": (4, (0.4, 0.8), (0.1, 0.3), [10, 20, 40]),
    "durations 0.1-3 s for all": (4, (0.1, 3.0), (0.1, 3.0), [10, 20, 40]),
    "packed runs of 40-70 GiB": (4, (0.4, 0.8), (0.4, 0.8), [40, 60, 70]),
}

#: Changes to the rule that were considered: name, the change.
VARIANTS: dict[str, Variant] = {
    "whole x1.5": Variant(whole_weight=1.5),
    "empty to whole": Variant(empty_to_whole=True),
    "drain": Variant(drain=True),
    "backfill": Variant(backfill=True),
    "drain+backfill": Variant(drain=True, backfill=True),
}


def draw(seed: int, runs: int, mix: str) -> list[Job]:
    every, packed, whole, sizes = MIXES[mix]
    rng = random.Random(seed)
    return [
        (None, rng.uniform(*whole)) if i % every == 0 else (rng.choice(sizes), rng.uniform(*packed))
        for i in range(runs)
    ]


def queue_plan(jobs: list[Job], devices: int) -> float:
    """The shorter of the two serial schedules of the docstring."""
    longest = sorted(range(len(jobs)), key=lambda j: -jobs[j][1])
    whole_first = sorted(range(len(jobs)), key=lambda j: (jobs[j][0] is not None, -jobs[j][1]))
    return min(check(jobs, devices, serial(o, jobs, devices)) for o in (longest, whole_first))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="draws per mix and size")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--variants", action="store_true", help="changes to the rule instead")
    parser.add_argument("--planned", action="store_true", help="the planned queue instead")
    args = parser.parse_args()
    if args.planned:
        planned(args.seeds or 10, args.gpus)
        return
    args.seeds = args.seeds or 40
    if args.variants:
        variants(args.seeds, args.gpus)
        return
    print(f"queue plan / lease rule, {args.seeds} draws each, {args.gpus} x 80 GiB:")
    for mix in MIXES:
        for runs in (20, 40, 80):
            ratios = sorted(
                queue_plan(jobs, args.gpus) / lease_rule(jobs, args.gpus, True)
                for jobs in (draw(seed, runs, mix) for seed in range(args.seeds))
            )
            print(
                f"  {mix:<50} {runs:>3} runs: median {statistics.median(ratios):.3f}, "
                f"p90 {ratios[int(0.9 * (len(ratios) - 1))]:.3f}, "
                f"best {ratios[0]:.3f}, worst {ratios[-1]:.3f}"
            )


def variants(seeds: int, gpus: int) -> None:
    print(f"changed rule / lease rule, median and worst of {seeds} draws each, {gpus} x 80 GiB:")
    for mix in MIXES:
        for runs in (20, 40, 80):
            draws = [draw(seed, runs, mix) for seed in range(seeds)]
            rule = [lease_rule(jobs, gpus, True) for jobs in draws]
            cells = []
            for name, variant in VARIANTS.items():
                ratios = [
                    lease_rule(jobs, gpus, True, variant=variant) / base
                    for jobs, base in zip(draws, rule, strict=True)
                ]
                cells.append(f"{name} {statistics.median(ratios):.3f}/{max(ratios):.3f}")
            print(f"  {mix:<50} {runs:>3} runs: " + ", ".join(cells))


def planned(seeds: int, gpus: int) -> None:
    print(f"planned queue / lease rule, {seeds} draws each, {gpus} x 80 GiB:")
    for mix in MIXES:
        for runs in (20, 40, 80):
            ratios = sorted(
                (planned_queue(jobs, gpus) or math.nan) / lease_rule(jobs, gpus, True)
                for jobs in (draw(seed, runs, mix) for seed in range(seeds))
            )
            print(
                f"  {mix:<50} {runs:>3} runs: median {statistics.median(ratios):.3f}, "
                f"worst {ratios[-1]:.3f}, best {ratios[0]:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
