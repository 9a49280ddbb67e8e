"""The paper-level view: power if the paper is right, and gap flags after Holm or BH."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pytest_repro.errors import ReproError
from pytest_repro.report import html, markdown, terminal
from pytest_repro.report.paper_level import multiplicity_lines, paper_lines, power_lines
from pytest_repro.results import ClaimResult
from pytest_repro.spec.loader import load_spec_text

SPEC = """\
paper:
  id: "p1"
  title: A paper for tests
  {extra}
run:
  entrypoint: train:run
claims:
  - id: acc
    text: accuracy reaches the paper's value
    source: Table 1
    metric: acc
    at: {{epoch: 5}}
    paper: 0.9
    tolerance: 0.01
"""


def result(
    cid: str, values: tuple[float, ...], verdict: str = "gap", **more: object
) -> ClaimResult:
    base = ClaimResult(
        paper_id="p1",
        paper_title="t",
        path="papers/p1/paper.yaml",
        id=cid,
        line=1,
        kind="absolute",
        text="t",
        source="s",
        metric="acc",
        at={"epoch": 5},
        verdict=verdict,  # type: ignore[arg-type]
        label=f"[{verdict}]",
        paper=0.9,
        tolerance=0.01,
        n=len(values),
        values=values,
        seeds=tuple(range(len(values))),
    )
    return replace(base, **more)  # type: ignore[arg-type]


def test_multiplicity_is_read_under_paper_and_defaults_to_holm(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("def run(ctx):\n    pass\n")
    spec = load_spec_text(SPEC.format(extra="multiplicity: bh"), path=tmp_path / "paper.yaml")
    assert spec.paper.multiplicity == "bh"
    spec = load_spec_text(SPEC.format(extra=""), path=tmp_path / "paper.yaml")
    assert spec.paper.multiplicity == "holm"


def test_an_unknown_multiplicity_is_refused_naming_the_choices(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("def run(ctx):\n    pass\n")
    with pytest.raises(ReproError, match="holm, bh, none"):
        load_spec_text(SPEC.format(extra="multiplicity: bonferroni"), path=tmp_path / "paper.yaml")


def test_a_clear_gap_holds_after_holm_and_a_marginal_one_does_not() -> None:
    results = [
        result("clear", (0.85, 0.851, 0.849, 0.85)),
        result("marginal", (0.885, 0.884, 0.8865)),
        *(result(f"ok{i}", (0.9, 0.901, 0.899), verdict="matched") for i in range(4)),
    ]
    lines = multiplicity_lines(results)
    assert lines[0] == "paper p1: gap and disagreement flags after Holm over 6 claims"
    assert lines[1].startswith("  p1::clear: gap, holds after Holm over 6 claims (p ")
    assert lines[2].startswith("  p1::marginal: gap, not significant after Holm over 6 claims")


def test_multiplicity_none_adds_no_line_and_bh_names_itself() -> None:
    clear = result("clear", (0.85, 0.851, 0.849, 0.85))
    assert multiplicity_lines([replace(clear, multiplicity="none")]) == []
    assert "Benjamini-Hochberg" in multiplicity_lines([replace(clear, multiplicity="bh")])[0]


def test_the_power_lines_give_each_claim_and_the_whole_paper() -> None:
    lines = power_lines([result("a", (0.9, 0.905, 0.895), verdict="matched")])
    assert (
        lines[0] == "paper p1: the chance each claim is matched at its seeds if the paper is right"
    )
    assert lines[1].startswith("  p1::a: matched ")
    assert lines[-1].startswith("  if the paper is right, all 1 claims are matched at these seeds")


def test_every_output_shows_the_paper_level_view_escaped() -> None:
    hostile = result("x<b>|`*", (0.85, 0.851, 0.849, 0.85))
    text = "\n".join(line for line, _ in terminal.summary_rows([hostile]))
    assert "paper p1: gap and disagreement flags after Holm over 1 claims" in text
    assert "<b>" not in html.summary_html([hostile])
    assert any("Paper-level view" in line for line in markdown._paper_level([hostile]))
    assert all("\x1b" not in line for line in paper_lines([hostile]))
