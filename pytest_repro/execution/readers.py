"""Metric readers: how a run's metric series is read from what the run left behind.

``run.metrics`` in ``paper.yaml`` names one format and where to find it
(``{jsonl: "{run_dir}/metrics.jsonl"}``). Each format is a :class:`MetricReader`; the
built-in ones (JSON lines, CSV, a regex over the run's output) are in
:data:`BUILTIN_READERS`, and a plugin adds more through the
``pytest_repro_metric_readers`` hook (see :mod:`pytest_repro.newhooks`)::

    class TensorBoardReader:
        format = "tensorboard"
        def read(self, where: MetricsInput) -> list[dict[str, Any]]:
            ...  # read where.path, return [{"step": 100, "loss": 0.3}, ...]

    def pytest_repro_metric_readers(config):
        return [TensorBoardReader()]

A plugin reader's value in ``paper.yaml`` is a path template, like ``jsonl:`` and ``csv:``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pytest_repro.errors import ReproError
from pytest_repro.execution import metrics

#: One logged point: ``{"epoch": 3, "step": 300, "test_acc": 0.91}``.
Point = dict[str, Any]


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


class JsonLinesReader:
    format = "jsonl"

    def read(self, where: MetricsInput) -> list[Point]:
        return metrics.read_jsonl(where.path) if where.path is not None else []


class CsvReader:
    format = "csv"

    def read(self, where: MetricsInput) -> list[Point]:
        return metrics.read_csv(where.path) if where.path is not None else []


class RegexReader:
    format = "regex"

    def read(self, where: MetricsInput) -> list[Point]:
        if where.pattern is None or not where.output.is_file():
            return []
        text = where.output.read_text(encoding="utf-8", errors="replace")
        return metrics.read_regex(text, where.pattern)


BUILTIN_READERS: Mapping[str, MetricReader] = {
    r.format: r for r in (JsonLinesReader(), CsvReader(), RegexReader())
}


def reader_table(extra: Iterable[Any]) -> dict[str, MetricReader]:
    """The built-in readers plus those plugins supplied; a clash or a malformed reader is an error."""
    table = dict(BUILTIN_READERS)
    for reader in extra:
        if not isinstance(reader, MetricReader) or not isinstance(
            getattr(reader, "format", None), str
        ):
            raise ReproError(
                f"pytest_repro_metric_readers returned {reader!r}, which is not a metric reader: "
                "it needs a `format` string and a `read(where)` method"
            )
        if reader.format in table:
            raise ReproError(
                f"two metric readers claim the format {reader.format!r} "
                f"({type(table[reader.format]).__name__} and {type(reader).__name__}); "
                "uninstall one of the plugins or rename its format"
            )
        if not reader.format.isidentifier():
            raise ReproError(
                f"metric reader {type(reader).__name__} has the format {reader.format!r}; "
                "a format must be a name such as 'tensorboard'"
            )
        table[reader.format] = reader
    return table


__all__ = [
    "BUILTIN_READERS",
    "CsvReader",
    "JsonLinesReader",
    "MetricReader",
    "MetricsInput",
    "Point",
    "RegexReader",
    "reader_table",
]
