"""Claims about a curve: ``kind: trend | peak | curve`` over a ``sweep:``.

The keys beside the common ones (``id``, ``metric``, ``at``, ``seeds``, ...):

- ``sweep:`` a grid (:mod:`~.sweeps_section`) or the name of one under ``sweeps:``; with
  the claim's ``config:``/``variant:`` as the base every point starts from;
- ``over:`` the swept key that is the curve's x axis (needed when the grid sets several);
- ``trend``: ``direction: increasing | decreasing`` (and ``margin:``, the least step that
  counts), or ``slope: {paper, tolerance, scale: linear | log-x | log-log, base}``;
- ``peak``: ``extremum: max | min`` and ``within: [low, high]`` of the swept value;
- ``curve``: ``paper: [one value per point]`` or ``formula: "..."`` in the swept key,
  and ``tolerance:`` (a number, a share such as ``5%``, or one number per point).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pytest_repro.spec.claim_nodes import CurveRule, SeedPlan, Sweep, Variant
from pytest_repro.spec.config_section import ConfigDefaults
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe, join, suggest
from pytest_repro.spec.keys import CURVE_CLAIM_KEYS, NOT_FOR_CURVES, SLOPE_KEYS
from pytest_repro.spec.sweeps_section import Grid, grid_sweep, read_grid
from pytest_repro.vocab import EXTREMA, SLOPE_SCALES, TREND_DIRECTIONS

_RELATIVE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*%\s*$")


def refuse_curve_keys(c: MapReader, kind: str) -> None:
    """A point or comparative claim uses none of the curve keys."""
    for key in CURVE_CLAIM_KEYS:
        if c.has(key):
            c.bad(
                key,
                f"belongs to a claim about a curve, and this claim is {kind}",
                "write kind: trend, peak or curve (with sweep:), or remove it",
            )


def read_curve_claim(
    ctx: SpecContext,
    config: ConfigDefaults,
    c: MapReader,
    kind: str,
    base: Any,
    sweeps: Mapping[str, Grid],
    seeds: Any,
) -> Any:
    """``(Sweep, CurveRule)`` of a ``trend``/``peak``/``curve`` claim, or :data:`MISSING`."""
    for key in NOT_FOR_CURVES:
        if c.has(key):
            c.bad(
                key,
                f"does not apply to a {kind} claim (each point is the mean over seeds)",
                "remove it",
            )
    if isinstance(seeds, SeedPlan) and seeds.adaptive:
        c.bad(
            "seeds",
            f"adaptive seeds are calibrated for point claims, not for a {kind} claim",
            "give a fixed number of seeds: seeds: 5",
        )
    if isinstance(seeds, SeedPlan) and len(seeds.seeds) < 2:
        c.bad(
            "seeds",
            f"a {kind} claim needs at least 2 seeds: its intervals come from the seeds' spread",
            "write seeds: 3 or more",
        )
    expect = c.raw("expect")
    if expect is not None and expect.value == "shortfall":
        c.bad("expect", f"a {kind} claim has no short side", "write expect: gap or disagreement")
    sweep = _sweep(ctx, config, c, base, sweeps)
    if kind == "trend":
        rule = _trend(ctx, c, sweep)
    elif kind == "peak":
        rule = _peak(c, sweep)
    else:
        rule = _curve(c, sweep)
    if kind != "curve":
        for key in ("paper", "tolerance", "formula"):
            if c.has(key):
                c.bad(
                    key,
                    f"a {kind} claim says how the curve moves, not its values",
                    "remove it"
                    + (", or give slope: {paper: ..., tolerance: ...}" if kind == "trend" else ""),
                )
    if c.has("margin") and not (kind == "trend" and not c.has("slope")):
        c.bad("margin", "only a trend with direction: has a margin (the least step)", "remove it")
    if MISSING in (sweep, rule) or not isinstance(sweep, Sweep):
        return MISSING
    return sweep, rule


def _sweep(
    ctx: SpecContext, config: ConfigDefaults, c: MapReader, base: Any, sweeps: Mapping[str, Grid]
) -> Any:
    node = c.raw("sweep")
    if node is None:
        return c.bad(
            "sweep",
            "a claim about a curve needs the values it sweeps",
            "add sweep: {key: [v1, v2, ...]} (a run.config key), or the name of an entry of sweeps:",
        )
    if node.kind == "scalar" and isinstance(node.value, str):
        grid: Any = sweeps.get(node.value)
        if grid is None:
            return c.bad(
                "sweep",
                f"no sweep named {node.value!r}{suggest(node.value, sweeps)}",
                f"define it under sweeps:, or use one of: {', '.join(sweeps) or '(none defined)'}",
            )
    else:
        grid = read_grid(ctx, config, node, c.field("sweep"))
    if not isinstance(grid, Grid) or not isinstance(base, Variant):
        return MISSING
    axis = c.string("over")
    if axis is MISSING:
        return MISSING
    if axis is None:
        if len(grid.axes) > 1:
            return c.bad(
                "sweep",
                f"sets {', '.join(grid.axes)}; the claim reads its curve over one of them",
                f"add over: {grid.axes[0]} (the x axis of the curve)",
            )
        axis = grid.axes[0]
    elif axis not in grid.axes:
        return c.bad(
            "over",
            f"{axis!r} is not swept{suggest(axis, grid.axes)}",
            f"use one of: {', '.join(grid.axes)}",
        )
    if grid.crossed:
        others = [a for a in grid.axes if a != axis]
        return c.bad(
            "sweep",
            f"crosses {axis} with {', '.join(others)}: that is several curves, and a claim reads one",
            f"fix {', '.join(others)} in the claim's config:, or list the points "
            "([{" + f"{axis}: ..., {others[0]}: ..." + "}, ...])",
        )
    overlap = sorted(set(base.overrides) & set(grid.axes))
    if overlap:
        return c.bad(
            "sweep",
            f"sweeps {', '.join(overlap)}, which the claim's config: also sets",
            f"remove {overlap[0]} from config:",
        )
    xs = [p[axis] for p in grid.points]
    for x in xs:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            return c.bad(
                "sweep",
                f"{axis}={x!r} is not a number, so it cannot be an axis of a curve",
                f"sweep numbers over {axis}, or read the curve over another key",
            )
    if len(set(xs)) != len(xs):
        return c.bad(
            "sweep", f"gives {axis} the same value at two points", "give each point its own x"
        )
    if len(xs) < 2:
        return c.bad("sweep", "has one point; a curve needs at least two", "sweep more values")
    line = c.line("sweep") if grid.name is None else grid.line
    return grid_sweep(ctx, grid, base, axis, line)


def _trend(ctx: SpecContext, c: MapReader, sweep: Any) -> Any:
    if c.has("direction") == c.has("slope"):
        return c.bad(
            "direction",
            "a trend claim needs exactly one of direction: (monotone) or slope: (a fitted slope)",
            "write direction: decreasing, or slope: {paper: -0.5, tolerance: 0.1, scale: log-log}",
        )
    if c.has("direction"):
        direction = c.choice("direction", TREND_DIRECTIONS)
        margin = c.number("margin", default=0.0, minimum=0.0)
        if MISSING in (direction, margin):
            return MISSING
        return CurveRule(direction=direction, margin=margin)
    node = c.mapping("slope")
    if not node:
        return MISSING
    s = MapReader(
        ctx.ck, node, c.field("slope"), allowed=SLOPE_KEYS, required=("paper", "tolerance")
    )
    paper = s.number("paper")
    tolerance = s.number("tolerance", exclusive_minimum=0.0)
    scale = s.choice("scale", SLOPE_SCALES, default="linear")
    base = s.number("base", default=10.0, exclusive_minimum=0.0)
    if base == 1.0:
        s.bad("base", "1 is not the base of a logarithm", "use 10 (per decade) or 2 (per doubling)")
        return MISSING
    if MISSING in (paper, tolerance, scale, base) or paper is None or tolerance is None:
        return MISSING
    if scale != "linear" and isinstance(sweep, Sweep) and min(sweep.xs) <= 0:
        return s.bad(
            "scale",
            f"{scale} takes the logarithm of {sweep.axis}, and the sweep reaches {min(sweep.xs):g}",
            "sweep values above 0, or use scale: linear",
        )
    return CurveRule(slope=paper, slope_tolerance=tolerance, scale=scale, base=base)


def _peak(c: MapReader, sweep: Any) -> Any:
    extremum = c.choice("extremum", EXTREMA)
    if extremum is None:
        c.bad("extremum", "a peak claim says which extremum: max or min", "add extremum: max")
        return MISSING
    node = c.raw("within")
    if node is None:
        return c.bad(
            "within",
            "a peak claim says where the extremum lies",
            "add within: [low, high] (of the swept value)",
        )
    values = node.plain()
    if (
        node.kind != "seq"
        or len(values) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        or not all(math.isfinite(v) for v in values)
    ):
        return c.bad(
            "within", f"must be [low, high], got {describe(node)}", "write within: [750, 1500]"
        )
    low, high = float(values[0]), float(values[1])
    if low > high:
        return c.bad("within", f"low {low:g} is above high {high:g}", "write within: [low, high]")
    if extremum is MISSING or not isinstance(sweep, Sweep):
        return MISSING
    inside = [x for x in sweep.xs if low <= x <= high]
    if not inside:
        return c.bad(
            "within",
            f"[{low:g}, {high:g}] holds none of the swept values of {sweep.axis}",
            "sweep a value inside the range, or widen it",
        )
    if len(inside) == len(sweep.xs):
        return c.bad(
            "within",
            f"[{low:g}, {high:g}] holds every swept value, so the claim says nothing",
            "sweep values outside the range too",
        )
    if len(sweep.xs) < 3:
        return c.bad("sweep", "a peak needs at least 3 swept values", "sweep more values")
    return CurveRule(extremum=extremum, within=(low, high))


def _curve(c: MapReader, sweep: Any) -> Any:
    if c.has("paper") == c.has("formula"):
        return c.bad(
            "paper",
            "a curve claim needs exactly one of paper: (one value per point) or formula:",
            'write paper: [0.61, 0.58, ...], or formula: "0.5 / sqrt(width)"',
        )
    if not isinstance(sweep, Sweep):
        return MISSING
    k = len(sweep.xs)
    formula: str | None = None
    if c.has("formula"):
        from pytest_repro.spec.expr import FormulaError, compile_formula

        text = c.string("formula")
        if not isinstance(text, str):
            return MISSING
        try:
            compiled = compile_formula(text, {sweep.axis})
            points = tuple(compiled.evaluate({sweep.axis: x}) for x in sweep.xs)
        except FormulaError as exc:
            return c.bad(
                "formula",
                exc.reason + (f" (column {exc.column})" if exc.column else ""),
                f"write it in {sweep.axis} only",
            )
        formula = text
    else:
        node = c.raw("paper")
        assert node is not None
        points = _numbers(
            c, "paper", node.plain() if node.kind == "seq" else None, k, "the paper's value"
        )
        if points is MISSING:
            return MISSING
    tolerances, relative = _tolerances(c, points, k)
    if tolerances is MISSING:
        return MISSING
    return CurveRule(
        paper_points=tuple(points),
        tolerances=tuple(tolerances),
        tolerance_relative=relative,
        formula=formula,
    )


def _numbers(c: MapReader, key: str, values: Any, k: int, what: str) -> Any:
    if not isinstance(values, list) or len(values) != k:
        got = f"{len(values)} values" if isinstance(values, list) else describe(c.raw(key))  # type: ignore[arg-type]
        return c.bad(
            key,
            f"needs {k} values, {what} at each swept point in order; got {got}",
            f"write {key}: [v1, ..., v{k}]",
        )
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return c.ck.problem(
                c.line(key),
                join(c.field(key), i),
                f"{v!r} is not a finite number",
                "write a plain number",
            )
    return tuple(float(v) for v in values)


def _tolerances(c: MapReader, points: tuple[float, ...], k: int) -> tuple[Any, float | None]:
    node = c.raw("tolerance")
    if node is None:
        return c.bad(
            "tolerance",
            "is required but missing",
            "give the distance that still counts as a match at each point: tolerance: 0.01 (or 5%)",
        ), None
    if node.kind == "seq":
        values = _numbers(c, "tolerance", node.plain(), k, "the tolerance")
        if values is not MISSING and min(values) <= 0:
            return c.bad(
                "tolerance", "every tolerance must be greater than 0", "give positive numbers"
            ), None
        return values, None
    text = node.value if node.kind == "scalar" else None
    match = _RELATIVE.match(text) if isinstance(text, str) else None
    if match is None:
        value = c.number(
            "tolerance", exclusive_minimum=0.0, meaning=" (a distance from the paper's value)"
        )
        return (MISSING if value is MISSING else (value,) * k), None
    share = float(match.group(1)) / 100.0
    if share <= 0:
        return c.bad("tolerance", "a relative tolerance must be above 0%", "write e.g. 5%"), None
    if any(p == 0 for p in points):
        return c.bad(
            "tolerance",
            f"{match.group(0).strip()} is a share of the paper's value, and a point's value is 0",
            "write the tolerance in the metric's units",
        ), None
    return tuple(share * abs(p) for p in points), share


__all__ = ["read_curve_claim", "refuse_curve_keys"]
