"""The result of one claim: what every report (terminal, results.md, JSON, HTML) shows.

:class:`ClaimResult` is plain, JSON-able data. It travels from pytest-xdist
workers to the controller on the test report, and it is the ``claims[]`` entry
of the ``--repro-json`` document (see ``docs/design`` contract, version 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pytest_repro.vocab import VerdictName

JSON_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimResult:
    paper_id: str
    paper_title: str
    path: str  # paper.yaml as shown to the user
    id: str
    line: int
    kind: str
    text: str
    source: str
    metric: str
    at: Mapping[str, int]
    verdict: VerdictName
    label: str
    paper: float | None = None
    paper_spread: Mapping[str, Any] | None = None
    tolerance: float | None = None
    better: str = "higher"
    unit: str | None = None
    n: int = 0
    seeds: Sequence[int] = ()
    values: Sequence[float] = ()  # absolute: per seed; comparative: per-seed improvement (paired)
    values_a: Sequence[float] = ()
    values_b: Sequence[float] = ()
    estimate: float | None = None
    interval: Sequence[float] | None = None
    confidence: float | None = None
    shown_interval: Sequence[float] | None = None
    shown_confidence: float | None = None
    delta: float | None = None
    method: str | None = None
    seeds_needed: int | None = None
    deviation_in_tol: float | None = None
    hypothesis: str | None = None
    expect: str | None = None
    see: str | None = None
    notes: Sequence[str] = ()
    warnings: Sequence[str] = ()
    error: str | None = None
    runs: Sequence[str] = ()
    variants: Sequence[str] = ()
    margin: float | None = None
    adaptive: Mapping[str, Any] | None = None
    smoke: bool = False
    substitutions: Sequence[Mapping[str, str]] = field(default_factory=tuple)

    @property
    def nodeid_part(self) -> str:
        return f"{self.path}::{self.id}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        finite: dict[str, Any] = _finite(data)
        return finite

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _finite(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
