"""The package surface: a light plugin import, examples in docstrings."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "pytest_repro.stats.absolute",
    "pytest_repro.stats.adaptive",
    "pytest_repro.stats.bootstrap",
    "pytest_repro.stats.comparative",
    "pytest_repro.stats.intervals",
    "pytest_repro.stats.model",
    "pytest_repro.stats.questions",
]

_HEAVY = (
    "import sys, pytest_repro.plugin\n"
    "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy')"
    " or m == 'pytest_repro.stats' or m.startswith('pytest_repro.stats.'))\n"
    "print(' '.join(heavy))"
)


def test_importing_the_plugin_imports_neither_numpy_nor_scipy_nor_the_statistics() -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _HEAVY], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == []


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), verbose=False)
    assert result.failed == 0
