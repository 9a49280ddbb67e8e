"""``--repro-shard=I/N``: one of N deterministic parts of a session, for a CI matrix.

Claims that share a run stay in one shard (else two machines would train it), and the
shards are balanced by the compute the forecast expects (:mod:`pytest_repro.forecast`):
groups go, most expensive first, to the shard with the least work so far. A paper's
sanity checks go to every shard that holds one of its claims, since they gate those
claims; other tests are spread by a hash of their node id. The split reads only the
paper files and runs recorded before the session started, so every xdist worker of a
shard computes the same one::

    groups = claim_groups(items)                    # [(cost, [item, ...]), ...]
    keep = select(groups, shard=(2, 4))
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The cost given to a run the ledger has no estimate for, in seconds: unknown runs count
#: as a little more than cached ones, so groups of never-run claims still spread out.
UNKNOWN_RUN = 60.0
#: The cost of a claim whose runs are all recorded.
CACHED_CLAIM = 0.01


@dataclass(slots=True)
class Group:
    """Items that must run on one shard, and what they are expected to cost."""

    items: list[Any] = field(default_factory=list)
    runs: dict[str, float] = field(default_factory=dict)  # cache key → seconds (0: cached)

    @property
    def cost(self) -> float:
        return CACHED_CLAIM * len(self.items) + sum(self.runs.values())

    @property
    def name(self) -> str:
        return min(str(getattr(i, "nodeid", i)) for i in self.items)


def merge(entries: Sequence[tuple[Any, dict[str, float]]]) -> list[Group]:
    """Groups of items connected by a shared run key (union-find), in first-seen order."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, (_, runs) in enumerate(entries):
        for key in runs:
            if key in owner:
                parent[find(index)] = find(owner[key])
            else:
                owner[key] = index
    groups: dict[int, Group] = {}
    for index, (item, runs) in enumerate(entries):
        group = groups.setdefault(find(index), Group())
        group.items.append(item)
        group.runs.update(runs)
    return list(groups.values())


def assign(groups: Sequence[Group], count: int) -> list[int]:
    """The shard (0-based) of each group: most expensive first, to the least loaded shard;
    ties broken by the group's first node id, so the split never depends on order."""
    order = sorted(range(len(groups)), key=lambda g: (-groups[g].cost, groups[g].name))
    loads = [(0.0, shard) for shard in range(count)]
    out = [0] * len(groups)
    for g in order:
        load, shard = heapq.heappop(loads)
        out[g] = shard
        heapq.heappush(loads, (load + groups[g].cost, shard))
    return out


def stable_shard(nodeid: str, count: int) -> int:
    """The shard of a test that is not a claim: a hash of its node id."""
    return zlib.crc32(nodeid.encode("utf-8", "surrogatepass")) % count


def split(
    items: Sequence[Any],
    shard: tuple[int, int],
    *,
    runs_of: Callable[[Any], dict[str, float] | None],
    paper_of: Callable[[Any], str | None],
    is_sanity: Callable[[Any], bool],
) -> tuple[list[Any], list[Any]]:
    """(kept, deselected) for shard ``shard = (I, N)``, I 1-based, order preserved.

    ``runs_of(item)``: a claim's run keys with their expected seconds (None: not a claim);
    ``paper_of(item)``: the paper file a claim or sanity check belongs to."""
    index, count = shard[0] - 1, shard[1]
    runs = {id(item): r for item in items if (r := runs_of(item)) is not None}
    claims = [(item, runs[id(item)]) for item in items if id(item) in runs]
    groups = merge(claims)
    shards = assign(groups, count)
    mine = {
        id(item)
        for group, s in zip(groups, shards, strict=True)
        if s == index
        for item in group.items
    }
    with_claims = {paper_of(item) for item, _ in claims}
    here = {paper_of(item) for item, _ in claims if id(item) in mine}
    kept: list[Any] = []
    dropped: list[Any] = []
    for item in items:
        if id(item) in runs:
            keep = id(item) in mine
        elif is_sanity(item) and paper_of(item) in with_claims:
            keep = paper_of(item) in here
        else:
            keep = stable_shard(str(item.nodeid), count) == index
        (kept if keep else dropped).append(item)
    return kept, dropped


__all__ = ["CACHED_CLAIM", "UNKNOWN_RUN", "Group", "assign", "merge", "split", "stable_shard"]
