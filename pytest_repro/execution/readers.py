"""Metric readers: how a run's metric series is read from what the run left behind.

``run.metrics`` in ``paper.yaml`` names one format and where to find it
(``{jsonl: "{run_dir}/metrics.jsonl"}``). Each format is a :class:`MetricReader`, one
module per reader; the built-in ones are in :data:`BUILTIN_READERS`:

- ``jsonl``, ``csv``: a file of points (here);
- ``regex``: one or several patterns over the run's output (``readers_regex``);
- ``json``: one JSON object or a list of them, written at the end (``readers_json``);
- ``tensorboard``: every scalar of the event files in a folder (``readers_tensorboard``);
- ``wandb``: the history of an offline wandb run (``readers_wandb``);
- ``python``: a ``module:function`` of the paper folder (``readers_python``).

A plugin adds more through the ``pytest_repro_metric_readers`` hook (see
:mod:`pytest_repro.newhooks`)::

    class MLflowReader:
        format = "mlflow"
        def read(self, where: MetricsInput) -> list[dict[str, Any]]:
            ...  # read where.path, return [{"step": 100, "loss": 0.3}, ...]

    def pytest_repro_metric_readers(config):
        return [MLflowReader()]

A plugin reader's value in ``paper.yaml`` is a path template, like ``jsonl:`` and ``csv:``.
A reader raises :class:`MetricsReadError` for a file that is missing or unreadable and
returns ``[]`` when the run logged no points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_repro.errors import ReproError
from pytest_repro.execution import metrics
from pytest_repro.execution.readers_base import (
    MetricReader,
    MetricsInput,
    MetricsReadError,
    Point,
)
from pytest_repro.execution.readers_json import JsonReader
from pytest_repro.execution.readers_python import PythonReader
from pytest_repro.execution.readers_regex import RegexReader
from pytest_repro.execution.readers_tensorboard import TensorBoardReader
from pytest_repro.execution.readers_wandb import WandbReader


class JsonLinesReader:
    format = "jsonl"

    def read(self, where: MetricsInput) -> list[Point]:
        return metrics.read_jsonl(where.path) if where.path is not None else []


class CsvReader:
    format = "csv"

    def read(self, where: MetricsInput) -> list[Point]:
        return metrics.read_csv(where.path) if where.path is not None else []


#: The readers every installation has, by the key that selects them under ``run.metrics``.
BUILTIN_READERS: Mapping[str, MetricReader] = {
    r.format: r
    for r in (
        JsonLinesReader(),
        CsvReader(),
        RegexReader(),
        JsonReader(),
        TensorBoardReader(),
        WandbReader(),
        PythonReader(),
    )
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
    "MetricsReadError",
    "Point",
    "RegexReader",
    "reader_table",
]
