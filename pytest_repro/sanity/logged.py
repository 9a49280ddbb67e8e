"""The checks that read what the paper's own runs log, or its data: no kit needed.

Each returns ``None`` when it passes, or a sentence saying what failed. Checks that
train use the smoke budget (``--repro-smoke-steps``, 20 steps by default) on the
paper's default config, seed 0, and their runs are recorded and reused like any other run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_repro.spec.claim_nodes import Variant
from pytest_repro.spec.schema import PaperSpec, SanityCheck

if TYPE_CHECKING:
    from pytest_repro.execution.plan import Planner, RunRequest
    from pytest_repro.records import RunRecord

    Obtain = Callable[[Sequence[RunRequest]], list[RunRecord]]


def defaults(spec: PaperSpec) -> Variant:
    return Variant(overrides={}, loc=spec.run.loc)


def short_requests(spec: PaperSpec, planner: Planner, copies: int) -> list[RunRequest]:
    """The short runs of seed 0 on the defaults a check reads (``copies`` of them)."""
    force = planner.cfg.reruns(spec.paper.id, "sanity")
    return [
        planner.request(spec, defaults(spec), 0, purpose=f"sanity#{i + 1}", smoke=True, force=force)
        for i in range(copies)
    ]


def _short_runs(spec: PaperSpec, planner: Planner, obtain: Obtain, copies: int) -> list[RunRecord]:
    return obtain(short_requests(spec, planner, copies))


def failed(records: Sequence[RunRecord]) -> str | None:
    for record in records:
        if not record.ok:
            tail = "\n".join(record.output_tail.splitlines()[-8:])
            return f"the short run {record.run_id} ended {record.status}: {record.error}" + (
                f"\n    last output:\n{indent(tail)}" if tail else ""
            )
    return None


def determinism(spec: PaperSpec, planner: Planner, obtain: Obtain) -> str | None:
    first, second = _short_runs(spec, planner, obtain, 2)
    failure = failed([first, second])
    if failure:
        return failure
    if not first.series:
        return "the short run logged no metrics, so there is nothing to compare"
    a, b = list(first.series), list(second.series)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if _canonical(x) != _canonical(y):
            diff = sorted(
                k
                for k in set(x) | set(y)
                if _canonical_value(x.get(k)) != _canonical_value(y.get(k))
            )
            return (
                f"seed 0 run twice gave different metrics at point {i + 1} "
                f"({', '.join(f'{k}: {x.get(k)!r} vs {y.get(k)!r}' for k in diff[:4])}); "
                "look for unseeded randomness or non-deterministic ops (deterministic: true in environment:)"
            )
    if len(a) != len(b):
        return f"seed 0 run twice logged {len(a)} and {len(b)} points"
    return None


def finite(spec: PaperSpec, planner: Planner, obtain: Obtain) -> str | None:
    (record,) = _short_runs(spec, planner, obtain, 1)
    failure = failed([record])
    if failure:
        return failure
    for point in record.series:
        for key, value in point.items():
            if isinstance(value, float) and not math.isfinite(value):
                where = ", ".join(
                    f"{axis} {point[axis]}" for axis in ("epoch", "step") if axis in point
                )
                return f"{key} is {value} at {where or 'a logged point'} within {planner.cfg.smoke_steps} steps"
    return None


def overlap(check: SanityCheck, spec: PaperSpec) -> str | None:
    from pytest_repro import data

    args = dict(check.args)
    name = args.get("data")
    if not name and len(spec.data) == 1:
        name = spec.data[0].name
    try:
        source = spec.data_source(str(name))
    except KeyError:
        known = ", ".join(s.name for s in spec.data) or "none"
        return f"needs data: NAME naming one of the paper's data sources ({known})"
    value, _ = data.load(source, spec.folder)
    train_key, test_key = args.get("train", "train"), args.get("test", "test")
    try:
        train, test = value[train_key], value[test_key]
    except (KeyError, TypeError, IndexError):
        keys = ", ".join(map(str, value)) if hasattr(value, "keys") else type(value).__name__
        return f"data source {name} has no splits {train_key!r}/{test_key!r} (it has: {keys}); set train: and test:"
    report = data.train_test_overlap(train, test, names=(str(train_key), str(test_key)))
    allowed = int(args.get("max", 0))
    if report.overlap > allowed:
        return (
            f"{report.overlap} of {report.n_b} {test_key} examples also occur in {train_key} "
            f"(e.g. rows {list(report.examples)[:5]}); the test score would be inflated"
        )
    return None


def _canonical(point: Any) -> Any:
    return {k: _canonical_value(v) for k, v in dict(point).items()}


def _canonical_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())
