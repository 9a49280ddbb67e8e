"""The claim nodes of a parsed ``paper.yaml``: what one claim asserts and how it is run.

A :class:`Claim` names a metric read :class:`At` a point of training, the paper's
:class:`PaperValue`, the seeds it runs (:class:`SeedPlan`), the :class:`Variant` (or the
two compared variants) it runs, and for claims about a curve the :class:`Sweep` of points
and the :class:`CurveRule` applied to them. ``spec.claims_section`` builds these from YAML;
nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_repro.spec.node import JSON, Location
from pytest_repro.vocab import (
    Axis,
    Better,
    ClaimKind,
    Expectation,
    Extremum,
    SlopeScale,
    SpreadKind,
    Statistic,
    TrendDirection,
)
from pytest_repro.vocab import Method as IntervalMethod


@dataclass(frozen=True, slots=True, kw_only=True)
class At:
    """Where in training a claim is read.

    - ``{epoch: N}`` or ``{step: N}``: the point the paper reports (``value`` is N);
    - ``final``: the last point the run logged the metric at, written explicitly in the
      spec and reported as such (``final`` is True, ``value`` None);
    - ``{first: {metric: val_acc, above: 0.99}}``: the step (or epoch: the claim's
      ``metric`` says which) at which ``first_metric`` first reaches ``threshold``
      (``above`` False: first falls to it).
    """

    axis: Axis
    value: int | None
    loc: Location
    final: bool = False
    first_metric: str | None = None
    threshold: float | None = None
    above: bool = True

    @property
    def point(self) -> bool:
        """Whether the claim reads one named epoch or step."""
        return not self.final and self.first_metric is None

    def __str__(self) -> str:
        if self.final:
            return "final"
        if self.first_metric is not None:
            side = ">=" if self.above else "<="
            return f"first {self.axis} where {self.first_metric} {side} {self.threshold:g}"
        return f"{self.axis} {self.value}"

    def to_json(self) -> dict[str, Any]:
        """``{"epoch": 5}``, ``{"final": true}`` or ``{"first": {...}}`` (the JSON's ``at``)."""
        if self.final:
            return {"final": True}
        if self.first_metric is not None:
            side = "above" if self.above else "below"
            return {"first": {"metric": self.first_metric, side: self.threshold, "axis": self.axis}}
        return {self.axis: self.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperValue:
    """The paper's number, with its own spread when the paper reports one.

    ``spread_kind`` says what ``spread`` means: a standard deviation over the
    paper's ``seeds`` runs (``sd``), a standard error (``se``), or the half-width
    of a 95% interval (``ci95``); ``ci_method`` how that interval was computed
    (``t``: a Student-t interval over the runs; ``normal``: 1.96 standard errors).
    """

    value: float
    spread: float | None = None
    spread_kind: SpreadKind | None = None
    seeds: int | None = None
    ci_method: Literal["t", "normal"] = "t"
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedPlan:
    """Which seeds a claim runs.

    Fixed: ``seeds`` lists them. Adaptive: ``stages`` gives the cumulative seed
    counts at which the verdict is looked at (``(3, 5, 10)``), and ``seeds`` is
    the full list up to the last stage.
    """

    seeds: tuple[int, ...]
    stages: tuple[int, ...] | None = None
    loc: Location

    @property
    def adaptive(self) -> bool:
        return self.stages is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A set of overrides on ``run.config``. ``name`` is set for top-level ``variants:``."""

    name: str | None = None
    overrides: Mapping[str, JSON] = field(default_factory=dict)
    loc: Location

    def describe(self) -> str:
        if self.name:
            return self.name
        if not self.overrides:
            return "defaults"
        return ", ".join(f"{k}={v!r}" for k, v in self.overrides.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """The config points a claim about a curve runs, and the swept value of each.

    ``points`` are ordinary variants (the claim's base overrides plus the point's axis
    values), so their runs, cache keys and reuse are those of hand-written variants;
    ``xs[i]`` is ``axis`` at ``points[i]``, in the order the grid was written. ``name`` is
    the entry of ``sweeps:`` the claim names (None for an inline ``sweep:``).
    """

    axis: str
    xs: tuple[float, ...]
    points: tuple[Variant, ...]
    name: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveRule:
    """What a claim about a curve asserts (the keys beside ``sweep:``).

    - ``trend``: ``direction`` (monotone, each step by more than ``margin``), or a fitted
      ``slope`` ± ``slope_tolerance`` on ``scale`` (``base`` for ``log-x``);
    - ``peak``: the ``extremum`` of the curve lies ``within`` a range of the swept value;
    - ``curve``: the paper's value at each point (``paper_points``, in ``xs`` order, given
      as a list or by ``formula``) within ``tolerances`` (one per point).
    """

    direction: TrendDirection | None = None
    margin: float = 0.0
    slope: float | None = None
    slope_tolerance: float | None = None
    scale: SlopeScale = "linear"
    base: float = 10.0
    extremum: Extremum | None = None
    within: tuple[float, float] | None = None
    paper_points: tuple[float, ...] = ()
    tolerances: tuple[float, ...] = ()
    #: ``tolerance: 5%`` of a curve: the share of each point's paper value.
    tolerance_relative: float | None = None
    formula: str | None = None

    @property
    def rule(self) -> Literal["trend", "slope", "peak", "curve"]:
        """``trend``, ``slope``, ``peak`` or ``curve``: which decision applies."""
        if self.slope is not None:
            return "slope"
        if self.direction is not None:
            return "trend"
        if self.extremum is not None:
            return "peak"
        return "curve"


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One checkable statement of the paper.

    Absolute: ``metric`` of ``variant`` at ``at`` equals ``paper`` within
    ``tolerance``. Comparative: ``compare[0]`` (A) beats ``compare[1]`` (B) on
    ``metric`` at ``at`` — by at least ``margin``, or by ``paper`` ± ``tolerance``
    when ``paper`` is given. ``better`` says which direction of the metric is good.
    """

    id: str
    text: str
    source: str
    kind: ClaimKind
    metric: str
    at: At
    paper: PaperValue | None = None
    tolerance: float | None = None
    #: ``tolerance: 5%``: the tolerance as a share of the paper's value (0.05), which
    #: ``tolerance`` then holds in the metric's units.
    tolerance_relative: float | None = None
    seeds: SeedPlan
    variant: Variant | None = None  # absolute claims
    compare: tuple[Variant, Variant] | None = None  # comparative claims: (A, B)
    better: Better = "higher"
    margin: float = 0.0
    expect: Expectation | None = None
    hypothesis: str | None = None
    see: str | None = None
    interval: IntervalMethod | None = None  # None: the session default
    statistic: Statistic = "mean"
    resolution: float | None = None
    unit: str | None = None  # "fraction" (shown as %), "percent", or a free suffix
    disagreement: float | None = None  # multiple of tolerance; None: the session default
    #: seeds on the worse side of this value failed to train (absolute claims).
    failed_below: float | None = None
    #: ``mean``: the claim is about all seeds; ``successful``: about the runs that trained.
    about: Literal["mean", "successful"] = "mean"
    #: one run's value against the band, with the test set's binomial error.
    deterministic: bool = False
    test_examples: int | None = None
    #: the recipe's seeds skew towards the worse side: skew-calibrated worse bounds.
    skewed_seeds: bool = False
    #: a comparative claim whose arms are read at different points: (A's, B's); None: ``at``.
    arm_at: tuple[At, At] | None = None
    #: claims about a curve (``trend``, ``peak``, ``curve``): the swept points and the rule.
    sweep: Sweep | None = None
    curve: CurveRule | None = None
    loc: Location
    #: the line each field was written on (a location is made when one is asked for: a
    #: paper of a thousand claims keeps a thousand small mappings, not ten thousand objects).
    field_lines: Mapping[str, int] = field(default_factory=dict)

    def where(self, name: str) -> Location:
        """The location of one of this claim's fields, falling back to the claim itself."""
        line = self.field_lines.get(name)
        return self.loc if line is None else Location(self.loc.path, line)

    def at_of(self, arm: int) -> At:
        """Where arm ``arm`` (0: A, 1: B) is read: its own ``at:``, else the claim's."""
        return self.arm_at[arm] if self.arm_at is not None else self.at

    def variants(self) -> tuple[Variant, ...]:
        if self.sweep is not None:
            return self.sweep.points
        if self.compare is not None:
            return self.compare
        assert self.variant is not None
        return (self.variant,)


__all__ = ["At", "Claim", "CurveRule", "PaperValue", "SeedPlan", "Sweep", "Variant"]
