"""A claim's result as the verdict cache stores it: canonical JSON that reads back exactly.

:func:`encode_result` writes a :class:`~pytest_repro.results.ClaimResult` as JSON with
sorted keys (non-finite numbers kept); :func:`decode_result` gives the result back, or None
for any text that is not one; the cache itself (:mod:`pytest_repro.verdict_cache`) decides
what is stored and trusted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Final

from pytest_repro.results import ClaimResult, SmokeStage

#: The layout of a stored result; another layout is never read.
FORMAT: Final = 1


def encode_result(result: ClaimResult) -> str:
    """``result`` as JSON with sorted keys, non-finite numbers kept (``Infinity``, ``NaN``)."""
    fields = {name: getattr(result, name) for name in _RESULT_FIELDS}
    return json.dumps({"format": FORMAT, "result": fields}, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    """What :func:`json.dumps` cannot write itself: nested dataclasses and mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not stored in the verdict cache")


def decode_result(payload: str) -> ClaimResult | None:
    """The result :func:`encode_result` wrote; None for anything else."""
    decoded = decode_with_json(payload)
    return decoded[0] if decoded is not None else None


def decode_with_json(payload: str) -> tuple[ClaimResult, dict[str, Any] | None] | None:
    """The result :func:`encode_result` wrote, and its :meth:`ClaimResult.to_json` when the
    stored fields are that already (no non-finite number, which the report JSON writes as
    null; sequences as the result's tuples); None for anything else."""
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        fields = data["result"]
        if not isinstance(fields, dict) or fields.keys() != _RESULT_NAMES:
            return None
        kwargs: dict[str, Any] = {k: tuple(v) if type(v) is list else v for k, v in fields.items()}
        kwargs["smoke_stages"] = tuple(SmokeStage(**s) for s in kwargs["smoke_stages"])
        result = _result(kwargs)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    if "NaN" in payload or "Infinity" in payload:
        return result, None
    # The report's JSON shares the result's tuples (JSON writes them as lists): one set of
    # sequences per claim, not two, for a session's memory and its collector.
    data = {k: kwargs[k] for k in _RESULT_FIELDS}
    data["smoke_stages"] = fields["smoke_stages"]
    return result, data


def _result(fields: dict[str, Any]) -> ClaimResult:
    """``ClaimResult(**fields)`` for ``fields`` that name every field exactly once, as
    ``__init__`` would set them (it only sets each field: there is no ``__post_init__``),
    in a third of the time: a session reads a thousand of these."""
    result = _new(ClaimResult)
    for name, value in fields.items():
        _set(result, name, value)
    return result


_new: Final = object.__new__
_set: Final = object.__setattr__
_RESULT_FIELDS: Final = tuple(f.name for f in dataclasses.fields(ClaimResult))
_RESULT_NAMES: Final = frozenset(_RESULT_FIELDS)


def decode_rows(payload: str) -> list[tuple[str, str | None]] | None:
    """The table rows :meth:`~pytest_repro.verdict_cache.VerdictCache.table` stored; None for anything else."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    rows: list[tuple[str, str | None]] = []
    for row in data:
        if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)):
            return None
        if row[1] is not None and not isinstance(row[1], str):
            return None
        rows.append((row[0], row[1]))
    return rows


__all__ = ["FORMAT", "decode_result", "decode_rows", "decode_with_json", "encode_result"]
