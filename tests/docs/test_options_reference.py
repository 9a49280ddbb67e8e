"""docs/options.md is generated from the plugin and names every option pytest lists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pytest_repro import docs_options
from pytest_repro.config import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "options.md"
REGENERATE = "python -m pytest_repro.docs_options docs/options.md"


def test_the_committed_options_page_is_what_the_generator_writes_today() -> None:
    assert PAGE.read_text(encoding="utf-8") == docs_options.render(), (
        f"docs/options.md is out of date with pytest_repro/config.py: run {REGENERATE}"
    )


def test_every_repro_flag_and_ini_key_in_pytest_help_is_on_the_page(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    flags = set(re.findall(r"--repro-[a-z][a-z-]*[a-z]", result.stdout))
    inis = set(re.findall(r"^\s+(repro_[a-z_]+)\s", result.stdout, flags=re.MULTILINE))
    assert len(flags) >= len(OPTIONS)
    assert "repro_files" in inis
    page = PAGE.read_text(encoding="utf-8")
    missing = sorted(n for n in flags | inis if f"`{n}" not in page)
    assert missing == [], f"pytest --help lists {missing}, which docs/options.md does not"


def test_every_option_has_a_default_and_an_environment_variable_on_the_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for opt in OPTIONS:
        row = next(line for line in page.splitlines() if line.startswith(f"| `--repro-{opt.name}"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[2].startswith("`PYTEST_REPRO_"), row
        assert cells[3], row
        assert docs_options.default_of(opt.name) == cells[3]


def test_the_plugin_never_imports_the_generator() -> None:
    probe = "import sys, pytest_repro.plugin; print('pytest_repro.docs_options' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def test_the_usage_page_links_the_options_reference() -> None:
    assert "(options.md)" in (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
