"""A claim's ``seeds:``: how many runs, which seeds, and when an adaptive plan looks at them.

``seeds: 5`` runs seeds 0-4, ``seeds: [1, 7, 42]`` runs those, and
``seeds: {min: 3, max: 10, stages: [3, 6, 10]}`` runs more only while the claim is
undecided. :func:`check_seeds_suffice` refuses an interval or statistic that is not
valid at the number of seeds the plan first looks at.
"""

from __future__ import annotations

import math
from typing import Any

from pytest_repro.spec.claim_nodes import SeedPlan
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe, join
from pytest_repro.spec.keys import DEFAULT_SEEDS, MAX_SEED_VALUE, MAX_SEEDS, SEED_RANGE_KEYS
from pytest_repro.vocab import METHOD_MIN_SEEDS


def read_seeds(ctx: SpecContext, c: MapReader) -> Any:
    """The claim ``c``'s seed plan; :data:`MISSING` when ``seeds:`` has a problem."""
    node = c.raw("seeds")
    loc = c.loc("seeds") if node is not None else c.loc("id")
    if node is None:
        return SeedPlan(seeds=tuple(range(DEFAULT_SEEDS)), loc=loc)
    if node.kind == "scalar":
        n = c.integer("seeds", minimum=1)
        if n is MISSING:
            return MISSING
        if n > MAX_SEEDS:
            return c.bad(
                "seeds",
                f"{n} seeds is more than {MAX_SEEDS}",
                "a reproduction affords 3-10; check the number",
            )
        return SeedPlan(seeds=tuple(range(n)), loc=loc)
    if node.kind == "seq":
        values: list[int] = []
        for i, child in enumerate(node.value):
            if (
                child.kind != "scalar"
                or isinstance(child.value, bool)
                or not isinstance(child.value, int)
                or not 0 <= child.value <= MAX_SEED_VALUE
            ):
                return ctx.ck.problem(
                    child.line,
                    join(c.field("seeds"), i),
                    f"must be a whole number from 0 to {MAX_SEED_VALUE}, got {describe(child)}",
                    "seeds are 32-bit; use pytest_repro.seeding.derive_seed to map larger ones",
                )
            values.append(child.value)
        if not values:
            return c.bad("seeds", "is empty", "list at least one seed")
        if len(set(values)) != len(values):
            return c.bad(
                "seeds",
                "lists a seed twice",
                "repeated seeds are not independent runs; list each once",
            )
        return SeedPlan(seeds=tuple(values), loc=loc)
    s = MapReader(ctx.ck, node, c.field("seeds"), allowed=SEED_RANGE_KEYS, required=("min", "max"))
    low = s.integer("min", minimum=2)
    high = s.integer("max", minimum=2)
    if MISSING in (low, high) or low is None or high is None:
        return MISSING
    if high <= low:
        return s.bad(
            "max", f"max ({high}) must be above min ({low})", "e.g. seeds: {min: 3, max: 10}"
        )
    if high > MAX_SEEDS:
        return s.bad(
            "max",
            f"{high} seeds is more than {MAX_SEEDS}",
            "a reproduction affords 3-10; check the number",
        )
    stages_node = s.raw("stages")
    if stages_node is not None:
        stages = s.strings("stages")
        try:
            parsed = tuple(int(x) for x in stages) if stages is not MISSING else None
        except ValueError:
            parsed = None
        if (
            not parsed
            or list(parsed) != sorted(set(parsed))
            or parsed[0] != low
            or parsed[-1] != high
        ):
            return s.bad(
                "stages", "must rise strictly from min to max", f"e.g. stages: [{low}, {high}]"
            )
    else:
        middle = round(math.sqrt(low * high))
        parsed = (low, middle, high) if low < middle < high else (low, high)
    return SeedPlan(seeds=tuple(range(high)), stages=parsed, loc=loc)


def check_seeds_suffice(
    c: MapReader, seeds: SeedPlan, interval: Any, statistic: Any, *, comparative: bool
) -> None:
    """Record a problem when the claim's interval or statistic is not valid at its seed count."""
    fewest = seeds.stages[0] if seeds.stages else len(seeds.seeds)
    method = interval if isinstance(interval, str) else None
    needed = METHOD_MIN_SEEDS.get(method or "", 0)
    if statistic in ("median", "iqm"):
        needed = max(needed, METHOD_MIN_SEEDS["bca"])
    if fewest < needed:
        what = (
            f"interval: {method}"
            if method and method in METHOD_MIN_SEEDS
            else f"statistic: {statistic}"
        )
        c.bad(
            "interval" if method in METHOD_MIN_SEEDS else "statistic",
            f"{what} needs at least {needed} seeds, but this claim "
            + (f"looks first at {fewest}" if seeds.stages else f"runs {fewest}"),
            "use the default (interval: auto, statistic: mean), valid at any number of seeds, "
            f"or run {needed} seeds or more (docs/statistics.md)",
        )
    if method in ("hierarchical", "anytime") and comparative:
        c.bad("interval", f"interval: {method} is for absolute claims", "use interval: t")
    if method == "anytime" and seeds.stages:
        c.bad(
            "interval",
            "interval: anytime is already valid at every seed count; adaptive seeds need no "
            "schedule with it",
            "give a seed count (seeds: 8) and add seeds whenever you like, or drop interval:",
        )


#: Welch's interval (arms on different seeds) needs this many seeds in each arm.
MIN_SEEDS_WELCH = 3


def check_welch_seeds(c: MapReader, seeds: SeedPlan, *, paired: bool) -> None:
    """Record a problem when a comparative claim's arms run on different seeds (Welch)
    with fewer than 3 seeds in an arm; paired arms (the same seeds) need only 2."""
    fewest = seeds.stages[0] if seeds.stages else len(seeds.seeds)
    if paired or fewest >= MIN_SEEDS_WELCH:
        return
    c.bad(
        "seeds",
        f"arms on different seeds are compared with Welch's interval, which needs "
        f"{MIN_SEEDS_WELCH} or more seeds in each arm, but this claim "
        + (f"looks first at {fewest}" if seeds.stages else f"runs {fewest}"),
        f"run both arms on the same seeds, or use seeds: {MIN_SEEDS_WELCH} or more",
    )
