"""Extra seeds that stay valid, and the paper-level view: the measured tables.

    python benchmarks/stats_sequential.py --reps 4000 --seed 20240229

Tables (tolerance 1, seed sd in units of the tolerance, normal seed values):

1. A user who starts at 3 seeds and, whenever the claim is inconclusive, adds the seeds
   the advice names, up to 40: the old advice ("~k seeds would decide", the fixed 90%
   verdict read again) against the anytime check; false matched at the band edge and
   matched at the paper's value.
2. Ten claims at the band edge (the worst case of "no gap"): the chance of at least one
   false gap per paper without correction, after Holm and after BH; and ten perfect
   reproductions.
3. The power table (the chance every claim of a 10-claim paper is matched if the paper is
   right) against the simulated pass-all rate.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from pytest_repro.stats import decide_absolute
from pytest_repro.stats.anytime import anytime_absolute
from pytest_repro.stats.multiplicity import absolute_test, adjust, p_value
from pytest_repro.stats.power import PowerInput, match_probability, seeds_for

CAP = 40
SDS = (0.1, 0.25, 0.5, 1.0)


def follow_old_hint(x: np.ndarray) -> str:
    """Fixed 90% verdict; while inconclusive, run the hinted ``~k`` seeds and look again."""
    n = 3
    while True:
        v = decide_absolute(list(x[:n]), paper=0.0, tolerance=1.0)
        if v.decided or n >= CAP:
            return v.outcome
        k = v.seeds_needed
        n = min(CAP, max(n + 1, k if k is not None else CAP))


def follow_anytime(x: np.ndarray) -> str:
    """The anytime check; while inconclusive, run the seeds the assurance names and look
    again (at least one more each time)."""
    n = 3
    while True:
        check = anytime_absolute(x[:n], paper=0.0, tolerance=1.0)
        if check.decided or n >= CAP:
            return check.outcome
        sd = float(np.std(x[:n], ddof=1))
        c = PowerInput(name="c", paper=0.0, tolerance=1.0, n=n, sd=sd, sd_source="observed")
        need = seeds_for(c, rule="anytime", start=n + 1)
        n = min(CAP, max(n + 1, need if need is not None else CAP))


def table_following(reps: int, seed: int) -> None:
    print(
        "| seed sd | old hint: false matched at the edge | anytime: false matched at the edge "
        "| old hint: matched at the paper | anytime: matched at the paper "
        "| anytime: mean seeds at the paper |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for sd in SDS:
        rng = np.random.default_rng([seed, int(sd * 100)])
        edge = rng.normal(-1.0, sd, (reps, CAP))
        truth = rng.normal(0.0, sd, (reps, CAP))
        old_e = np.mean([follow_old_hint(r) == "matched" for r in edge])
        any_e = np.mean([follow_anytime(r) == "matched" for r in edge])
        old_t = np.mean([follow_old_hint(r) == "matched" for r in truth])
        used: list[int] = []
        hits = 0
        for r in truth:
            n = 3
            while True:
                check = anytime_absolute(r[:n], paper=0.0, tolerance=1.0)
                if check.decided or n >= CAP:
                    break
                c = PowerInput(
                    name="c",
                    paper=0.0,
                    tolerance=1.0,
                    n=n,
                    sd=float(np.std(r[:n], ddof=1)),
                    sd_source="observed",
                )
                need = seeds_for(c, rule="anytime", start=n + 1)
                n = min(CAP, max(n + 1, need if need is not None else CAP))
            hits += check.outcome == "matched"
            used.append(n)
        print(
            f"| {sd:g} · tol | {old_e:.3f} | {any_e:.3f} | {old_t:.3f} | {hits / reps:.3f} "
            f"| {np.mean(used):.1f} |"
        )


def table_holm(reps: int, seed: int, claims: int = 10, n: int = 3, sd: float = 0.5) -> None:
    print(
        f"| true mean ({claims} claims, {n} seeds, sd {sd:g} · tol) | no correction | Holm | BH |"
    )
    print("| --- | --- | --- | --- |")
    for label, mu in (("band edge (paper − tol)", -1.0), ("paper value", 0.0)):
        rng = np.random.default_rng([seed, 7, int(mu * 10) + 10])
        x = rng.normal(mu, sd, (reps, claims, n))
        counts = {"none": 0, "holm": 0, "bh": 0}
        for rep in x:
            p = []
            for vals in rep:
                t = absolute_test(vals, paper=0.0, tolerance=1.0, better="higher")
                assert t is not None
                p.append(p_value(t))
            for corr in counts:
                counts[corr] += any(a <= 0.05 for a in adjust(p, corr))  # type: ignore[arg-type]
        print(
            f"| {label} | {counts['none'] / reps:.3f} | {counts['holm'] / reps:.3f} "
            f"| {counts['bh'] / reps:.3f} |"
        )


def table_power(reps: int, seed: int, claims: int = 10) -> None:
    print(
        f"| seeds | seed sd | power table: one claim | power table: all {claims} "
        f"| simulated: all {claims} matched | Monte Carlo se |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for n in (3, 5, 10):
        for sd in (0.25, 0.5):
            c = PowerInput(name="c", paper=0.0, tolerance=1.0, n=n, sd=sd, guarded=True)
            one = match_probability(c)
            assert one is not None
            joint = one**claims
            rng = np.random.default_rng([seed, n, int(sd * 100)])
            x = rng.normal(0.0, sd, (reps, claims, n))
            passed = np.mean(
                [
                    all(
                        decide_absolute(list(v), paper=0.0, tolerance=1.0).outcome == "matched"
                        for v in rep
                    )
                    for rep in x
                ]
            )
            se = math.sqrt(max(joint * (1 - joint), 1e-12) / reps)
            print(f"| {n} | {sd:g} · tol | {one:.3f} | {joint:.3f} | {passed:.3f} | {se:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20240229)
    ap.add_argument("--sections", default="following,holm,power")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    for name, fn in (("following", table_following), ("holm", table_holm), ("power", table_power)):
        if name in sections:
            start = time.perf_counter()
            print(f"\n## {name} ({args.reps} reps)\n")
            fn(args.reps, args.seed)
            print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
