"""What a session would run, why, and about how long it would take.

Pure functions over planned requests and recorded runs: nothing here opens a ledger or
executes anything. ``--repro-plan`` uses them for each claim and sanity check; a normal
session uses them once, at the start, for the one-line forecast.

A run to execute is explained against the most similar recorded run of the same paper,
seed and purpose (fewest differing top-level key fields): ``config changed: lr 0.01 →
0.02``, ``code changed``, ``environment changed: torch 2.1 → 2.3``, ``never run`` when
nothing similar exists. Its compute is estimated from the wall time of the most similar
recorded run of the same config; else extrapolated from the smoke stages of that config
(their wall times against the step or epoch each reached, out to the point the claims
read); else the median of the paper's recorded runs::

    runs = plan_runs(requests, cached=store.get_many(keys), history=records, reuse=True)
    line = forecast_line(summarize([ItemPlan(item="acc", paper="papers/p1", runs=runs)], workers=2))
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pytest_repro.report.escape import plain
from pytest_repro.report.format import plural

if TYPE_CHECKING:
    from pytest_repro.records import RunRecord

FORCED = "forced (--repro-rerun)"
NEVER_RUN = "never run"
#: Top-level key fields named otherwise in a reason.
_NAMES: Mapping[str, str] = {
    "entry": "entrypoint",
    "run_env": "run env",
    "max_steps": "smoke budget",
}


class Planned(Protocol):
    """What this module reads of a :class:`~pytest_repro.execution.plan.RunRequest`."""

    @property
    def cache_key(self) -> str: ...
    @property
    def key_fields(self) -> Mapping[str, Any]: ...
    @property
    def seed(self) -> int: ...
    @property
    def purpose(self) -> str: ...
    @property
    def force(self) -> bool: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def label(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedRun:
    """One run of an item's plan: cached (``reason`` None) or to execute, and why."""

    key: str
    what: str
    reason: str | None = None
    estimate: float | None = None
    #: where the estimate comes from: ``recorded`` runs or ``smoke`` stages.
    basis: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "what": self.what,
            "reason": self.reason,
            "estimate": self.estimate,
            "basis": self.basis,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedRun:
        estimate = data.get("estimate")
        return cls(
            key=str(data["key"]),
            what=str(data["what"]),
            reason=None if data.get("reason") is None else str(data["reason"]),
            estimate=None if estimate is None else float(estimate),
            basis=None if data.get("basis") is None else str(data["basis"]),
        )


@dataclass(frozen=True, slots=True)
class Reach:
    """How far a full run must get: the largest epoch or step its claims read."""

    axis: str
    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemPlan:
    """The runs one claim or sanity check would obtain; ``up_to`` for adaptive seeds."""

    item: str
    paper: str
    runs: tuple[PlannedRun, ...] = ()
    up_to: bool = False

    @property
    def to_run(self) -> tuple[PlannedRun, ...]:
        return tuple(r for r in self.runs if r.reason is not None)

    @property
    def cached(self) -> tuple[PlannedRun, ...]:
        return tuple(r for r in self.runs if r.reason is None)

    def label(self) -> str:
        """``[plan: 3 to run (config changed), 3 cached]``."""
        up = "up to " if self.up_to else ""
        kinds = sorted({_kind(r.reason) for r in self.to_run if r.reason is not None})
        why = f" ({', '.join(kinds)})" if kinds else ""
        return plain(f"[plan: {up}{len(self.to_run)} to run{why}, {len(self.cached)} cached]")

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "paper": self.paper,
            "up_to": self.up_to,
            "runs": [r.to_json() for r in self.runs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemPlan:
        return cls(
            item=str(data["item"]),
            paper=str(data["paper"]),
            up_to=bool(data.get("up_to")),
            runs=tuple(PlannedRun.from_json(r) for r in data.get("runs", ())),
        )


def _kind(reason: str) -> str:
    """``config changed: lr 0.01 → 0.02; code changed`` → ``config changed, code changed``."""
    return ", ".join(part.split(":")[0].split(" (")[0].strip() for part in reason.split(";"))


# -- why ----------------------------------------------------------------------------------------
def recorded_fields(record: RunRecord) -> Mapping[str, Any] | None:
    """The key fields a record was run with (``evidence["key"]``), if it kept them."""
    fields = record.evidence.get("key")
    return fields if isinstance(fields, Mapping) else None


def differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The top-level key fields whose values differ, in a stable order."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def most_similar(
    fields: Mapping[str, Any], history: Iterable[RunRecord], *, same_config: bool = False
) -> RunRecord | None:
    """The recorded run of the same seed and purpose with the fewest differing key fields;
    the newest among equals. ``same_config``: only runs of exactly this config."""
    best: RunRecord | None = None
    best_count = 0
    for record in history:
        old = recorded_fields(record)
        if old is None or record.status == "running":
            continue
        if old.get("seed") != fields.get("seed") or old.get("purpose") != fields.get("purpose"):
            continue
        if same_config and old.get("config") != fields.get("config"):
            continue
        count = len(differing(old, fields))
        if best is None or count <= best_count:
            best, best_count = record, count
    return best


