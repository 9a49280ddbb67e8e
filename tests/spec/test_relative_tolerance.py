"""``tolerance: 5%``: a tolerance as a share of the paper's value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.spec import load_spec_text

HEAD = """\
paper: {id: p1, title: T}
run: {entrypoint: train:run}
claims:
  - id: acc
    text: t
    source: s
    metric: acc
    at: {epoch: 5}
"""


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "papers" / "p1").mkdir(parents=True)
    (tmp_path / "papers" / "p1" / "train.py").write_text("def run(ctx):\n    pass\n")
    monkeypatch.chdir(tmp_path)


def load(extra: str) -> object:
    return load_spec_text(HEAD + extra, path=Path("papers/p1/paper.yaml").resolve())


@pytest.mark.parametrize(("text", "paper", "share"), [("5%", 0.9, 0.05), ("2.5 %", -40.0, 0.025)])
def test_a_share_of_the_paper_becomes_a_tolerance_in_the_metrics_units(
    text: str, paper: float, share: float
) -> None:
    (claim,) = load(f"    paper: {paper}\n    tolerance: {text}\n").claims  # type: ignore[attr-defined]
    assert claim.tolerance_relative == share
    assert claim.tolerance == pytest.approx(share * abs(paper))


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("    paper: 0.0\n    tolerance: 5%\n", "gives 0"),
        ("    paper: 0.9\n    tolerance: 0%\n", "must be above 0%"),
        ("    paper: 0.9\n    tolerance: 5 pp\n", "a share of the paper's value: 5%"),
    ],
)
def test_a_relative_tolerance_that_cannot_work_names_its_line(extra: str, says: str) -> None:
    with pytest.raises(SpecError) as info:
        load(extra)
    assert "paper.yaml:10" in str(info.value) and says in str(info.value)
