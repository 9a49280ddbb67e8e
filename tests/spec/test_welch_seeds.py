"""Comparative claims whose arms run on different seeds need 3 seeds in each arm."""

from __future__ import annotations

import pytest

from pytest_repro.spec.schema import Location, SeedPlan
from pytest_repro.spec.seeds_section import check_welch_seeds


class Recorder:
    """Stands in for the loader's MapReader: records what ``bad`` is told."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str]] = []

    def bad(self, key: str, why: str, fix: str) -> None:
        self.problems.append((key, why, fix))


def plan(n: int, stages: tuple[int, ...] | None = None) -> SeedPlan:
    return SeedPlan(seeds=tuple(range(n)), stages=stages, loc=Location(path="paper.yaml", line=7))


@pytest.mark.parametrize(("n", "stages"), [(2, None), (1, None), (10, (2, 5, 10))])
def test_unpaired_arms_with_fewer_than_three_seeds_are_refused_at_load(
    n: int, stages: tuple[int, ...] | None
) -> None:
    c = Recorder()
    check_welch_seeds(c, plan(n, stages), paired=False)  # type: ignore[arg-type]
    ((key, why, fix),) = c.problems
    assert key == "seeds"
    assert "3 or more seeds in each arm" in why
    assert "same seeds" in fix


@pytest.mark.parametrize(("n", "paired"), [(2, True), (3, False), (1, True)])
def test_paired_arms_or_three_seeds_are_accepted(n: int, paired: bool) -> None:
    c = Recorder()
    check_welch_seeds(c, plan(n), paired=paired)  # type: ignore[arg-type]
    assert c.problems == []
