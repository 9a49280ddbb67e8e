"""A paper.yaml that could not be read, as the reports carry it.

The collector turns a malformed spec into a failing item; its problems reach the
controller on the test report and the JSON document lists the file with them (and no
claims), so a consumer sees the broken paper rather than nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecProblems:
    """The problems of one paper.yaml: ``path`` as shown to the user, one message each
    (``papers/x/paper.yaml:14: claims[0].tolerance: ...``)."""

    path: str
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The paper entry of the JSON document: no id, title or claims, its problems."""
        return {
            "id": None,
            "title": None,
            "path": self.path,
            "problems": list(self.problems),
            "claims": [],
        }
