"""``sweeps:`` and a claim's ``sweep:``: grids of config values that generate variants.

A grid is either a mapping of ``run.config`` keys to their values (several keys are
crossed, the first written varying slowest) or a list of points written out
(``[{width: 16, depth: 2}, {width: 32, depth: 4}]``: keys that move together). The values
of a key are a list, or a generator:

- ``{from: 16, to: 128, step: 16}``: ``16, 32, ..., 128`` (both ends included);
- ``{from: 16, to: 1024, times: 2}``: ``16, 32, ..., 1024``;
- ``{from: 0.001, to: 1, num: 4, spacing: log}``: four values, evenly spaced on a log
  scale (``spacing: linear`` by default).

Each point becomes an ordinary :class:`~pytest_repro.spec.schema.Variant` (the claim's
base ``config:``/``variant:`` plus the point's values), so its runs and cache keys are
those of a hand-written variant with the same config: claims and sweeps share runs.
A claim about a curve (``kind: trend | peak | curve``, :mod:`~.curve_claims`) reads one
swept key, ``over:``, as its x axis.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_repro.spec.claim_nodes import Sweep, Variant
from pytest_repro.spec.config_section import ConfigDefaults
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe, join, named_entries, suggest
from pytest_repro.spec.keys import GENERATOR_KEYS, MAX_SWEEP_POINTS, SPACINGS
from pytest_repro.spec.ynode import YNode

#: Significant digits generated values are rounded to (``0.1 + 0.2`` stays ``0.3``).
DIGITS = 12


@dataclass(frozen=True, slots=True)
class Grid:
    """The points of a grid as written: each a mapping of config keys to values."""

    points: tuple[Mapping[str, Any], ...]
    axes: tuple[str, ...]
    #: several keys crossed (a product), rather than listed point by point.
    crossed: bool
    line: int
    name: str | None = None


def build_sweeps(ctx: SpecContext, top: MapReader, config: ConfigDefaults) -> dict[str, Grid]:
    """The usable grids of the top-level ``sweeps:`` block, by name."""
    out: dict[str, Grid] = {}
    for name, child, field, line in named_entries(ctx.ck, top, "sweeps"):
        grid = read_grid(ctx, config, child, field)
        if isinstance(grid, Grid):
            out[name] = Grid(grid.points, grid.axes, grid.crossed, line, name)
    return out


def read_grid(ctx: SpecContext, config: ConfigDefaults, node: YNode, field: str) -> Any:
    """A grid at ``field``: a mapping of keys to values, or a list of points."""
    if node.kind == "seq":
        return _listed(ctx, config, node, field)
    if node.kind != "map":
        return ctx.ck.problem(
            node.line,
            field,
            f"must be a mapping of config keys to values, or a list of points, got {describe(node)}",
            "write e.g. {width: [16, 32, 64]}",
        )
    if not node.value:
        return ctx.ck.problem(
            node.line, field, "is empty", "name at least one config key and its values"
        )
    axes: dict[str, list[Any]] = {}
    for key, child in node.value.items():
        line = (node.key_lines or {}).get(key, child.line)
        if not _known(ctx, config, key, line, join(field, key)):
            continue
        values = _values(ctx, child, join(field, key))
        if values is not MISSING:
            axes[key] = values
    if len(axes) != len(node.value):
        return MISSING
    total = math.prod(len(v) for v in axes.values())
    if total > MAX_SWEEP_POINTS:
        return ctx.ck.problem(
            node.line,
            field,
            f"crosses into {total} points; at most {MAX_SWEEP_POINTS}",
            "sweep fewer values, or list the points you need",
        )
    names = tuple(axes)
    points = tuple(
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())
    )
    return Grid(points, names, len(names) > 1, node.line)


def _known(ctx: SpecContext, config: ConfigDefaults, key: str, line: int, field: str) -> bool:
    if key in config.keys:
        return True
    ctx.ck.problem(
        line,
        field,
        f"sweeps {key!r}, which run.config does not define{suggest(key, config.keys)}",
        f"add {key} with its default to run.config, or fix the name",
    )
    return False


def _listed(ctx: SpecContext, config: ConfigDefaults, node: YNode, field: str) -> Any:
    """``[{width: 16, depth: 2}, ...]``: points written out, each with the same keys."""
    if not node.value:
        return ctx.ck.problem(node.line, field, "is empty", "list at least one point")
    if len(node.value) > MAX_SWEEP_POINTS:
        return ctx.ck.problem(
            node.line, field, f"lists {len(node.value)} points; at most {MAX_SWEEP_POINTS}"
        )
    points: list[dict[str, Any]] = []
    axes: tuple[str, ...] | None = None
    for i, child in enumerate(node.value):
        where = join(field, i)
        if child.kind != "map" or not child.value:
            ctx.ck.problem(
                child.line,
                where,
                f"must be a mapping of config keys to values, got {describe(child)}",
                "write each point as {width: 16, depth: 2}",
            )
            continue
        keys = tuple(child.value)
        if axes is not None and set(keys) != set(axes):
            ctx.ck.problem(
                child.line,
                where,
                f"sets {', '.join(keys)} but the first point sets {', '.join(axes)}",
                "give every point the same keys",
            )
            continue
        axes = axes or keys
        point: dict[str, Any] = {}
        for key, value in child.value.items():
            line = (child.key_lines or {}).get(key, value.line)
            if _known(ctx, config, key, line, join(where, key)):
                point[key] = value.plain()
        points.append(point)
    if len(points) != len(node.value) or axes is None:
        return MISSING
    seen: dict[str, int] = {}
    for i, point in enumerate(points):
        text = repr(sorted(point.items()))
        if text in seen:
            return ctx.ck.problem(
                node.value[i].line,
                join(field, i),
                f"repeats point {seen[text]}",
                "list each point once",
            )
        seen[text] = i
    return Grid(tuple(points), axes, False, node.line)


def _values(ctx: SpecContext, node: YNode, field: str) -> Any:
    """One key's values: a list (each once) or a generator mapping."""
    if node.kind == "seq":
        if not node.value:
            return ctx.ck.problem(node.line, field, "is empty", "list at least one value")
        values = [child.plain() for child in node.value]
        for i, value in enumerate(values):
            if values.index(value) != i:
                return ctx.ck.problem(
                    node.value[i].line,
                    join(field, i),
                    f"{value!r} is listed twice",
                    "list each value once",
                )
        return values
    if node.kind == "map":
        return _generate(ctx, node, field)
    return ctx.ck.problem(
        node.line,
        field,
        f"must be a list of values or a generator, got {describe(node)}",
        "write [16, 32, 64], or {from: 16, to: 128, times: 2}",
    )


