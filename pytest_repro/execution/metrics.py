"""Reading what a run logged: metric series and per-example outcomes.

Entrypoints write ``repro-metrics.jsonl`` through ``ctx.log``; ``command:`` runs write
JSON lines or CSV themselves, or print lines a regex picks up. All end up as a
list of points ``{"epoch": 3, "step": 300, "test_acc": 0.91}``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_NONFINITE = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "-infinity": -math.inf,
}


def number(value: Any) -> Any:
    """JSON/CSV text to a number where it is one (``"nan"`` included); other values unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NONFINITE:
            return _NONFINITE[text.lower()]
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return value
    return value


def _point(raw: Mapping[str, Any]) -> dict[str, Any]:
    point = {str(k): number(v) for k, v in raw.items()}
    for axis in ("epoch", "step"):
        value = point.get(axis)
        if isinstance(value, float) and value.is_integer():
            point[axis] = int(value)
    return point


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Points from a JSON-lines file. A torn last line (a run killed mid-write) is dropped."""
    if not path.is_file():
        return []
    points: list[dict[str, Any]] = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{path}:{i + 1}: not a JSON object: {line[:80]!r}") from None
        if isinstance(raw, dict):
            points.append(_point(raw))
    return points


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Points from a CSV file with a header row; empty cells are left out."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return [
            _point({k: v for k, v in row.items() if k and v not in (None, "")})
            for row in csv.DictReader(handle)
        ]


def read_regex(text: str, pattern: str) -> list[dict[str, Any]]:
    """Points from output lines matching ``pattern``'s named groups."""
    compiled = re.compile(pattern)
    points = []
    for line in text.splitlines():
        match = compiled.search(line)
        if match:
            points.append(_point({k: v for k, v in match.groupdict().items() if v is not None}))
    return points


def read_examples(path: Path) -> dict[str, list[float]]:
    """Per-example outcomes from ``repro-examples.jsonl``, keyed ``"<metric>@<axis>=<value>"``.

    Records that are not what ``ctx.log_examples`` writes are skipped.
    """
    out: dict[str, list[float]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            key = examples_key(str(record["metric"]), str(record["axis"]), int(record["at"]))
            values = [float(v) for v in record["values"]]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        out[key] = values
    return out


def examples_key(metric: str, axis: str, at: int) -> str:
    return f"{metric}@{axis}={at}"


def tail(path: Path, lines: int = 200, max_bytes: int = 64_000) -> str:
    """The last ``lines`` lines of a text file (reading at most ``max_bytes`` from its end)."""
    if not path.is_file():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - max_bytes))
        data = handle.read()
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def logged_names(points: Iterable[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for point in points:
        for key in point:
            if key not in ("epoch", "step"):
                names[key] = None
    return list(names)
