"""``--repro-shard``: the pure split (groups by shared runs, balanced by expected cost)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_repro.shard import Group, assign, merge, split


@dataclass(frozen=True)
class Item:
    nodeid: str
    paper: str | None = None
    runs: tuple[tuple[str, float], ...] | None = None  # None: not a claim
    sanity: bool = False


def run_split(items: list[Item], shard: tuple[int, int]) -> tuple[list[Item], list[Item]]:
    return split(
        items,
        shard,
        runs_of=lambda i: dict(i.runs) if i.runs is not None else None,
        paper_of=lambda i: i.paper,
        is_sanity=lambda i: i.sanity,
    )


def test_claims_sharing_a_run_form_one_group_even_through_a_chain() -> None:
    a = Item("p::a", "p", (("r1", 1.0),))
    b = Item("p::b", "p", (("r1", 1.0), ("r2", 1.0)))
    c = Item("p::c", "p", (("r2", 1.0),))
    d = Item("p::d", "p", (("r3", 5.0),))
    groups = merge([(i, dict(i.runs or ())) for i in (a, b, c, d)])
    assert [g.items for g in groups] == [[a, b, c], [d]]
    assert groups[0].cost == 2.0 + 3 * 0.01  # a run two claims share counts once


def test_the_most_expensive_groups_go_first_to_the_least_loaded_shard() -> None:
    groups = [
        Group(items=[f"g{i}"], runs={f"r{i}": cost}) for i, cost in enumerate([5, 4, 3, 3, 2, 1])
    ]
    shards = assign(groups, 2)
    loads = [sum(g.cost for g, s in zip(groups, shards, strict=True) if s == k) for k in (0, 1)]
    assert sorted(round(x) for x in loads) == [9, 9]


def test_sanity_checks_go_with_their_papers_claims_and_plain_tests_are_spread() -> None:
    items = [
        Item("p/paper.yaml::sanity[finite]", "p", sanity=True),
        *(Item(f"p/paper.yaml::c{i}", "p", ((f"r{i}", 10.0),)) for i in range(4)),
        *(Item(f"test_x.py::test_{i}") for i in range(20)),
    ]
    first, _ = run_split(items, (1, 2))
    second, _ = run_split(items, (2, 2))
    assert items[0] in first and items[0] in second
    claims = [i for i in items if i.runs is not None]
    assert sorted(c.nodeid for c in claims if c in first) != []
    assert {c.nodeid for c in claims if c in first} | {c.nodeid for c in claims if c in second} == {
        c.nodeid for c in claims
    }
    plain = [i for i in items if i.paper is None]
    assert 0 < sum(i in first for i in plain) < len(plain)


runs = st.lists(st.sampled_from("abcdefgh"), max_size=3)  # a run key has one estimate


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["p", "q"]), runs), min_size=1, max_size=12),
    st.integers(1, 5),
    st.randoms(use_true_random=False),
)
def test_shards_partition_the_claims_keep_shared_runs_together_and_ignore_item_order(
    spec: list[tuple[str, list[str]]], count: int, rnd: object
) -> None:
    items = [
        Item(f"{paper}::c{i}", paper, tuple((f"{paper}{k}", float(ord(k) % 7)) for k in r))
        for i, (paper, r) in enumerate(spec)
    ]
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    where: dict[str, int] = {}
    for k in range(1, count + 1):
        kept, dropped = run_split(items, (k, count))
        assert len(kept) + len(dropped) == len(items)
        assert [i for i in items if i in kept] == kept  # order preserved
        again, _ = run_split(shuffled, (k, count))
        assert {i.nodeid for i in again} == {i.nodeid for i in kept}
        for item in kept:
            assert item.nodeid not in where
            where[item.nodeid] = k
    assert set(where) == {i.nodeid for i in items}
    for a in items:
        for b in items:
            if {k for k, _ in a.runs or ()} & {k for k, _ in b.runs or ()}:
                assert where[a.nodeid] == where[b.nodeid]
