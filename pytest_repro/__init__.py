"""pytest-repro: ML paper reproductions as pytest tests.

Importing this package is cheap: torch, scipy and datasets load only when a run
or a statistic needs them. ``from pytest_repro import SanityKit`` loads the one small
module that defines it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_repro.sanity.kit import SanityKit

__version__ = "0.1.0"

__all__ = ["SanityKit", "__version__"]


def __getattr__(name: str) -> object:
    if name == "SanityKit":
        from pytest_repro.sanity.kit import SanityKit

        return SanityKit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
