"""``metrics: {regex: ...}``: points from what a run printed.

One pattern (``regex: PAT``) is searched in each line of the output; each matching line
is one point, its named groups ``epoch``/``step`` and metrics. Several patterns
(``regex: [PAT1, PAT2]``) may each match any line, and the points they find at the same
epoch and step are merged into one (a training line and an evaluation line of epoch 3
become ``{"epoch": 3, "train_loss": ..., "val_acc": ...}``).

A pattern that spans lines — it contains a newline (``\\n``) or sets ``(?s)``/``(?m)`` —
is searched in the whole output at once, every match a point, so a block such as
``Epoch 3\\n  val acc: 0.91`` is read whole.
"""

from __future__ import annotations

import re

from pytest_repro.execution.metrics import read_regex
from pytest_repro.execution.readers_base import MetricsInput, Point, as_point, merge_by_axes


def spans_lines(pattern: str) -> bool:
    """Whether ``pattern`` is meant for the whole output rather than for one line."""
    compiled = re.compile(pattern)
    return "\n" in pattern or "\\n" in pattern or bool(compiled.flags & (re.DOTALL | re.MULTILINE))


def _matches(text: str, pattern: str) -> list[tuple[int, Point]]:
    """``(offset, point)`` for each match of ``pattern`` in ``text``."""
    compiled = re.compile(pattern)
    found: list[tuple[int, Point]] = []

    def add(offset: int, match: re.Match[str]) -> None:
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        found.append((offset, as_point(groups)))

    if spans_lines(pattern):
        for match in compiled.finditer(text):
            add(match.start(), match)
        return found
    offset = 0
    for line in text.splitlines(keepends=True):
        hit = compiled.search(line)
        if hit:
            add(offset + hit.start(), hit)
        offset += len(line)
    return found


def read_patterns(text: str, patterns: tuple[str, ...]) -> list[Point]:
    """Points of several patterns over ``text``, in output order, merged per epoch/step."""
    found = [hit for pattern in patterns for hit in _matches(text, pattern)]
    found.sort(key=lambda hit: hit[0])  # stable: at one offset, the earlier pattern first
    return merge_by_axes([point for _, point in found])


class RegexReader:
    """Reads ``regex: PAT`` (each line) and ``regex: [PAT, ...]`` (merged per point)."""

    format = "regex"

    def read(self, where: MetricsInput) -> list[Point]:
        patterns = where.patterns or ((where.pattern,) if where.pattern is not None else ())
        if not patterns or not where.output.is_file():
            return []
        text = where.output.read_text(encoding="utf-8", errors="replace")
        if not where.patterns and not spans_lines(patterns[0]):
            return read_regex(text, patterns[0])  # one line pattern: exactly as it always was
        if len(patterns) == 1:
            return [point for _, point in _matches(text, patterns[0])]
        return read_patterns(text, patterns)


__all__ = ["RegexReader", "read_patterns", "spans_lines"]
