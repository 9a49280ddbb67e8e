"""The package surface: public names, cheap plugin import, examples in docstrings."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_repro.stats as stats

MODULES = [
    "pytest_repro.stats.adaptive",
    "pytest_repro.stats.bootstrap",
    "pytest_repro.stats.intervals",
    "pytest_repro.stats.model",
    "pytest_repro.stats.verdicts",
]


def test_every_public_name_exists() -> None:
    for name in stats.__all__:
        assert hasattr(stats, name), name


def test_importing_the_plugin_package_does_not_import_scipy() -> None:
    root = Path(__file__).resolve().parents[2]
    code = "import sys, pytest_repro; print('scipy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), verbose=False)
    assert result.failed == 0
