"""What the controller says before runs start: the forecast of the items an xdist worker
collected, and ``--repro-plan``'s power table.

Under xdist the controller collects no items, so it cannot plan them as a serial session
does at collection. The workers report the node ids they collected; this module loads
those ids' ``paper.yaml`` files (read-only: nothing runs, no ledger is created) and hands
their claims and sanity checks to :meth:`~pytest_repro.runtime.Runtime.forecast`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from pytest_repro.collect import display_path
from pytest_repro.errors import ReproError

if TYPE_CHECKING:
    from pytest_repro.forecast import ItemPlan
    from pytest_repro.runtime import Runtime
    from pytest_repro.spec.claim_nodes import Claim
    from pytest_repro.spec.schema import PaperSpec, SanityCheck


def _by_file(ids: Sequence[str]) -> dict[str, list[str]]:
    """``papers/p/paper.yaml::acc`` → ``{"papers/p/paper.yaml": ["acc"]}``, in order."""
    out: dict[str, list[str]] = {}
    for nodeid in ids:
        path, sep, name = nodeid.partition("::")
        if sep and path.endswith((".yaml", ".yml")):
            out.setdefault(path, []).append(name)
    return out


def forecast_for_ids(
    config: pytest.Config, runtime: Runtime, ids: Sequence[str], *, processes: int = 1
) -> str | None:
    """The forecast line over the claims and sanity checks among ``ids``, or None when
    there are none (a session of plain tests); runs spread over ``processes`` xdist
    workers, each with its own ``--repro-workers``."""
    from pytest_repro.errors import SpecError
    from pytest_repro.spec import load_spec

    files = _by_file(ids)
    if not files:
        return None
    try:
        formats = runtime.metric_formats()
    except ReproError:
        return None
    groups: list[tuple[PaperSpec, list[Claim | SanityCheck]]] = []
    for relative, names in files.items():
        path = config.rootpath / relative
        try:
            spec = load_spec(
                path,
                display=display_path(path, config.rootpath),
                metric_formats=formats,
                trees=runtime.spec_trees(),
            )
        except (SpecError, OSError):
            continue
        wanted = set(names)
        whats: list[Claim | SanityCheck] = [
            check for check in spec.sanity if f"sanity[{check.name}]" in wanted
        ]
        whats += [claim for claim in spec.claims if claim.id in wanted]
        if whats:
            groups.append((spec, whats))
    return runtime.forecast(groups, processes=processes) if groups else None


def power_before_running(
    config: pytest.Config, plans: Sequence[ItemPlan], runtime: Runtime
) -> list[str]:
    """``--repro-plan``'s power table: per paper, the chance each planned claim is matched
    at its seeds if the paper is right, from the paper's own ± (a claim without one says
    its spread is unknown), and the chance they all are."""
    from pytest_repro.errors import SpecError
    from pytest_repro.spec import load_spec
    from pytest_repro.stats.bounded import claim_bounds
    from pytest_repro.stats.power import claim_input, power_lines
    from pytest_repro.stats.skew_guard import applies

    try:
        formats = runtime.metric_formats()
    except ReproError:
        return []
    out: list[str] = []
    papers: dict[str, set[str]] = {}
    for plan in plans:
        papers.setdefault(plan.paper, set()).add(plan.item)
    for display, items in papers.items():
        path = config.rootpath / display
        try:
            spec = load_spec(path, display=display, metric_formats=formats)
        except (SpecError, OSError):
            continue
        inputs = []
        for claim in spec.claims:
            if claim.id not in items or claim.paper is None:
                continue
            p = claim.paper
            spread = (
                {
                    "value": p.spread,
                    "kind": p.spread_kind,
                    "seeds": p.seeds,
                    "ci_method": p.ci_method,
                }
                if p.spread is not None and p.spread_kind is not None and p.seeds
                else None
            )
            n = claim.seeds.stages[-1] if claim.seeds.stages else len(claim.seeds.seeds)
            made = claim_input(
                name=f"{display}::{claim.id}",
                kind=claim.kind,
                paper=p.value,
                tolerance=claim.tolerance,
                n=n,
                values=(),
                paper_spread=spread,
                bounds=claim_bounds(claim.unit, p.value),
                better=claim.better,
                guarded=applies(
                    claim.interval or runtime.cfg.interval,
                    statistic=claim.statistic,
                    skewed_seeds=claim.skewed_seeds,
                    deterministic=claim.deterministic,
                ),
            )
            if made is not None:
                inputs.append(made)
        if not inputs:
            continue
        if all(c.sd is None for c in inputs):
            out.append(
                f"{display}: unknown before running (no claim gives the paper's ±); "
                "results.md gives it from the seeds' observed spread"
            )
            continue
        out.append(f"{display}: from the paper's own sd")
        out.extend(f"    {line}" for line in power_lines(inputs))
    return out


__all__ = ["forecast_for_ids", "power_before_running"]
