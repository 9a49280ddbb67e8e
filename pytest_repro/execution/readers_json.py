"""``metrics: {json: "{run_dir}/results.json"}``: a JSON file a run writes once, at its end.

The file holds one object (``{"epoch": 10, "test_acc": 0.9}``: one point) or a list of
them (one point each). One object with neither ``epoch`` nor ``step``
(``{"test_acc": 0.9}``: the script's final results) is the run's final point and is read
as ``{"final": true, "test_acc": 0.9}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pytest_repro.execution.readers_base import (
    AXES,
    MetricsInput,
    MetricsReadError,
    Point,
    as_point,
    required_path,
)

#: The key that marks the point of a JSON object with no epoch or step: the final results.
FINAL = "final"


class JsonReader:
    """Reads one JSON object, or a list of objects, from the file ``run.metrics.json`` names."""

    format = "json"

    def read(self, where: MetricsInput) -> list[Point]:
        path = required_path(
            where,
            "JSON file",
            "point run.metrics.json at the file the script writes",
        )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise MetricsReadError(f"{path} cannot be read: {exc}", path=path) from exc
        except json.JSONDecodeError as exc:
            raise MetricsReadError(
                f"{path}:{exc.lineno}: not JSON ({exc.msg}); the reader expects one object "
                'such as {"epoch": 10, "test_acc": 0.9} or a list of them',
                path=path,
            ) from exc
        if isinstance(data, Mapping):
            point = as_point(data)
            if not any(axis in point for axis in AXES):
                point = {FINAL: True, **point}
            return [point]
        if isinstance(data, list):
            for i, item in enumerate(data):
                if not isinstance(item, Mapping):
                    raise MetricsReadError(
                        f"{path}: item {i} of the list is {type(item).__name__}, not an object; "
                        'each item must be a point such as {"epoch": 10, "test_acc": 0.9}',
                        path=path,
                    )
            return [as_point(item) for item in data]
        raise MetricsReadError(
            f"{path} holds {type(data).__name__}, not an object or a list of objects; write "
            'e.g. {"epoch": 10, "test_acc": 0.9}',
            path=path,
        )


__all__ = ["FINAL", "JsonReader"]
