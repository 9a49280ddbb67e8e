"""The figure of a claim about a curve: the metric against the swept value.

Per swept point: each seed's value (dots), the seeds' mean (a line through the points)
and its 95% simultaneous band (shaded); the paper's values with their tolerance band
(``curve``), the claimed range of the extremum (``peak``), or the fitted line
(``slope``). The x axis is logarithmic when the swept values are positive and span a
factor of 16 or more; its ticks are the swept values themselves. Deterministic SVG, like
:mod:`~pytest_repro.report.figures`, every text escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_repro.report.figures import (
    BAND,
    INK,
    MARKER,
    PAPER,
    Canvas,
    _range,
    _value_label,
    xml_text,
)
from pytest_repro.report.format import Units, at_text
from pytest_repro.results import ClaimResult

MEAN = "#0969da"
SEED = "#8250df"
RANGE = "#f8e3a1"
#: The least distance between two tick labels, in pixels.
TICK_GAP = 34


def _f(x: float) -> str:
    return f"{x:.1f}"


def _points(result: ClaimResult) -> list[Mapping[str, Any]]:
    sweep = result.sweep or {}
    points = sweep.get("points") or []
    return [p for p in points if isinstance(p, Mapping) and _finite(p.get("x"))]


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def log_x(xs: Sequence[float]) -> bool:
    """Whether the swept values are drawn on a log axis (positive, spanning >= 16x)."""
    return bool(xs) and min(xs) > 0 and max(xs) / min(xs) >= 16


def sweep_figure(result: ClaimResult, width: int = 520, height: int = 280) -> str:
    """The claim's curve as an SVG element; empty for a result without swept points."""
    points = _points(result)
    if len(points) < 2:
        return ""
    sweep = result.sweep or {}
    axis = str(sweep.get("axis", "x"))
    xs = [float(p["x"]) for p in points]
    logged = log_x(xs)

    def t(x: float) -> float:
        return math.log10(x) if logged else x

    ys: list[float] = []
    for p in points:
        ys.extend(v for v in p.get("values") or () if _finite(v))
        ys.extend(b for b in p.get("band") or () if _finite(b))
        if _finite(p.get("paper")):
            tol = float(p.get("tolerance") or 0.0)
            ys.extend((float(p["paper"]) - tol, float(p["paper"]) + tol))
    if not ys:
        return ""
    tx = [t(x) for x in xs]
    pad = (max(tx) - min(tx)) * 0.04 or 1.0
    canvas = Canvas(
        width, height, (70, 26, width - 16, height - 42), (min(tx) - pad, max(tx) + pad)
    )
    units = Units(result.unit, result.tolerance)
    seeds = [float(v) for p in points for v in p.get("values") or () if _finite(v)]
    log_y = sweep.get("scale") == "log-log" and bool(seeds) and min(seeds) > 0
    if log_y:  # an exponent is a straight line on log-log axes
        canvas.yr = _range([math.log10(y) for y in ys if y > 0], 0.0)
        floor = 10 ** canvas.yr[0]

        def y_of(value: float) -> float:
            return canvas.y(math.log10(max(value, floor)))

        def label(value: float, step: float) -> str:
            return units.value(10**value)
    else:
        canvas.yr = _range(ys, ys[0])
        y_of = canvas.y
        label = _value_label(units, difference=False)  # type: ignore[assignment]
    within = sweep.get("within")
    if isinstance(within, Sequence) and len(within) == 2 and all(_finite(w) for w in within):
        lo_w, hi_w = float(within[0]), float(within[1])
        low = t(lo_w) if not (logged and lo_w <= 0) else canvas.xr[0]
        high = t(hi_w) if not (logged and hi_w <= 0) else canvas.xr[0]
        low, high = max(low, canvas.xr[0]), min(high, canvas.xr[1])
        if high >= low:
            left, right = canvas.x(low), canvas.x(high)
            canvas.add(
                f'<rect class="range" x="{_f(left)}" y="{canvas.top}" width="{_f(max(right - left, 2.0))}" '
                f'height="{canvas.bottom - canvas.top}" fill="{RANGE}"/>'
            )
    _paper(canvas, points, t, y_of)
    _band(canvas, points, t, y_of)
    canvas.y_axis(f"{result.metric}{' (log scale)' if log_y else ''}", label)
    _x_axis(canvas, xs, t, f"{axis}{' (log scale)' if logged else ''}")
    _fit(canvas, result, xs, t, y_of, logged)
    mean = " ".join(
        f"{_f(canvas.x(t(float(p['x']))))},{_f(y_of(float(p['mean'])))}"
        for p in points
        if _finite(p.get("mean"))
    )
    canvas.add(
        f'<polyline class="mean" points="{mean}" fill="none" stroke="{MEAN}" stroke-width="2"/>'
    )
    for p in points:
        for v in p.get("values") or ():
            if _finite(v):
                canvas.add(
                    f'<circle class="seed" data-x="{xml_text(p["x"])}" cx="{_f(canvas.x(t(float(p["x"]))))}" '
                    f'cy="{_f(y_of(float(v)))}" r="3" fill="{SEED}" '
                    'fill-opacity="0.75"/>'
                )
    _legend(canvas, result, points)
    return canvas.svg(f"{result.metric} against {axis} ({result.id})")