def _value(value: Any) -> str:
    return "(none)" if value is None else plain(value)


def _mapping_changes(old: Any, new: Any) -> list[str]:
    old_map = old if isinstance(old, Mapping) else {}
    new_map = new if isinstance(new, Mapping) else {}
    return [
        f"{plain(k)} {_value(old_map.get(k))} → {_value(new_map.get(k))}"
        for k in sorted(set(old_map) | set(new_map), key=str)
        if old_map.get(k) != new_map.get(k)
    ]


def _environment_changes(old: Any, new: Any) -> list[str]:
    old_map = dict(old) if isinstance(old, Mapping) else {}
    new_map = dict(new) if isinstance(new, Mapping) else {}
    old_packages, new_packages = old_map.pop("packages", None), new_map.pop("packages", None)
    return _mapping_changes(old_map, new_map) + _mapping_changes(old_packages, new_packages)


def describe_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What differs between two runs' key fields, in words; the most telling first.

    >>> describe_change({"config": {"lr": 0.01}, "code": "a"}, {"config": {"lr": 0.02}, "code": "a"})
    'config changed: lr 0.01 → 0.02'
    """
    parts: list[str] = []
    for name in differing(old, new):
        words = _NAMES.get(name, name)
        if name == "config":
            parts.append(
                f"config changed: {', '.join(_mapping_changes(old.get(name), new.get(name)))}"
            )
        elif name == "environment":
            changes = _environment_changes(old.get(name), new.get(name))
            parts.append("environment changed" + (f": {', '.join(changes)}" if changes else ""))
        elif name == "data":
            names = [c.split(" ")[0] for c in _mapping_changes(old.get(name), new.get(name))]
            parts.append("data changed" + (f": {', '.join(names)}" if names else ""))
        elif name in ("code", "entry", "run_env", "v"):
            parts.append(f"{words} changed")
        else:
            parts.append(f"{words} changed: {_value(old.get(name))} → {_value(new.get(name))}")
    order = ["config", "code", "data", "environment"]
    parts.sort(key=lambda p: next((i for i, w in enumerate(order) if p.startswith(w)), len(order)))
    return "; ".join(parts) or "key changed"


def why(
    request: Planned,
    *,
    cached: Mapping[str, RunRecord],
    history: Sequence[RunRecord],
    reuse: bool = True,
) -> str | None:
    """None when the request would be taken from the ledger, else why it would execute."""
    if request.force:
        return FORCED
    if not reuse:
        return "not reused (--repro-cache)"
    if request.cache_key in cached:
        return None
    same = [r for r in history if r.cache_key == request.cache_key and r.status != "running"]
    if same:
        return f"last run failed ({plain(same[-1].status)})"
    similar = most_similar(request.key_fields, history)
    if similar is None:
        return NEVER_RUN
    old = recorded_fields(similar)
    assert old is not None  # most_similar only returns records with key fields
    return describe_change(old, request.key_fields)


def _finished(history: Iterable[RunRecord]) -> list[RunRecord]:
    return [r for r in history if r.status != "running" and r.wall_time > 0]


def estimate(request: Planned, history: Sequence[RunRecord]) -> float | None:
    """Seconds the run may take: the wall time of the most similar recorded run of the
    same config, else the median of the paper's recorded runs, else None."""
    return estimate_with_basis(request, history)[0]


