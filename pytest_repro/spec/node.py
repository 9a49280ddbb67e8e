"""What every node of a parsed ``paper.yaml`` shares.

A node keeps the :class:`Location` it was written at, so any later error can point at
the line of YAML that asked for it; :data:`JSON` is the type of the values a node holds
as written (configs, data args, overrides). Only the standard library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: A value that survives a JSON round trip (what configs and data args hold).
JSON = Any


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node was written: the file as shown to the user and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


__all__ = ["JSON", "Location"]
