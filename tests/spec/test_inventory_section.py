"""``inventory:`` is validated like every other block: each mistake at its line, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.spec.loader import load_spec_text

BASE = """\
paper: {id: p, title: T}
upstream:
  authors: {package: numpy, version: "2.0.0"}
run: {command: [python, x.py, "{seed}"], metrics: {jsonl: "{run_dir}/m.jsonl"}}
claims:
  - {id: a, text: t, source: Table 1, metric: acc, at: {epoch: 1}, paper: 0.9, tolerance: 0.01}
"""


def load(inventory: str, tmp_path: Path) -> object:
    (tmp_path / "x.py").write_text("")
    return load_spec_text(BASE + inventory, path=tmp_path / "paper.yaml", display="paper.yaml")


def test_a_full_inventory_is_read_with_its_link_to_upstream(tmp_path: Path) -> None:
    spec = load(
        "inventory:\n"
        "  code:\n"
        "    - {url: https://github.com/e/x, commit: 1b6e2f3, license: MIT, upstream: authors}\n"
        "    - {url: https://github.com/o/port, official: false}\n"
        f"  checkpoints: [{{name: c, sha256: {'a' * 64}}}]\n"
        "  missing: [the ablation script]\n",
        tmp_path,
    )
    inventory = spec.inventory  # type: ignore[attr-defined]
    assert [c.upstream for c in inventory.code] == ["authors", None]
    assert [c.official for c in inventory.code] == [True, False]
    assert inventory.checkpoints[0].sha256 == "a" * 64
    assert inventory.missing == ("the ablation script",)
    assert inventory.loc.line == 7


def test_a_single_code_mapping_is_a_list_of_one(tmp_path: Path) -> None:
    spec = load("inventory:\n  code: {url: https://github.com/e/x}\n", tmp_path)
    assert [c.url for c in spec.inventory.code] == ["https://github.com/e/x"]  # type: ignore[attr-defined]


def test_a_spec_without_inventory_has_none(tmp_path: Path) -> None:
    assert load("", tmp_path).inventory is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        (
            "inventory:\n  code: [{url: u, upstream: author}]\n",
            "paper.yaml:8: inventory.code[0].upstream: no upstream entry 'author' (did you mean 'authors'?)",
        ),
        (
            "inventory:\n  code: [{url: u, commit: HEAD}]\n",
            "inventory.code[0].commit: 'HEAD' is not a git commit",
        ),
        (
            "inventory:\n  code: [{license: MIT}]\n",
            "inventory.code[0].url: is required but missing",
        ),
        (
            "inventory:\n  checkpoints: [{name: c, sha256: abc}]\n",
            "inventory.checkpoints[0].sha256: is not a SHA-256 digest",
        ),
        ("inventory:\n  mising: [x]\n", "inventory.mising: unknown key (did you mean 'missing'?)"),
        ("inventory:\n  code: 3\n", "inventory.code: must be a list of mappings"),
        ("inventory: [a]\n", "inventory: must be a mapping"),
    ],
)
def test_each_mistake_is_named_at_its_line(inventory: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load(inventory, tmp_path)
    assert expected in str(caught.value)