def _band(canvas: Canvas, points: Sequence[Mapping[str, Any]], t: Any, y_of: Any) -> None:
    bands = [
        (t(float(p["x"])), float(p["band"][0]), float(p["band"][1]))
        for p in points
        if isinstance(p.get("band"), Sequence)
        and len(p["band"]) == 2
        and all(_finite(b) for b in p["band"])
    ]
    if len(bands) < 2:
        return
    upper = [f"{_f(canvas.x(x))},{_f(y_of(high))}" for x, _, high in bands]
    lower = [f"{_f(canvas.x(x))},{_f(y_of(low))}" for x, low, _ in reversed(bands)]
    canvas.add(
        f'<polygon class="interval-band" points="{" ".join(upper + lower)}" fill="{MEAN}" fill-opacity="0.12"/>'
    )


def _paper(canvas: Canvas, points: Sequence[Mapping[str, Any]], t: Any, y_of: Any) -> None:
    given = [p for p in points if _finite(p.get("paper"))]
    if not given:
        return
    upper, lower = [], []
    for p in given:
        x, value, tol = (
            canvas.x(t(float(p["x"]))),
            float(p["paper"]),
            float(p.get("tolerance") or 0.0),
        )
        upper.append(f"{_f(x)},{_f(y_of(value + tol))}")
        lower.append(f"{_f(x)},{_f(y_of(value - tol))}")
    canvas.add(f'<polygon class="band" points="{" ".join(upper + lower[::-1])}" fill="{BAND}"/>')
    line = " ".join(
        f"{_f(canvas.x(t(float(p['x']))))},{_f(y_of(float(p['paper'])))}" for p in given
    )
    canvas.add(
        f'<polyline class="paper" points="{line}" fill="none" stroke="{PAPER}" '
        'stroke-width="1.5" stroke-dasharray="6 3"/>'
    )


def _fit(
    canvas: Canvas, result: ClaimResult, xs: Sequence[float], t: Any, y_of: Any, logged: bool
) -> None:
    """The fitted line of a slope claim, on the scale it was fitted."""
    sweep = result.sweep or {}
    fit, scale = sweep.get("fit"), sweep.get("scale")
    if not (isinstance(fit, Sequence) and len(fit) == 2 and all(_finite(f) for f in fit)):
        return
    a, b = float(fit[0]), float(fit[1])
    base = float(sweep.get("base") or 10.0)
    coords = []
    low, high = min(xs), max(xs)
    for i in range(41):
        x = low * (high / low) ** (i / 40) if logged else low + (high - low) * i / 40
        u = math.log(x) / math.log(base) if x > 0 else math.nan
        if scale == "log-log":  # both coordinates were logarithms in ``base``
            y = base ** (a + b * u) if _finite(u) else math.nan
        elif scale == "log-x":
            y = a + b * u
        else:
            y = a + b * x
        if _finite(y) and canvas.top <= y_of(y) <= canvas.bottom:
            coords.append(f"{_f(canvas.x(t(x)))},{_f(y_of(y))}")
    if len(coords) >= 2:
        canvas.add(
            f'<polyline class="fit" points="{" ".join(coords)}" fill="none" stroke="{MARKER}" '
            'stroke-width="1.2" stroke-dasharray="2 3"/>'
        )


def _x_axis(canvas: Canvas, xs: Sequence[float], t: Any, label: str) -> None:
    canvas.add(
        f'<line class="axis" x1="{canvas.left}" x2="{canvas.right}" y1="{canvas.bottom}" '
        f'y2="{canvas.bottom}" stroke="{INK}"/>'
    )
    last = -math.inf
    for x in xs:
        px = canvas.x(t(x))
        if px - last < TICK_GAP:
            continue  # too close to the previous label to be read
        last = px
        canvas.add(
            f'<line class="tick" x1="{_f(px)}" x2="{_f(px)}" y1="{canvas.bottom}" '
            f'y2="{canvas.bottom + 4}" stroke="{INK}"/>'
        )
        canvas.text(px, canvas.bottom + 15, f"{x:.4g}", "tick-label")
    canvas.text((canvas.left + canvas.right) / 2, canvas.bottom + 30, label, "axis-label")


def _legend(canvas: Canvas, result: ClaimResult, points: Sequence[Mapping[str, Any]]) -> None:
    entries = [
        (f"seeds at {at_text(result.at)}", SEED),
        ("mean, 95% simultaneous band", MEAN),
    ]
    if any(_finite(p.get("paper")) for p in points):
        entries.append(("paper ± tolerance", PAPER))
    if (result.sweep or {}).get("within"):
        entries.append(("claimed range", RANGE))
    if (result.sweep or {}).get("fit"):
        entries.append(("fitted line", MARKER))
    x = float(canvas.left)
    for words, colour in entries:
        canvas.add(f'<rect x="{_f(x)}" y="8" width="10" height="10" fill="{colour}"/>')
        canvas.text(x + 14, 17, words, "legend", "start")
        x += 24 + 6.2 * min(len(words), 40)


def sweep_figure_file(result: ClaimResult) -> str:
    """The text of ``figures/<claim-id>.svg`` for a claim about a curve; empty without points."""
    curve = sweep_figure(result)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{curve}\n' if curve else ""


__all__ = ["log_x", "sweep_figure", "sweep_figure_file"]
