"""A claim's figures as inline SVG: its learning curve and its seed strip.

:func:`learning_curve` draws the claim's metric against its axis (epoch or step) from each
seed's recorded series, one polyline per seed (one colour per arm for a comparative claim),
the claim's epoch or step as a vertical line, and the paper's value with its tolerance band.
:func:`seed_strip` draws the per-seed values, the decision interval, the band and the
paper's value on one labelled axis.

Both are plain SVG (no script, readable offline) and deterministic: the same result and
records give the same bytes, so a figure written next to results.md does not churn. A
series longer than :data:`MAX_POINTS` is thinned, keeping its ends and the claim's point.
Every text in a figure comes from a spec or a run and is escaped for XML
(:func:`xml_text`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pytest_repro.records import RunRecord
from pytest_repro.report.escape import html_text, utf8_text
from pytest_repro.report.format import Units, at_text
from pytest_repro.results import ClaimResult

#: The most points drawn per seed.
MAX_POINTS = 400
SVG_NS = "http://www.w3.org/2000/svg"
#: One colour per arm (A, B) of a comparative claim.
ARM_COLOURS = ("#0969da", "#bc4c00")
SEED_COLOURS = ("#0969da", "#8250df", "#1a7f37", "#bc4c00", "#cf222e", "#0550ae", "#953800")
BAND, PAPER, MARKER, INK, GRID = "#dafbe1", "#1a7f37", "#6e7781", "#24292f", "#d0d7de"
#: Verdicts whose runs have no series worth drawing.
_NO_FIGURE = ("skipped", "error", "smoke")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
_NON_CHARACTERS = re.compile("[\ufffe\uffff]")
#: A tick's label from its value and the step between ticks.
TickLabel = Callable[[float, float], str]


def xml_text(text: object) -> str:
    """``text`` as XML character data or an attribute value: markup characters as
    entities, control characters, lone surrogates and non-characters as escapes.

    >>> xml_text("<script>&\\uffff")
    '&lt;script&gt;&amp;\\\\uffff'
    """
    return _NON_CHARACTERS.sub(lambda m: f"\\u{ord(m.group()):04x}", html_text(text))


def figure_name(claim_id: str) -> str:
    """The file name of a claim's figure: ``acc.svg`` for a plain id, else a name made
    from a hash of the id, so no id can leave the figures folder or hide a file.

    >>> figure_name("acc-1"), figure_name("../x")[:6]
    ('acc-1.svg', 'claim-')
    """
    if _SAFE_NAME.fullmatch(claim_id):
        return f"{claim_id}.svg"
    digest = hashlib.sha256(utf8_text(claim_id).encode("utf-8")).hexdigest()[:16]
    return f"claim-{digest}.svg"


@dataclass(frozen=True, slots=True, kw_only=True)
class Curve:
    """One seed's logged points of the claim's metric: ``(axis value, metric value)``."""

    seed: int
    #: ``A`` or ``B`` for a comparative claim's arm; None for an absolute claim.
    arm: str | None
    points: tuple[tuple[float, float], ...]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def axis_of(result: ClaimResult, records: Sequence[RunRecord] = ()) -> tuple[str, float | None]:
    """The axis the claim reads its metric on and the value it reads it at (None for
    ``final`` and ``first ...``): ``("epoch", 5.0)``."""
    at = result.at
    for axis in ("epoch", "step"):
        if axis in at:
            return axis, _number(at[axis])
    first = at.get("first")
    if isinstance(first, Mapping) and first.get("axis") in ("epoch", "step"):
        return str(first["axis"]), None
    logged_epochs = any("epoch" in p for r in records for p in r.series)
    return ("epoch" if logged_epochs else "step"), None


def thin(
    points: Sequence[tuple[float, float]], keep: float | None, limit: int = MAX_POINTS
) -> tuple[tuple[float, float], ...]:
    """At most ``limit`` of ``points``, evenly spaced, with the first, the last and the
    one at axis value ``keep`` among them."""
    n = len(points)
    if n <= limit:
        return tuple(points)
    chosen = {round(i * (n - 1) / (limit - 3)) for i in range(limit - 2)}
    if keep is not None:
        nearest = min(range(n), key=lambda i: (abs(points[i][0] - keep), i))
        chosen.add(nearest)
    chosen.add(n - 1)
    return tuple(points[i] for i in sorted(chosen))


def curves(result: ClaimResult, records: Mapping[str, RunRecord]) -> tuple[Curve, ...]:
    """Each run's series of the claim's metric, in the order of the claim's runs; empty
    for a claim without recorded series (skipped, an error, no runs)."""
    if result.verdict in _NO_FIGURE:
        return ()
    runs = [records[rid] for rid in dict.fromkeys(result.runs) if rid in records]
    runs = [r for r in runs if r.ok]
    axis, mark = axis_of(result, runs)
    comparative = result.kind == "comparative"
    arms: list[str] = []
    out = []
    for record in runs:
        arm = None
        if comparative:
            if record.variant not in arms:
                arms.append(record.variant)
            index = arms.index(record.variant)
            if index > 1:
                continue
            arm = "AB"[index]
        points = []
        for p in record.series:
            x, y = _number(p.get(axis)), _number(p.get(result.metric))
            if x is not None and y is not None:
                points.append((x, y))
        if points:
            out.append(Curve(seed=record.seed, arm=arm, points=thin(points, mark)))
    return tuple(out)


# -- drawing -----------------------------------------------------------------------------------
def ticks(low: float, high: float, count: int = 5) -> tuple[float, tuple[float, ...]]:
    """The step and the values of about ``count`` round ticks within ``[low, high]``."""
    span = high - low
    if not span > 0:
        return 1.0, (low,)
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9)
    values: list[float] = []
    while (first + len(values)) * step <= high + step * 1e-9:
        values.append(round((first + len(values)) * step, 12) + 0.0)
    return step, tuple(values)


def _range(values: Sequence[float], fallback: float) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.06 or abs(fallback) * 0.05 or 1.0
    return low - pad, high + pad


def _f(x: float) -> str:
    return f"{x:.1f}"


class Canvas:
    """A plot area with its data ranges: maps data to pixels and writes SVG elements."""

    def __init__(
        self, width: int, height: int, box: tuple[int, int, int, int], xr: tuple[float, float]
    ) -> None:
        self.width, self.height = width, height
        self.left, self.top, self.right, self.bottom = box
        self.xr = xr
        self.yr = (0.0, 1.0)
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        low, high = self.xr
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value: float) -> float:
        low, high = self.yr
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, words: str, cls: str, anchor: str = "middle") -> None:
        self.add(
            f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" font-size="11" '
            f'text-anchor="{anchor}" fill="{INK}">{xml_text(words)}</text>'
        )

    def x_axis(self, label: str, tick_label: TickLabel) -> None:
        step, values = ticks(*self.xr)
        self.add(
            f'<line class="axis" x1="{self.left}" x2="{self.right}" y1="{self.bottom}" '
            f'y2="{self.bottom}" stroke="{INK}"/>'
        )
        for v in values:
            self.add(
                f'<line class="tick" x1="{_f(self.x(v))}" x2="{_f(self.x(v))}" '
                f'y1="{self.bottom}" y2="{self.bottom + 4}" stroke="{INK}"/>'
            )
            self.text(self.x(v), self.bottom + 15, tick_label(v, step), "tick-label")
        self.text((self.left + self.right) / 2, self.bottom + 30, label, "axis-label")

    def y_axis(self, label: str, tick_label: TickLabel) -> None:
        step, values = ticks(*self.yr)
        self.add(
            f'<line class="axis" x1="{self.left}" x2="{self.left}" y1="{self.top}" '
            f'y2="{self.bottom}" stroke="{INK}"/>'
        )
        for v in values:
            y = _f(self.y(v))
            self.add(
                f'<line class="grid" x1="{self.left}" x2="{self.right}" y1="{y}" y2="{y}" '
                f'stroke="{GRID}" stroke-width="0.5"/>'
            )
            self.text(self.left - 6, self.y(v) + 4, tick_label(v, step), "tick-label", "end")
        middle = (self.top + self.bottom) / 2
        self.add(
            f'<text class="axis-label" x="14" y="{_f(middle)}" font-size="11" '
            f'text-anchor="middle" fill="{INK}" transform="rotate(-90 14 {_f(middle)})">'
            f"{xml_text(label)}</text>"
        )

    def svg(self, title: str) -> str:
        head = (
            f'<svg xmlns="{SVG_NS}" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" font-family="sans-serif">'
            f"<title>{xml_text(title)}</title>"
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"


def _value_label(units: Units, difference: bool) -> TickLabel:
    def label(value: float, step: float) -> str:
        shown = Units(units.unit, step)
        return shown.diff(value) if difference else shown.value(value)

    return label


def _axis_label(value: float, step: float) -> str:
    return f"{value:g}" if step >= 1 or value == 0 else f"{value:.6g}"


def _band(result: ClaimResult) -> tuple[float, float] | None:
    if result.paper is None or result.tolerance is None:
        return None
    return result.paper - result.tolerance, result.paper + result.tolerance


def learning_curve(
    result: ClaimResult, records: Mapping[str, RunRecord], width: int = 520, height: int = 260
) -> str:
    """The claim's learning curve as an SVG element; empty without recorded series."""
    found = curves(result, records)
    if not found:
        return ""
    axis, mark = axis_of(result, [records[r] for r in result.runs if r in records])
    comparative = result.kind == "comparative"
    xs = [x for c in found for x, _ in c.points] + ([mark] if mark is not None else [])
    ys = [y for c in found for _, y in c.points]
    band = None if comparative else _band(result)
    if band is not None:
        ys += [*band]
    elif not comparative and result.paper is not None:
        ys.append(result.paper)
    low_x, high_x = min(xs), max(xs)
    canvas = Canvas(width, height, (70, 26, width - 16, height - 42), (low_x, high_x or 1.0))
    if high_x == low_x:
        canvas.xr = (low_x - 1, high_x + 1)
    canvas.yr = _range(ys, ys[0])
    if band is not None:
        top, bottom = canvas.y(band[1]), canvas.y(band[0])
        canvas.add(
            f'<rect class="band" x="{canvas.left}" y="{_f(top)}" '
            f'width="{canvas.right - canvas.left}" height="{_f(bottom - top)}" fill="{BAND}"/>'
        )
    units = Units(result.unit, result.tolerance)
    canvas.y_axis(result.metric, _value_label(units, difference=False))
    canvas.x_axis(axis, _axis_label)
    if not comparative and result.paper is not None:
        y = _f(canvas.y(result.paper))
        canvas.add(
            f'<line class="paper" x1="{canvas.left}" x2="{canvas.right}" y1="{y}" y2="{y}" '
            f'stroke="{PAPER}" stroke-width="1.5" stroke-dasharray="6 3"/>'
        )
    if mark is not None:
        x = _f(canvas.x(mark))
        canvas.add(
            f'<line class="marker" x1="{x}" x2="{x}" y1="{canvas.top}" y2="{canvas.bottom}" '
            f'stroke="{MARKER}" stroke-dasharray="3 3"/>'
        )
    for i, c in enumerate(found):
        colour = ARM_COLOURS["AB".index(c.arm)] if c.arm else SEED_COLOURS[i % len(SEED_COLOURS)]
        points = " ".join(f"{_f(canvas.x(x))},{_f(canvas.y(y))}" for x, y in c.points)
        arm = f' data-arm="{c.arm}"' if c.arm else ""
        canvas.add(
            f'<polyline class="seed" data-seed="{c.seed}"{arm} points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="1.2" stroke-opacity="0.85"/>'
        )
    _legend(canvas, result, found)
    return canvas.svg(f"learning curve of {result.metric} ({result.id})")