def estimate_with_basis(
    request: Planned, history: Sequence[RunRecord], reach: Reach | None = None
) -> tuple[float | None, str | None]:
    """The estimate and where it comes from (``recorded`` or ``smoke``): a recorded run of
    the same config, else (with ``reach``) its smoke stages, else the median of the
    paper's recorded runs of the same purpose."""
    finished = _finished(history)
    same = most_similar(request.key_fields, finished, same_config=True)
    same = same or _same_config(request, finished)  # another seed of the same config
    if same is not None:
        return same.wall_time, "recorded"
    if reach is not None:
        seconds = smoke_estimate(request, finished, reach)
        if seconds is not None:
            return seconds, "smoke"
    if not finished:
        return None, None
    purpose = request.key_fields.get("purpose")
    kind = [r for r in finished if (recorded_fields(r) or {}).get("purpose") == purpose]
    return float(statistics.median(r.wall_time for r in kind or finished)), "recorded"


def _same_config(request: Planned, finished: Sequence[RunRecord]) -> RunRecord | None:
    for record in reversed(finished):
        old = recorded_fields(record)
        if (
            old is not None
            and old.get("config") == request.key_fields.get("config")
            and old.get("purpose") == request.key_fields.get("purpose")
        ):
            return record
    return None


def _reached(record: RunRecord, axis: str) -> int | None:
    values = [p[axis] for p in record.series if isinstance(p.get(axis), int)]
    return max(values) if values else None


def smoke_estimate(request: Planned, history: Sequence[RunRecord], reach: Reach) -> float | None:
    """Seconds a full run may take, from the smoke stages of its config, or None.

    Each finished smoke stage of the same config is a point (the ``reach.axis`` value it
    reached, its wall time); the newest stage of each budget counts. Two points give a
    fixed cost and a cost per epoch (or step), extrapolated to ``reach.value``; one gives
    the cost per unit alone (start-up included, so it errs long). Stages that reached no
    point of the axis (a forward pass) tell nothing and are left out."""
    config = request.key_fields.get("config")
    points: dict[Any, tuple[int, float]] = {}
    for record in history:
        fields = recorded_fields(record)
        if fields is None or not record.ok or record.wall_time <= 0:
            continue
        if (
            not str(fields.get("purpose", "")).startswith("smoke:")
            or fields.get("config") != config
        ):
            continue
        reached = _reached(record, reach.axis)
        if reached is not None and reached > 0:
            points[fields.get("max_steps")] = (reached, record.wall_time)
    if not points:
        return None
    ordered = sorted(points.values())
    (a1, t1), (a2, t2) = ordered[0], ordered[-1]
    if a2 == a1:
        return max(t for _, t in ordered) * reach.value / a2
    rate = max(0.0, (t2 - t1) / (a2 - a1))
    return max(t1, t2 + rate * (reach.value - a2))


def plan_runs(
    requests: Sequence[Planned],
    *,
    cached: Mapping[str, RunRecord],
    history: Sequence[RunRecord],
    reuse: bool = True,
    reach: Mapping[str, Reach] | None = None,
) -> tuple[PlannedRun, ...]:
    """One :class:`PlannedRun` per distinct request, in order. ``reach``: per cache key,
    how far the run must get, for estimates from smoke stages."""
    out: dict[str, PlannedRun] = {}
    for request in requests:
        if request.cache_key in out:
            continue
        reason = why(request, cached=cached, history=history, reuse=reuse)
        seconds, basis = (
            (None, None)
            if reason is None
            else estimate_with_basis(request, history, (reach or {}).get(request.cache_key))
        )
        out[request.cache_key] = PlannedRun(
            key=request.cache_key,
            what=plain(request.label),
            reason=reason,
            estimate=seconds,
            basis=basis,
        )
    return tuple(out.values())


