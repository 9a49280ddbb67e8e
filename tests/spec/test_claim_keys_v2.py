"""Claim keys for failed seeds, deterministic runs and how the paper's ci95 was computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.spec import load_spec_text

HEAD = """\
paper: {id: p1, title: T}
run: {entrypoint: train:run, config: {lr: 0.01}}
variants:
  b: {lr: 0.1}
claims:
  - id: acc
    text: t
    source: s
    metric: acc
    at: {epoch: 5}
    tolerance: 0.01
"""


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "papers" / "p1").mkdir(parents=True)
    (tmp_path / "papers" / "p1" / "train.py").write_text("def run(ctx):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load_text(text: str) -> object:
    return load_spec_text(text, path=Path("papers/p1/paper.yaml").resolve())


def load(extra: str, paper: str = "    paper: 0.9\n") -> object:
    return load_text(HEAD + paper + extra)


def problems(extra: str, paper: str = "    paper: 0.9\n") -> str:
    with pytest.raises(SpecError) as info:
        load(extra, paper)
    return str(info.value)


def test_the_keys_reach_the_claim_and_the_paper_value() -> None:
    spec = load(
        "    failed_below: 0.5\n    about: successful\n",
        paper="    paper: {value: 0.9, ci95: {value: 0.01, method: normal}, seeds: 5}\n",
    )
    (claim,) = spec.claims  # type: ignore[attr-defined]
    assert (claim.failed_below, claim.about, claim.deterministic) == (0.5, "successful", False)
    assert (claim.paper.spread, claim.paper.spread_kind, claim.paper.ci_method) == (
        0.01,
        "ci95",
        "normal",
    )
    spec = load("    deterministic: true\n    test_examples: 10000\n    unit: fraction\n")
    (claim,) = spec.claims  # type: ignore[attr-defined]
    assert (claim.deterministic, claim.test_examples, claim.about) == (True, 10000, "mean")
    assert claim.paper.ci_method == "t"  # a plain ci95 keeps its meaning


def test_an_unknown_about_names_its_line_and_the_choices() -> None:
    text = problems("    about: best\n")
    assert "paper.yaml:13" in text and "about" in text
    assert "mean" in text and "successful" in text


def test_test_examples_without_deterministic_is_refused_with_the_fix() -> None:
    text = problems("    test_examples: 500\n")
    assert "paper.yaml:13" in text
    assert "add deterministic: true, or remove test_examples" in text


def test_a_ci95_method_other_than_t_or_normal_names_the_field() -> None:
    text = problems(
        "", paper="    paper: {value: 0.9, ci95: {value: 0.01, method: bootstrap}, seeds: 5}\n"
    )
    assert "paper.yaml:12" in text and "method" in text and "normal" in text


def test_failed_seeds_are_for_absolute_claims_only() -> None:
    comparative = HEAD.replace("    tolerance: 0.01\n", "") + (
        "    compare: {a: b, b: default}\n    failed_below: 0.5\n"
    )
    with pytest.raises(SpecError) as info:
        load_text(comparative)
    assert "failed and skewed seeds are handled for absolute claims only" in str(info.value)


def test_test_examples_need_a_share_in_zero_to_one() -> None:
    text = problems("    deterministic: true\n    test_examples: 500\n    unit: percent\n")
    assert "the binomial error of N test examples is for a share in [0, 1]" in text