def _legend(canvas: Canvas, result: ClaimResult, found: Sequence[Curve]) -> None:
    if result.kind == "comparative" and len(result.variants) >= 2:
        entries = [(f"A = {result.variants[0]}", ARM_COLOURS[0])]
        entries.append((f"B = {result.variants[1]}", ARM_COLOURS[1]))
    else:
        entries = [
            (f"seed {c.seed}", SEED_COLOURS[i % len(SEED_COLOURS)]) for i, c in enumerate(found)
        ]
        if len(entries) > 5:  # one entry per seed no longer fits: one line per seed, said once
            entries = [(f"{len(found)} seeds, one line each", SEED_COLOURS[0])]
        if result.paper is not None:
            entries.append(
                (f"paper {Units(result.unit, result.tolerance).value(result.paper)}", PAPER)
            )
    x = float(canvas.left)
    for words, colour in entries:
        canvas.add(f'<rect x="{_f(x)}" y="8" width="10" height="10" fill="{colour}"/>')
        canvas.text(x + 14, 17, words, "legend", "start")
        x += 24 + 6.5 * min(len(words), 40)


def seed_strip(result: ClaimResult, width: int = 520, height: int = 110) -> str:
    """Per-seed values, the decision interval, the band and the paper's value on one
    labelled axis, as an SVG element; empty for a claim without per-seed values."""
    r = result
    if r.verdict in _NO_FIGURE or not r.values:
        return ""
    comparative = r.kind == "comparative"
    band = _band(r)
    reference = r.paper if r.paper is not None else (r.margin if comparative else None)
    interval = [x for x in (r.interval or ()) if x is not None and math.isfinite(x)]
    points = [*r.values, *interval, *(band or ()), *([reference] if reference is not None else [])]
    points = [p for p in points if math.isfinite(p)]
    if not points:
        return ""
    canvas = Canvas(width, height, (70, 22, width - 16, height - 42), _range(points, points[0]))
    if band is not None:
        left, right = canvas.x(band[0]), canvas.x(band[1])
        canvas.add(
            f'<rect class="band" x="{_f(left)}" y="{canvas.top}" width="{_f(right - left)}" '
            f'height="{canvas.bottom - canvas.top}" fill="{BAND}"/>'
        )
    if reference is not None:
        x = _f(canvas.x(reference))
        what = "paper" if r.paper is not None else "margin"
        canvas.add(
            f'<line class="{what}" x1="{x}" x2="{x}" y1="{canvas.top}" y2="{canvas.bottom}" '
            f'stroke="{PAPER}" stroke-width="2"/>'
        )
    units = Units(r.unit, r.tolerance)
    seeds_y, interval_y = canvas.top + 14, canvas.top + 38
    canvas.text(canvas.left - 6, seeds_y + 4, "seeds", "row-label", "end")
    for seed, value in zip(r.seeds, r.values, strict=False):
        if math.isfinite(value):
            canvas.add(
                f'<circle class="seed" data-seed="{seed}" cx="{_f(canvas.x(value))}" '
                f'cy="{seeds_y}" r="4" fill="#0969da" fill-opacity="0.7"/>'
            )
    if len(interval) == 2:
        level = f"{round((r.confidence or 0) * 100):g}% CI"
        canvas.text(canvas.left - 6, interval_y + 4, level, "row-label", "end")
        canvas.add(
            f'<line class="interval" x1="{_f(canvas.x(interval[0]))}" '
            f'x2="{_f(canvas.x(interval[1]))}" y1="{interval_y}" y2="{interval_y}" '
            f'stroke="{INK}" stroke-width="3"/>'
        )
        if r.estimate is not None and math.isfinite(r.estimate):
            canvas.add(
                f'<circle class="estimate" cx="{_f(canvas.x(r.estimate))}" cy="{interval_y}" '
                f'r="4" fill="{INK}"/>'
            )
    where = at_text(r.at)
    label = (
        f"improvement of A over B in {r.metric} at {where}"
        if comparative
        else f"{r.metric} at {where}"
    )
    canvas.x_axis(label, _value_label(units, difference=comparative))
    return canvas.svg(f"seeds of {r.id}: values, interval and the paper's band")


def figure_file(result: ClaimResult, records: Mapping[str, RunRecord]) -> str:
    """The text of ``figures/<claim-id>.svg``: the learning curve as an SVG document;
    empty without recorded series. (A claim about a curve has its own:
    :func:`~pytest_repro.report.sweep_figure.sweep_figure_file`.)"""
    curve = learning_curve(result, records)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{curve}\n' if curve else ""
