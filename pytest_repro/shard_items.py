"""The pytest side of ``--repro-shard``: each claim's runs and their expected cost.

Plans every selected claim of a paper at once (one ledger lookup, as the forecast does)
and hands :func:`pytest_repro.shard.split` the run keys it would obtain, each with its
expected seconds: 0 for a recorded run, the forecast's estimate, else
:data:`~pytest_repro.shard.UNKNOWN_RUN`. A paper that cannot be planned keeps its claims
together (one group, keyed by the paper file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.shard import UNKNOWN_RUN, split

if TYPE_CHECKING:
    from pytest_repro.runtime import Runtime


def _claim_runs(runtime: Runtime, items: Sequence[pytest.Item]) -> dict[int, dict[str, float]]:
    from pytest_repro.collect import ClaimItem
    from pytest_repro.errors import ReproError

    papers: dict[Any, list[ClaimItem]] = {}
    for item in items:
        if isinstance(item, ClaimItem):
            papers.setdefault(item.spec.file, []).append(item)
    out: dict[int, dict[str, float]] = {}
    for claims in papers.values():
        spec = claims[0].spec
        try:
            plans = runtime.plans(spec, [c.claim for c in claims])
        except (ReproError, OSError):
            for c in claims:
                out[id(c)] = {f"paper:{spec.file}": UNKNOWN_RUN}
            continue
        for c, plan in zip(claims, plans, strict=True):
            out[id(c)] = {
                run.key: 0.0
                if run.reason is None
                else (run.estimate if run.estimate is not None else UNKNOWN_RUN)
                for run in plan.runs
            }
    return out


def shard_items(
    runtime: Runtime, items: Sequence[pytest.Item], shard: tuple[int, int]
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected) items of ``shard``."""
    from pytest_repro.collect import ClaimItem, SanityItem

    runs = _claim_runs(runtime, items)

    def paper_of(item: Any) -> str | None:
        return str(item.spec.file) if isinstance(item, (ClaimItem, SanityItem)) else None

    return split(
        items,
        shard,
        runs_of=lambda item: runs.get(id(item)),
        paper_of=paper_of,
        is_sanity=lambda item: isinstance(item, SanityItem),
    )


__all__ = ["shard_items"]