def _generate(ctx: SpecContext, node: YNode, field: str) -> Any:
    """``{from, to}`` with exactly one of ``step``, ``times`` or ``num`` (and ``spacing``)."""
    g = MapReader(ctx.ck, node, field, allowed=GENERATOR_KEYS, required=("from", "to"))
    start, stop = g.number("from"), g.number("to")
    kinds = [k for k in ("step", "times", "num") if g.has(k)]
    if len(kinds) != 1:
        return g.bad(
            "from",
            "a generator needs exactly one of step:, times: or num:",
            "write {from: 16, to: 128, step: 16}, {from: 16, to: 1024, times: 2} "
            "or {from: 0.001, to: 1, num: 4, spacing: log}",
        )
    if g.has("spacing") and kinds[0] != "num":
        g.bad("spacing", "goes with num:", "remove it, or use num:")
    if MISSING in (start, stop) or start is None or stop is None:
        return MISSING
    whole = _whole(node, "from") and _whole(node, "to")
    if start >= stop:
        return g.bad("to", f"{stop:g} must be above from: {start:g}", "sweep upwards: from < to")
    kind = kinds[0]
    if kind == "step":
        step = g.number("step", exclusive_minimum=0.0)
        if step is MISSING:
            return MISSING
        count = math.floor((stop - start) / step * (1 + 1e-12)) + 1
        values = [start + i * step for i in range(min(count, MAX_SWEEP_POINTS + 1))]
        whole = whole and _whole(node, "step")
    elif kind == "times":
        factor = g.number("times", exclusive_minimum=1.0)
        if factor is MISSING:
            return MISSING
        if start <= 0:
            return g.bad("from", "times: multiplies, so from: must be above 0", "start from > 0")
        count = math.floor(math.log(stop / start) / math.log(factor) * (1 + 1e-12)) + 1
        values = [start * factor**i for i in range(min(count, MAX_SWEEP_POINTS + 1))]
        whole = whole and _whole(node, "times")
    else:
        num = g.integer("num", minimum=2)
        spacing = g.choice("spacing", SPACINGS, default="linear")
        if MISSING in (num, spacing):
            return MISSING
        if spacing == "log" and start <= 0:
            return g.bad("from", "log spacing needs from: above 0", "start from > 0")
        count = num
        if spacing == "log":
            lo, hi = math.log(start), math.log(stop)
            values = [
                math.exp(lo + (hi - lo) * i / (num - 1))
                for i in range(min(num, MAX_SWEEP_POINTS + 1))
            ]
        else:
            values = [
                start + (stop - start) * i / (num - 1)
                for i in range(min(num, MAX_SWEEP_POINTS + 1))
            ]
    if count > MAX_SWEEP_POINTS:
        return g.bad(kind, f"generates {count} values; at most {MAX_SWEEP_POINTS}", "sweep fewer")
    rounded = [float(f"{v:.{DIGITS}g}") for v in values]
    if whole and all(v.is_integer() for v in rounded):
        out: list[Any] = [int(v) for v in rounded]
    else:
        out = rounded
    if len(set(out)) != len(out):
        return g.bad(kind, f"gives a value twice ({out})", "use fewer values or a wider range")
    return out


def _whole(node: YNode, key: str) -> bool:
    child = node.value.get(key)
    return child is not None and isinstance(child.value, int) and not isinstance(child.value, bool)


def point_name(point: Mapping[str, Any]) -> str:
    """``width=16, depth=2``: the stable name of a generated variant."""
    return ", ".join(f"{k}={_text(v)}" for k, v in point.items())


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if isinstance(value, (int, str)) else repr(value)


def grid_sweep(
    ctx: SpecContext,
    grid: Grid,
    base: Variant,
    axis: str,
    line: int,
) -> Sweep:
    """The variants of ``grid`` on top of ``base``, read over ``axis`` (checked by the caller)."""
    points = []
    xs = []
    for point in grid.points:
        overrides = {**base.overrides, **point}
        name = point_name({**{k: v for k, v in base.overrides.items() if k not in point}, **point})
        points.append(Variant(name=name, overrides=overrides, loc=ctx.loc(line)))
        xs.append(float(point[axis]))
    return Sweep(axis=axis, xs=tuple(xs), points=tuple(points), name=grid.name, loc=ctx.loc(line))


__all__ = ["Grid", "build_sweeps", "grid_sweep", "point_name", "read_grid"]
