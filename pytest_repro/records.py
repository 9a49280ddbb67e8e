"""What one run leaves behind: its status, metric series and evidence.

A :class:`RunRecord` is the unit the ledger stores and every reported number
traces back to. It is plain data (JSON-able through :meth:`RunRecord.to_json`) so
it can cross process boundaries, go into SQLite, and be exported to JSON lines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_repro.vocab import RUN_STATUSES, RunStatus

#: One logged point: ``{"epoch": 3, "step": 300, "test_acc": 0.91}``.
Point = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One execution of a paper's entrypoint for one (variant, seed).

    ``series`` holds the logged points in order. ``examples`` holds per-example
    outcomes keyed ``"<metric>@<axis>=<value>"`` (e.g. ``"test_correct@epoch=60"``)
    for hierarchical intervals. ``evidence`` holds everything needed to trace the
    numbers: code hash, git commit and dirty flag, resolved config, seed, data
    fingerprints, environment fingerprint, threads, device, entrypoint.
    """

    run_id: str
    cache_key: str
    paper_id: str
    paper_path: str
    variant: str  # key of the resolved config (short hash)
    config: Mapping[str, Any]
    seed: int
    status: RunStatus
    series: tuple[Point, ...] = ()
    examples: Mapping[str, Sequence[float]] = field(default_factory=dict)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    output_tail: str = ""
    error: str | None = None
    started_at: float = 0.0
    ended_at: float = 0.0
    run_dir: str | None = None
    smoke: bool = False

    @property
    def wall_time(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["series"] = [dict(p) for p in self.series]
        data["examples"] = {k: list(v) for k, v in self.examples.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["series"] = tuple(dict(p) for p in data.get("series", ()))
        kwargs["examples"] = {k: list(v) for k, v in dict(data.get("examples", {})).items()}
        if kwargs.get("status") not in RUN_STATUSES:
            raise ValueError(f"unknown run status {kwargs.get('status')!r}")
        return cls(**kwargs)


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, NaN/Inf kept as strings.

    Used for cache keys and storage, so the same value always gives the same text.
    """
    return json.dumps(_encode(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return _decode(json.loads(text))


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
