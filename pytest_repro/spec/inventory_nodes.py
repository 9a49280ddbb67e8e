"""The ``inventory:`` nodes of a parsed ``paper.yaml``: what exists besides the paper.

:class:`Inventory` lists releases of the paper's code (:class:`CodeRelease`, the authors'
or another's), released weights (:class:`Checkpoint`) and what is missing.
``spec.inventory_section`` builds these; ``extract.inventory_md`` writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_repro.spec.node import Location


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeRelease:
    """``inventory.code[i]``: a release of the paper's code, the authors' or another's.

    ``upstream`` names the ``upstream:`` entry that runs this code, where one does.
    """

    url: str
    commit: str | None = None
    license: str | None = None
    official: bool = True
    upstream: str | None = None
    notes: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """``inventory.checkpoints[i]``: released weights."""

    name: str
    url: str | None = None
    sha256: str | None = None
    notes: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """``inventory:``: what exists besides the paper (code, checkpoints) and what is missing."""

    code: tuple[CodeRelease, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    missing: tuple[str, ...] = ()
    notes: str | None = None
    loc: Location


__all__ = ["Checkpoint", "CodeRelease", "Inventory"]
