"""What the GPU lease rule costs by itself, over many draws and several mixes of runs, and
what planning the whole queue gains.

    python benchmarks/gpu_rules.py [--seeds 10] [--gpus 8] [--variants]

No leases are taken: every schedule is worked out without latency, every run asking at
time 0 with its true duration known (what the ledger's estimate stands for).

- **lease rule**: the rank rule :class:`GpuLeases` follows when a duration is unknown,
  simulated as in ``gpu_scheduling.py`` (``lease_rule``): at every finish, the waiters in
  rank order (longest first), each started where it fits now.
- **planned queue**: what the leases do when every duration is known
  (``gpu_scheduling.planned_queue``): the queue planned by ``gpu_plan.schedule`` and
  planned again at every finish, each plan keeping the one before where it holds.

For each mix and number of runs it prints the planned queue's makespan over the lease
rule's: median, worst and best draw (below 1: the plan is shorter; each draw plans its
queue dozens of times, so ``--seeds`` defaults to 10). With ``--variants`` it prints
instead, for each change to the rank rule in :data:`VARIANTS` (see
``gpu_scheduling.Variant``), the changed rule's makespan over the rule's, median and worst
of 40 draws by default. The mixes vary the share of whole-device runs, their length
against the packed runs', the spread of durations and the packed runs' sizes, so that a
change can be judged on more than the draw ``gpu_scheduling.py`` measures.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_scheduling import Job, Variant, lease_rule, planned_queue

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="draws per mix and size")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--variants", action="store_true", help="changes to the rule instead")
    args = parser.parse_args()
    if args.variants:
        variants(args.seeds or 40, args.gpus)
        return
    seeds = args.seeds or 10
    print(f"planned queue / lease rule, {seeds} draws each, {args.gpus} x 80 GiB:")
    for mix in MIXES:
        for runs in (20, 40, 80):
            ratios = sorted(
                (planned_queue(jobs, args.gpus) or math.nan) / lease_rule(jobs, args.gpus, True)
                for jobs in (draw(seed, runs, mix) for seed in range(seeds))
            )
            print(
                f"  {mix:<50} {runs:>3} runs: median {statistics.median(ratios):.3f}, "
                f"worst {ratios[-1]:.3f}, best {ratios[0]:.3f}",
                flush=True,
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


if __name__ == "__main__":
    main()
