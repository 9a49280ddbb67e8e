"""``paper.yaml``: the schema (frozen dataclasses) and its line-aware loader."""

from __future__ import annotations

from pytest_repro.spec.loader import load_spec, load_spec_text
from pytest_repro.spec.schema import Claim, Location, PaperSpec, Variant

__all__ = ["Claim", "Location", "PaperSpec", "Variant", "load_spec", "load_spec_text"]
