"""What every metric reader shares: its input, its protocol, its points and its error.

A leaf of the readers: :mod:`pytest_repro.execution.readers` registers the readers, and
each reader module (``readers_regex``, ``readers_tensorboard``, ...) imports only this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pytest_repro.errors import ReproError
from pytest_repro.execution.metrics import number

#: One logged point: ``{"epoch": 3, "step": 300, "test_acc": 0.91}``.
Point = dict[str, Any]

#: The axes a claim reads its point at.
AXES = ("epoch", "step")


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsInput:
    """What a reader may read for one finished run."""

    #: the file named in ``run.metrics``, placeholders filled in (None for ``regex``).
    path: Path | None
    #: the regular expression of ``run.metrics.regex`` (None otherwise).
    pattern: str | None
    #: everything the run printed (stdout and stderr).
    output: Path
    run_dir: Path
    #: the paper folder (where a ``python:`` reader's module lives).
    paper_dir: Path | None = None
    #: ``run.metrics``' several regular expressions, its reader target and its options.
    patterns: tuple[str, ...] = ()
    target: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class MetricReader(Protocol):
    """Reads one run's metric series in one format."""

    #: the key under ``run.metrics`` that selects this reader.
    format: str

    def read(self, where: MetricsInput) -> list[Point]:
        """The run's points in logged order; an empty list when the run logged none."""
        ...


class MetricsReadError(ReproError, ValueError):
    """A run's metrics file is missing, unreadable or not in the reader's format.

    ``path`` is the file or folder the reader looked at (None when there is none).
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def as_point(raw: Mapping[str, Any]) -> Point:
    """``raw`` as a point: text that is a number becomes one, whole-number axes ints."""
    point = {str(k): number(v) for k, v in raw.items()}
    for axis in AXES:
        value = point.get(axis)
        if isinstance(value, float) and value.is_integer():
            point[axis] = int(value)
    return point


def merge_by_axes(points: list[Point]) -> list[Point]:
    """Points at the same epoch and step merged into one, in order of first appearance.

    A metric logged twice at one point keeps its later value, as a claim would read it.
    """
    merged: dict[tuple[Any, ...], Point] = {}
    for point in points:
        key = tuple(point.get(axis) for axis in AXES)
        merged.setdefault(key, {}).update(point)
    return list(merged.values())


def required_path(where: MetricsInput, what: str, fix: str) -> Path:
    """``where.path``, which must exist; a :class:`MetricsReadError` saying ``fix`` if not."""
    path = where.path
    if path is None:
        raise MetricsReadError(f"the reader was given no path for its {what}; {fix}")
    if not path.exists():
        near = _nearest_folder(path)
        held = ""
        if near is not None:
            names = sorted(p.name + "/" * p.is_dir() for p in near.iterdir())
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            held = f" ({near} holds: {shown or 'nothing'})"
        raise MetricsReadError(
            f"{path} does not exist: the run wrote no {what} there{held}; {fix}", path=path
        )
    return path


def _nearest_folder(path: Path) -> Path | None:
    """The closest existing folder above ``path`` (the run's folder, usually)."""
    for parent in path.parents:
        if parent.is_dir():
            return parent
    return None


__all__ = [
    "AXES",
    "MetricReader",
    "MetricsInput",
    "MetricsReadError",
    "Point",
    "as_point",
    "merge_by_axes",
    "required_path",
]