# -- the forecast -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """Distinct runs of a session: how many are cached, how many would run, and how long."""

    runs: int
    cached: int
    to_run: int
    compute: float
    wall: float
    workers: int
    unknown: int
    up_to: bool = False
    #: runs whose estimate is extrapolated from smoke stages.
    from_smoke: int = 0


def summarize(plans: Iterable[ItemPlan], *, workers: int) -> Forecast:
    """Totals over distinct runs (two claims sharing a run count it once)."""
    runs: dict[str, PlannedRun] = {}
    up_to = False
    for plan in plans:
        up_to = up_to or plan.up_to
        for run in plan.runs:
            runs.setdefault(run.key, run)
    to_run = [r for r in runs.values() if r.reason is not None]
    known = [r.estimate for r in to_run if r.estimate is not None]
    return Forecast(
        runs=len(runs),
        cached=len(runs) - len(to_run),
        to_run=len(to_run),
        compute=sum(known),
        wall=spread_over(known, workers),
        workers=max(1, workers),
        unknown=len(to_run) - len(known),
        up_to=up_to,
        from_smoke=sum(1 for r in to_run if r.basis == "smoke"),
    )


def spread_over(seconds: Sequence[float], workers: int) -> float:
    """The longest worker's share when the runs go, longest first, to the least busy worker."""
    loads = [0.0] * max(1, workers)
    for value in sorted(seconds, reverse=True):
        heapq.heapreplace(loads, loads[0] + value)
    return max(loads)


def duration(seconds: float) -> str:
    """``~45 s``, ``~11 min``, ``~2.5 h``."""
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"~{round(seconds / 60)} min"
    return f"~{seconds / 3600:.1f} h"


def forecast_line(forecast: Forecast) -> str:
    """``repro plan: 62 runs, 51 cached, 11 to run; ~11 min of compute, ~6 min on 2 workers
    (estimated from recorded runs; 2 without an estimate)``."""
    f = forecast
    up = "up to " if f.up_to else ""
    head = f"repro plan: {up}{plural(f.runs, 'run')}, {f.cached} cached, {f.to_run} to run"
    if f.to_run == 0:
        return head + "; nothing to compute"
    if f.unknown == f.to_run:
        return head + "; no estimate (no recorded runs of these papers)"
    tail = (
        f"; {duration(f.compute)} of compute, {duration(f.wall)} on {plural(f.workers, 'worker')}"
    )
    known = f.to_run - f.unknown
    if f.from_smoke == known:
        note = "estimated from smoke stages"
    elif f.from_smoke:
        note = f"estimated from recorded runs, {f.from_smoke} from smoke stages"
    else:
        note = "estimated from recorded runs"
    if f.unknown:
        note += f"; {f.unknown} without an estimate"
    return f"{head}{tail} ({note})"


def plan_lines(plans: Sequence[ItemPlan]) -> list[str]:
    """The "reproduction plan" section: per item, each run to execute and why."""
    lines: list[str] = []
    for plan in plans:
        up = "up to " if plan.up_to else ""
        head = f"{plain(plan.paper)}::{plain(plan.item)}: {up}{len(plan.to_run)} to run, {len(plan.cached)} cached"
        lines.append(head)
        for run in plan.to_run:
            cost = ""
            if run.estimate is not None:
                source = ", from smoke stages" if run.basis == "smoke" else ""
                cost = f" ({duration(run.estimate)}{source})"
            lines.append(f"    {plain(run.what)}: {plain(run.reason)}{cost}")
    return lines


__all__ = [
    "FORCED",
    "NEVER_RUN",
    "Forecast",
    "ItemPlan",
    "Planned",
    "PlannedRun",
    "Reach",
    "describe_change",
    "duration",
    "estimate",
    "estimate_with_basis",
    "forecast_line",
    "most_similar",
    "plan_lines",
    "plan_runs",
    "smoke_estimate",
    "summarize",
    "why",
]
