"""``paper.yaml``: the schema (frozen dataclasses) and its line-aware loader.

The loader (PyYAML, packaging) is imported on first use, so worker processes in an
isolated paper environment can use the schema without those packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_repro.spec.claim_nodes import Claim, Variant
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import PaperSpec

if TYPE_CHECKING:
    from pytest_repro.spec.loader import load_spec, load_spec_text

__all__ = ["Claim", "Location", "PaperSpec", "Variant", "load_spec", "load_spec_text"]


def __getattr__(name: str) -> Any:
    if name in ("load_spec", "load_spec_text"):
        from pytest_repro.spec import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
