"""Every paper.yaml key and every ``--repro-*`` option is documented: an undocumented key
does not exist for a user."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.config import OPTIONS
from pytest_repro.spec import keys

DOCS = Path(__file__).resolve().parents[2] / "docs"
TABLES = sorted(name for name in dir(keys) if name.endswith("_KEYS"))


@pytest.mark.parametrize("table", TABLES)
def test_every_key_of_the_spec_is_in_the_paper_yaml_reference(table: str) -> None:
    text = (DOCS / "paper-yaml.md").read_text(encoding="utf-8")
    missing = [k for k in getattr(keys, table) if f"`{k}`" not in text and f"{k}:" not in text]
    assert missing == [], f"{table}: document {missing} in docs/paper-yaml.md"


def test_every_option_is_in_the_usage_page() -> None:
    text = (DOCS / "usage.md").read_text(encoding="utf-8")
    missing = [o.name for o in OPTIONS if f"--repro-{o.name}" not in text]
    assert missing == [], f"document --repro-{missing} in docs/usage.md"
