"""Loading the plugin costs nearly nothing: pytest starts as fast in projects without papers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Every package module importing the plugin may load: the option table, the vocabulary
#: and the stash keys. The spec loader, the run machinery and the statistics are not here.
AT_IMPORT = {
    "pytest_repro",
    "pytest_repro.config",
    "pytest_repro.keys",
    "pytest_repro.options",
    "pytest_repro.plugin",
    "pytest_repro.vocab",
}
NEVER_AT_IMPORT = ("yaml", "packaging", "numpy", "scipy", "filelock", "psutil", "torch")


def _loaded_after(code: str) -> dict[str, list[str]]:
    probe = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps({'repro': sorted(m for m in sys.modules if m.startswith('pytest_repro')),"
        " 'all': sorted(sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT
    )
    loaded: dict[str, list[str]] = json.loads(out.stdout.splitlines()[-1])
    return loaded


def test_importing_the_plugin_loads_only_options_vocabulary_and_keys() -> None:
    loaded = _loaded_after("import pytest_repro.plugin")
    assert set(loaded["repro"]) == AT_IMPORT
    heavy = [m for m in loaded["all"] if m.split(".")[0] in NEVER_AT_IMPORT]
    assert heavy == []


def test_a_session_without_papers_never_loads_the_spec_or_run_machinery(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('pytest_repro'))\n"
        "    print('LOADED', ' '.join(loaded))\n"
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:html")
    result.assert_outcomes(passed=1)
    line = next(ln for ln in result.outlines if "LOADED" in ln)
    loaded = set(line.split("LOADED", 1)[1].split())
    assert "pytest_repro.plugin" in loaded
    for heavy in ("spec", "execution", "stats", "ledger", "evaluate", "data", "environment"):
        assert not any(m.startswith(f"pytest_repro.{heavy}") for m in loaded), (heavy, loaded)
