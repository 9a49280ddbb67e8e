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
    # Import the loader by its full name, never as ``from pytest_repro.spec import loader``:
    # that form takes this package's ``loader`` attribute whenever one is set, even if the
    # module was since dropped from ``sys.modules`` (pytester does so after each in-process
    # run, while this package, imported earlier, stays). The full name always gives the
    # copy in ``sys.modules``, the one every other module of the session uses; a dropped
    # copy holds classes of its own (``YNode``), and its ``isinstance`` checks would reject
    # every node parsed by the current ones.
    if name == "load_spec":
        from pytest_repro.spec.loader import load_spec

        return load_spec
    if name == "load_spec_text":
        from pytest_repro.spec.loader import load_spec_text

        return load_spec_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
