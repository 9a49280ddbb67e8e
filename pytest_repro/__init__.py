"""pytest-repro: ML paper reproductions as pytest tests.

Importing this package is cheap: torch, scipy and datasets load only when a run
or a statistic needs them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
