"""The result of one claim: what every report (terminal, results.md, JSON, HTML) shows.

:class:`ClaimResult` is plain, JSON-able data. It travels from pytest-xdist
workers to the controller on the test report, and it is the ``claims[]`` entry
of the ``--repro-json`` document (see ``docs/design`` contract, version 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal

from pytest_repro.vocab import VerdictName

if TYPE_CHECKING:
    from pytest_repro.spec.claim_nodes import Claim
    from pytest_repro.spec.schema import PaperSpec

JSON_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimHeader:
    """What a claim says before anything ran: the part of its result the spec fixes."""

    paper_id: str
    paper_title: str
    path: str
    id: str
    line: int
    kind: str
    text: str
    source: str
    metric: str
    at: Mapping[str, Any]
    paper: float | None
    paper_spread: Mapping[str, Any] | None
    tolerance: float | None
    better: str
    unit: str | None
    hypothesis: str | None
    expect: str | None
    see: str | None
    margin: float | None
    variants: tuple[str, ...]
    substitutions: tuple[Mapping[str, str], ...]
    #: the paper's ``multiplicity:`` (holm, bh or none): the paper-level correction.
    multiplicity: str = "holm"
    #: ``tolerance: 5%``: the share of the paper's value (``tolerance`` is in units).
    tolerance_relative: float | None = None
    #: a claim about a curve: what it claims, in words (``decreasing in width``).
    claimed: str | None = None

    @classmethod
    def of(cls, spec: PaperSpec, claim: Claim) -> ClaimHeader:
        paper_spread = None
        if claim.paper is not None and claim.paper.spread is not None:
            paper_spread = {
                "value": claim.paper.spread,
                "kind": claim.paper.spread_kind,
                "seeds": claim.paper.seeds,
                "ci_method": claim.paper.ci_method,
            }
        return cls(
            paper_id=spec.paper.id,
            paper_title=spec.paper.title,
            path=spec.display,
            id=claim.id,
            line=claim.loc.line,
            kind=claim.kind,
            text=claim.text,
            source=claim.source,
            metric=claim.metric,
            at=(
                claim.at.to_json()
                if claim.arm_at is None
                else {"arms": [claim.arm_at[0].to_json(), claim.arm_at[1].to_json()]}
            ),
            paper=claim.paper.value if claim.paper else None,
            paper_spread=paper_spread,
            tolerance=claim.tolerance,
            tolerance_relative=claim.tolerance_relative,
            better=claim.better,
            unit=claim.unit,
            hypothesis=claim.hypothesis,
            expect=claim.expect,
            see=claim.see,
            margin=claim.margin if claim.kind == "comparative" else None,
            variants=tuple(v.describe() for v in claim.variants()),
            substitutions=tuple(
                {"original": s.original, "used": s.used, "why": s.why}
                for s in spec.substitutions_for(claim.id)
            ),
            multiplicity=spec.paper.multiplicity,
            claimed=_claimed(claim),
        )


def _claimed(claim: Claim) -> str | None:
    if claim.sweep is None:
        return None
    from pytest_repro.curve_words import claimed_text

    return claimed_text(claim)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimResult:
    """The result of one claim. Build it with :meth:`measured`, :meth:`failed`,
    :meth:`skipped` or :meth:`smoke_ok`; every report reads it."""

    paper_id: str
    paper_title: str
    path: str  # paper.yaml as shown to the user
    id: str
    line: int
    kind: str
    text: str
    source: str
    metric: str
    at: Mapping[str, Any]
    verdict: VerdictName
    label: str
    paper: float | None = None
    paper_spread: Mapping[str, Any] | None = None
    tolerance: float | None = None
    tolerance_relative: float | None = None
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
    smoke_stages: Sequence[SmokeStage] = ()
    multiplicity: str = "holm"
    #: a claim about a curve: what it claims, in words (``decreasing in width``).
    claimed: str | None = None
    #: a measured claim about a curve: ``axis``, ``rule``, ``measured`` (words), ``points``
    #: (x, mean, 95% simultaneous band, values, the paper's value), and per rule
    #: ``steps``, ``within``/``location``, ``fit``/``scale``.
    sweep: Mapping[str, Any] | None = None
    #: ``--repro-sensitivity``: per alternative of an assumed config value, ``key``,
    #: ``assumed``, ``value``, and the claim's ``verdict``, ``label``, ``estimate``,
    #: ``interval`` and ``runs`` with it.
    sensitivity: Sequence[Mapping[str, Any]] = ()

    # -- named constructors ------------------------------------------------------------------
    @classmethod
    def _blank(cls, h: ClaimHeader, verdict: VerdictName, label: str) -> ClaimResult:
        return cls(
            paper_id=h.paper_id,
            paper_title=h.paper_title,
            path=h.path,
            id=h.id,
            line=h.line,
            kind=h.kind,
            text=h.text,
            source=h.source,
            metric=h.metric,
            at=h.at,
            verdict=verdict,
            label=label,
            paper=h.paper,
            paper_spread=h.paper_spread,
            tolerance=h.tolerance,
            tolerance_relative=h.tolerance_relative,
            better=h.better,
            unit=h.unit,
            hypothesis=h.hypothesis,
            expect=h.expect,
            see=h.see,
            margin=h.margin,
            variants=h.variants,
            substitutions=h.substitutions,
            multiplicity=h.multiplicity,
            claimed=h.claimed,
        )

    @classmethod
    def measured(
        cls,
        h: ClaimHeader,
        *,
        verdict: VerdictName,
        label: str,
        measurement: Measurement,
    ) -> ClaimResult:
        """A claim the statistics decided (or found undecidable)."""
        m = measurement
        return replace(
            cls._blank(h, verdict, label),
            n=m.n,
            seeds=m.seeds,
            values=m.values,
            values_a=m.values_a,
            values_b=m.values_b,
            estimate=m.estimate,
            interval=m.interval,
            confidence=m.confidence,
            shown_interval=m.shown_interval,
            shown_confidence=m.shown_confidence,
            delta=m.delta,
            method=m.method,
            seeds_needed=m.seeds_needed,
            deviation_in_tol=m.deviation_in_tol,
            notes=m.notes,
            warnings=m.warnings,
            runs=m.runs,
            adaptive=m.adaptive,
        )

    @classmethod
    def failed(
        cls, h: ClaimHeader, message: str, *, short: str, runs: Sequence[str] = ()
    ) -> ClaimResult:
        """A claim whose runs or inputs could not give values: ``message`` has every detail,
        ``short`` (cut to 100 characters) goes into the label."""
        short = short if len(short) <= 100 else short[:97] + "..."
        return replace(cls._blank(h, "error", f"[error: {short}]"), error=message, runs=tuple(runs))

    @classmethod
    def skipped(cls, h: ClaimHeader, reason: str, *, label: str | None = None) -> ClaimResult:
        """A claim that was not evaluated, with the reason."""
        return replace(cls._blank(h, "skipped", label or f"[skipped: {reason}]"), error=reason)

    @classmethod
    def smoke_ok(cls, h: ClaimHeader, *, label: str, seed: int, runs: Sequence[str]) -> ClaimResult:
        """A smoke run that proved the claim's pipeline end to end (no verdict)."""
        return replace(
            cls._blank(h, "smoke", label), n=1, seeds=(seed,), runs=tuple(runs), smoke=True
        )

    def with_warnings(self, warnings: Sequence[str]) -> ClaimResult:
        return replace(self, warnings=(*self.warnings, *warnings))

    @property
    def expected(self) -> bool:
        """Whether the spec expects this verdict (``expect:`` with its hypothesis).

        ``expect: shortfall`` expects a gap or a disagreement on the short side of the
        paper: below it (above it for ``better: lower``), or short of a comparative claim's
        improvement; an excess is never expected.
        """
        if self.expect is None:
            return False
        if self.expect != "shortfall":
            return self.expect == self.verdict
        if self.verdict not in ("gap", "disagreement"):
            return False
        if self.kind == "comparative" or self.paper is None or self.estimate is None:
            return self.kind == "comparative"
        return self.estimate > self.paper if self.better == "lower" else self.estimate < self.paper

    @property
    def nodeid_part(self) -> str:
        return f"{self.path}::{self.id}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: sequences as lists, non-finite numbers as null (the same as
        ``dataclasses.asdict`` then :func:`_finite`, in one pass)."""
        return {f: _json_value(getattr(self, f)) for f in _CLAIM_FIELDS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimResult:
        known = _CLAIM_NAMES
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["smoke_stages"] = tuple(
            SmokeStage.from_json(s) for s in kwargs.get("smoke_stages") or ()
        )
        return cls(**kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeStage:
    """One stage of a claim's smoke run (``one step``, ``20 steps``, ``forward pass``) for one
    variant, with what it cost: the run's wall time, the peak resident memory of its process
    group (bytes; None where it was not measured, as for ``--repro-inprocess``) and CUDA's
    maximum allocated memory (None without CUDA)."""

    stage: str
    status: Literal["ok", "failed"]
    wall_s: float
    peak_rss: int | None = None
    cuda_max_allocated: int | None = None
    run: str | None = None
    variant: str = ""
    error: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SmokeStage:
        known = _STAGE_NAMES
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """The numbers behind a decided claim: per-seed values, the estimate and its intervals."""

    n: int
    seeds: tuple[int, ...]
    values: tuple[float, ...] = ()
    values_a: tuple[float, ...] = ()
    values_b: tuple[float, ...] = ()
    estimate: float
    interval: tuple[float, float]
    confidence: float
    shown_interval: tuple[float, float]
    shown_confidence: float
    delta: float
    method: str
    seeds_needed: int | None = None
    deviation_in_tol: float | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    adaptive: Mapping[str, Any] | None = None


def _json_value(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses and mappings as dicts, tuples and lists as
    lists, non-finite floats as None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most fields: as they are
        return value
    if kind is tuple or kind is list:
        return [_json_value(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f: _json_value(getattr(value, f)) for f in value.__dataclass_fields__}
    return value


#: The fields of a claim result, in order (its JSON keys).
_CLAIM_FIELDS = tuple(f.name for f in fields(ClaimResult))
#: The keys :meth:`ClaimResult.from_json` and :meth:`SmokeStage.from_json` read.
_CLAIM_NAMES = frozenset(_CLAIM_FIELDS)
_STAGE_NAMES = frozenset(f.name for f in fields(SmokeStage))


class ResultData:
    """Results and their report JSON within one process, each converted at most once.

    A result crosses to the reporter as JSON on its test report (so it survives pytest-xdist);
    in a serial session the reporter gets back the very object the item made, and a result
    read from the verdict cache brings the JSON it was stored as. Entries keep their objects
    alive, so an id names no other object meanwhile."""

    def __init__(self) -> None:
        self._data: dict[int, tuple[ClaimResult, dict[str, Any]]] = {}
        self._results: dict[int, tuple[dict[str, Any], ClaimResult]] = {}

    def known(self, result: ClaimResult, data: dict[str, Any]) -> None:
        """``data`` is what ``result.to_json()`` gives, but for sequences that may be tuples
        (written as lists all the same), as the verdict cache checks before saying so."""
        self._data[id(result)] = (result, data)

    def to_json(self, result: ClaimResult) -> dict[str, Any]:
        known = self._data.get(id(result))
        data = known[1] if known is not None and known[0] is result else result.to_json()
        self._results[id(data)] = (data, result)
        return data

    def from_json(self, data: dict[str, Any]) -> ClaimResult:
        known = self._results.get(id(data))
        if known is not None and known[0] is data:
            return known[1]
        return ClaimResult.from_json(data)
