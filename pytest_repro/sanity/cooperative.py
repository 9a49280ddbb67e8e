"""The controller's side of the checks that train through ``run.kit``.

A check becomes one run request of seed 0 on the paper's defaults whose purpose names
the check, the kit and every argument, so it has its own cache key: its record is
reused on the next session while code, config and arguments are unchanged. The worker
runs it (a ``sanity`` task, :class:`~pytest_repro.execution.protocol.SanityTask`) and
leaves what it measured in the record's ``evidence["sanity"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_repro.records import dumps
from pytest_repro.sanity.logged import defaults, failed

if TYPE_CHECKING:
    from pytest_repro.execution.plan import Planner, RunRequest
    from pytest_repro.records import RunRecord
    from pytest_repro.spec.schema import PaperSpec, SanityCheck

    Obtain = Callable[[Sequence[RunRequest]], list[RunRecord]]


@dataclass(frozen=True, slots=True, kw_only=True)
class KitResult:
    """A cooperative check's answer: its numbers, and what failed (None when it passed)."""

    check: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    failure: str | None = None
    run_id: str | None = None


def kit_request(check: SanityCheck, spec: PaperSpec, planner: Planner) -> RunRequest:
    """The run request of ``check`` on ``spec``'s paper: seed 0, defaults, its own key."""
    force = planner.cfg.reruns(spec.paper.id, "sanity")
    args = dict(check.args)
    purpose = f"sanity:{check.name}:{spec.run.kit}:{dumps(args)}"
    request = planner.request(spec, defaults(spec), 0, purpose=purpose, smoke=True, force=force)
    extra = {"sanity": {"check": check.name, "args": args, "kit": spec.run.kit}}
    return dataclasses.replace(request, extra=extra)


def kit_check(check: SanityCheck, spec: PaperSpec, planner: Planner, obtain: Obtain) -> KitResult:
    """Obtain (reuse or run) ``check``'s run and read its answer."""
    if not spec.run.kit:
        return KitResult(
            check=check.name,
            failure=f"{check.name} needs run.kit in {spec.display}, which the paper does not give",
        )
    (record,) = obtain([kit_request(check, spec, planner)])
    return read_answer(check.name, record)


def read_answer(name: str, record: RunRecord) -> KitResult:
    """The :class:`KitResult` a check's record holds."""
    failure = failed([record])
    if failure is not None:
        return KitResult(check=name, failure=failure, run_id=record.run_id)
    answer = record.evidence.get("sanity")
    if not isinstance(answer, Mapping) or answer.get("check") != name:
        return KitResult(
            check=name,
            failure=f"the run {record.run_id} ended without {name}'s answer",
            run_id=record.run_id,
        )
    numbers = answer.get("numbers")
    return KitResult(
        check=name,
        numbers=dict(numbers) if isinstance(numbers, Mapping) else {},
        failure=None if answer.get("passed") else str(answer.get("failure")),
        run_id=record.run_id,
    )


__all__ = ["KitResult", "kit_check", "kit_request", "read_answer"]
