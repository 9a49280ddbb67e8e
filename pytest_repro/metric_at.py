"""A claim's metric read at exactly its ``at``: an epoch or step, ``final``, or the point
where another metric first crosses a value.

A run that never logged the metric there is a :class:`~pytest_repro.errors.MetricError`
that says what the run did log — never a silent "last value".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pytest_repro.errors import MetricError
from pytest_repro.execution.metrics import logged_names
from pytest_repro.records import RunRecord
from pytest_repro.spec.claim_nodes import Claim
from pytest_repro.spec.fields import suggest


def metric_value(point: Mapping[str, Any], metric: str) -> Any:
    """``metric`` at one logged point, None when it was not logged there.

    ``"train_acc - val_acc"`` is the difference of two metrics logged at the same point.
    """
    if " - " in metric:
        a, b = (t.strip() for t in metric.split(" - ", 1))
        left, right = point.get(a), point.get(b)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            return float(left) - float(right)
        return None if left is None or right is None else f"{left!r} - {right!r}"
    return point.get(metric)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def value_at(record: RunRecord, claim: Claim, metric: str | None = None) -> float:
    """The claim's metric in ``record`` at the claim's ``at``; :class:`MetricError` if absent.

    ``at: final`` reads the last point that logged the metric; ``at: {first: ...}`` gives
    the step (or epoch) at which a metric first reaches its threshold.
    """
    metric = metric or claim.metric
    where = f"seed {record.seed} (run {record.run_id})"
    if claim.at.first_metric is not None:
        return _first_crossing(record, claim, where)
    axis, at = claim.at.axis, claim.at.value
    with_metric = [p for p in record.series if metric_value(p, metric) is not None]
    hits = [p for p in with_metric if p.get(axis) == at]
    if claim.at.final:  # the last point that logged it, whatever its step
        hits = with_metric[-1:]
    if hits:
        value = metric_value(hits[-1], metric)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricError(
                f"{where}: {metric} at {axis} {at} is {value!r}, not a number",
                f"{metric} is not a number",
            )
        if not math.isfinite(value):
            raise MetricError(
                f"{where}: {metric} is {value} at {axis} {at}: the run diverged or logged an invalid value",
                f"{metric} is {value} at {axis} {at}",
            )
        return float(value)
    if not record.series:
        from pytest_repro.execution.reading import no_points

        raise MetricError(f"{where}: {no_points(record)}", "the runs logged no metrics")
    if not with_metric:
        names = logged_names(record.series)
        missing = metric
        if " - " in metric:  # name the term that was never logged
            terms = [t.strip() for t in metric.split(" - ", 1)]
            missing = next((t for t in terms if t not in names), metric)
            if missing == metric:
                raise MetricError(
                    f"{where}: {terms[0]} and {terms[1]} were never logged at the same point; "
                    f"log both in one ctx.log(...) call",
                    f"{metric}: never logged together",
                )
        raise MetricError(
            f"{where}: {missing!r} was never logged{suggest(missing, names)}; the run logged: {', '.join(names)}",
            f"{missing} was never logged{suggest(missing, names)}",
        )
    reached = [p[axis] for p in with_metric if isinstance(p.get(axis), int)]
    if not reached:
        other = "step" if axis == "epoch" else "epoch"
        raise MetricError(
            f"{where}: {metric} was logged with {other}= only, but the claim reads it at {axis} {at}; "
            f"log {axis}= too, or write at: {{{other}: N}}",
            f"{metric} was logged by {other}, not by {axis}",
        )
    last = max(reached)
    if last < at:
        raise MetricError(
            f"{where}: the run logged {metric} up to {axis} {last} but never reached {axis} {at}, "
            "where the claim reads it (did it stop early or time out?)",
            f"{metric} never reached {axis} {at} (last: {last})",
        )
    near = sorted(reached, key=lambda v: abs(v - at))[:3]
    raise MetricError(
        f"{where}: {metric} was logged at {axis}s {', '.join(map(str, sorted(near)))} but not at {axis} {at}, "
        f"where the claim reads it; log at {axis} {at} or fix at:",
        f"{metric} not logged at {axis} {at}",
    )


def _first_crossing(record: RunRecord, claim: Claim, where: str) -> float:
    """The axis value of the first point where the claim's ``first.metric`` crosses."""
    at = claim.at
    name, threshold, axis = str(at.first_metric), float(at.threshold or 0.0), at.axis
    points = [
        p
        for p in record.series
        if _is_number(metric_value(p, name)) and isinstance(p.get(axis), int)
    ]
    for point in points:
        value = float(metric_value(point, name))
        if (value >= threshold) if at.above else (value <= threshold):
            return float(point[axis])
    if not points:
        names = logged_names(record.series)
        raise MetricError(
            f"{where}: {name!r} was never logged with {axis}={suggest(name, names)}; "
            f"the run logged: {', '.join(names)}",
            f"{name} was never logged by {axis}",
        )
    values = [float(metric_value(p, name)) for p in points]
    best = max(values) if at.above else min(values)
    side = "reached" if at.above else "fell to"
    raise MetricError(
        f"{where}: {name} never {side} {threshold:g} (its {'highest' if at.above else 'lowest'} "
        f"value was {best:g}, by {axis} {points[-1][axis]}): the claim's point never came",
        f"{name} never {side} {threshold:g}",
    )


__all__ = ["metric_value", "value_at"]
