"""A small readable description of a loaded value (shapes, rows, keys) for a run's
evidence: :func:`summarize`. It reads attributes only and imports no library."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def summarize(value: Any) -> Any:
    """A small readable description of a loaded value: shapes, rows, keys."""
    num_rows = getattr(value, "num_rows", None)
    if num_rows is not None and hasattr(value, "column_names"):  # datasets.Dataset(Dict)
        if isinstance(num_rows, Mapping):
            return {"type": type(value).__name__, "rows": dict(num_rows)}
        return {"type": type(value).__name__, "rows": int(num_rows), "columns": value.column_names}
    shape = getattr(value, "shape", None)
    if shape is not None and not callable(shape):
        return {"type": type(value).__name__, "shape": [int(n) for n in shape]}
    if isinstance(value, Mapping):
        return {str(k): _leaf_summary(v) for k, v in list(value.items())[:50]}
    if isinstance(value, (list, tuple)):
        if len(value) <= 10:
            return [_leaf_summary(v) for v in value]
        return {"type": type(value).__name__, "len": len(value)}
    return _leaf_summary(value)


def _leaf_summary(value: Any) -> Any:
    shape = getattr(value, "shape", None)
    if shape is not None and not callable(shape):
        return [int(n) for n in shape]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (str, bytes, list, tuple, Mapping)):
        return {"type": type(value).__name__, "len": len(value)}
    return type(value).__name__
