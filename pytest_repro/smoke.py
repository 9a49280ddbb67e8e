"""Staged smoke runs: each variant of a claim, one seed, in stages of growing budget.

Under ``--repro-smoke`` a claim's pipeline is proved in stages, each a run of its own:
``forward pass`` (only where the paper gives ``run.kit``: the kit's model on one
training batch, no optimizer step), ``one step`` (a step budget of 1) and ``N steps``
(``--repro-smoke-steps``). The first stage that fails stops the claim, so a broken
pipeline is found at the cheapest stage that shows it. Each stage's run is recorded with
purpose ``smoke:<stage>``: its cache key differs from every full run's and from the other
stages'. What each stage cost (wall time, peak memory) goes into the claim's result as
:class:`~pytest_repro.results.SmokeStage` s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_repro.execution.plan import Planner, RunRequest
from pytest_repro.records import RunRecord
from pytest_repro.report.format import size
from pytest_repro.results import SmokeStage
from pytest_repro.sanity.cooperative import read_answer
from pytest_repro.spec.claim_nodes import Claim, Variant
from pytest_repro.spec.schema import PaperSpec

ONE_STEP = "one step"
FORWARD_PASS = "forward pass"
#: The internal kit check (``sanity/torch_checks.py``) the forward-pass stage runs.
FORWARD_CHECK = "forward_pass"


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage: its name and step budget; ``kit`` stages run the paper's ``run.kit``."""

    name: str
    max_steps: int
    kit: bool = False


def stages(spec: PaperSpec, smoke_steps: int) -> list[Stage]:
    """The stages of ``spec``'s smoke runs, cheapest first."""
    out = [Stage(FORWARD_PASS, 1, kit=True)] if spec.run.kit else []
    out.append(Stage(ONE_STEP, 1))
    if smoke_steps > 1:
        out.append(Stage(f"{smoke_steps} steps", smoke_steps))
    return out


def smoke_variants(claim: Claim) -> tuple[Variant, ...]:
    """The variants a smoke run of ``claim`` proves: all of them, except for a claim about a
    curve, whose smallest and largest swept values stand for the sweep (the same code
    path, and usually the cheapest and the costliest point)."""
    if claim.sweep is None or len(claim.sweep.points) <= 2:
        return claim.variants()
    ordered = sorted(zip(claim.sweep.xs, claim.sweep.points, strict=True), key=lambda p: p[0])
    return (ordered[0][1], ordered[-1][1])


def stage_requests(
    planner: Planner, spec: PaperSpec, claim: Claim, stage: Stage, seed: int, force: bool
) -> list[RunRequest]:
    """One request per smoke variant of ``claim`` (:func:`smoke_variants`) for ``stage``,
    each with purpose ``smoke:<stage>``."""
    out = []
    for variant in smoke_variants(claim):
        request = planner.request(
            spec,
            variant,
            seed,
            force=force,
            purpose=f"smoke:{stage.name}",
            smoke=True,
            max_steps=stage.max_steps,
        )
        if stage.kit:
            check: dict[str, object] = {"check": FORWARD_CHECK, "args": {}, "kit": spec.run.kit}
            request = dataclasses.replace(request, extra={"sanity": check})
        out.append(request)
    return out


def stage_error(stage: Stage, record: RunRecord) -> str | None:
    """Why ``record`` failed ``stage``, or None when it passed."""
    if not record.ok:
        return f"{record.error or record.status}"
    if stage.kit:
        return read_answer(FORWARD_CHECK, record).failure
    return None


def stage_result(stage: Stage, request: RunRequest, record: RunRecord) -> SmokeStage:
    """What ``stage`` of ``request``'s variant did and cost, read from its record."""
    error = stage_error(stage, record)
    peak = record.evidence.get("peak_rss")
    cuda = record.evidence.get("cuda_max_allocated")
    return SmokeStage(
        stage=stage.name,
        status="ok" if error is None else "failed",
        wall_s=round(record.wall_time, 3),
        peak_rss=peak if isinstance(peak, int) else None,
        cuda_max_allocated=cuda if isinstance(cuda, int) else None,
        run=record.run_id,
        variant=request.variant.describe(),
        error=error,
    )


def cost(stage: Sequence[SmokeStage]) -> str:
    """``0.41 s, 312.0 MiB`` for one stage over its variants: total wall time, largest peak."""
    wall = sum(s.wall_s for s in stage)
    text = f"{wall:.2f} s"
    peaks = [s.peak_rss for s in stage if s.peak_rss is not None]
    if peaks:
        text += f", {size(max(peaks))}"
    cudas = [s.cuda_max_allocated for s in stage if s.cuda_max_allocated is not None]
    if cudas:
        text += f", CUDA {size(max(cudas))}"
    return text


def stages_label(done: Sequence[SmokeStage]) -> str:
    """``one step 0.02 s, 210.3 MiB; 20 steps 0.05 s, 212.0 MiB``: each stage and its cost."""
    names = list(dict.fromkeys(s.stage for s in done))
    return "; ".join(f"{name} {cost([s for s in done if s.stage == name])}" for name in names)


__all__ = [
    "FORWARD_CHECK",
    "FORWARD_PASS",
    "ONE_STEP",
    "Stage",
    "cost",
    "stage_error",
    "stage_requests",
    "stage_result",
    "stages",
    "stages_label",
]
