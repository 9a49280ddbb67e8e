"""A claim's ``tolerance:``: in the metric's units, or ``5%`` of the paper's value."""

from __future__ import annotations

import re
from typing import Any

from pytest_repro.spec.claim_nodes import PaperValue
from pytest_repro.spec.fields import MapReader

_RELATIVE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*%\s*$")


def read_tolerance(c: MapReader, paper: Any) -> tuple[Any, float | None]:
    """``tolerance: 0.01`` in the metric's units, or ``tolerance: 5%`` of the paper's value
    (returned in the metric's units, with the share)."""
    raw = c.raw("tolerance")
    text = raw.value if raw is not None and raw.kind == "scalar" else None
    match = _RELATIVE.match(text) if isinstance(text, str) else None
    if match is None:
        value = c.number(
            "tolerance",
            exclusive_minimum=0.0,
            meaning=" (tolerance is a distance from the paper value)",
        )
        return value, None
    share = float(match.group(1)) / 100.0
    if share <= 0:
        return c.bad("tolerance", "a relative tolerance must be above 0%", "write e.g. 5%"), None
    if not isinstance(paper, PaperValue) or paper.value == 0:
        return (
            c.bad(
                "tolerance",
                f"{str(text).strip()} is a share of the paper's value, and this claim "
                + ("gives none" if not isinstance(paper, PaperValue) else "gives 0"),
                "give paper: (non-zero), or write the tolerance in the metric's units: 0.01",
            ),
            None,
        )
    return share * abs(paper.value), share


__all__ = ["read_tolerance"]
