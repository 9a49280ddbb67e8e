"""The report model and its formatters: one set of facts per claim, one writer of results.md."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.config import ReproConfig
from pytest_repro.report import html, markdown, terminal, writers
from pytest_repro.report.model import claim_view, verdict_counts
from pytest_repro.report.problems import SpecProblems
from pytest_repro.results import ClaimResult
from pytest_repro.spec import load_spec
from pytest_repro.vocab import SUMMARY_ORDER, VERDICTS

SPEC = """\
paper:
  id: "p1"
  title: A paper for tests
run:
  entrypoint: train:run
  config:
    base: 0.9
claims:
  - id: acc
    text: accuracy reaches the paper's value
    source: Table 1
    metric: acc
    at: {epoch: 5}
    paper: 0.9
    tolerance: 0.01
    unit: fraction
  - id: gap
    text: a second claim
    source: Table 2
    metric: acc
    at: {epoch: 5}
    paper: 0.9
    tolerance: 0.01
    unit: fraction
"""


def result(**changes: Any) -> ClaimResult:
    base = ClaimResult(
        paper_id="p1",
        paper_title="A paper for tests",
        path="papers/p1/paper.yaml",
        id="acc",
        line=14,
        kind="absolute",
        text="accuracy reaches the paper's value",
        source="Table 1",
        metric="acc",
        at={"epoch": 5},
        verdict="gap",
        label="[gap of 2.0 pp, no hypothesis stated]",
        paper=0.9,
        tolerance=0.01,
        unit="fraction",
        n=3,
        seeds=(0, 1, 2),
        values=(0.879, 0.88, 0.881),
        estimate=0.88,
        interval=(0.878, 0.882),
        confidence=0.9,
        shown_interval=(0.877, 0.883),
        shown_confidence=0.95,
        delta=-0.02,
        method="student-t",
        runs=("r0", "r1", "r2"),
    )
    return replace(base, **changes)


def comparative(**changes: Any) -> ClaimResult:
    return result(
        kind="comparative",
        variants=("wide", "narrow"),
        values=(0.01, 0.02, 0.03),
        values_a=(0.9, 0.91, 0.92),
        values_b=(0.89, 0.89, 0.89),
        estimate=0.02,
        interval=(0.01, 0.03),
        shown_interval=(0.005, 0.035),
        paper=None,
        margin=0.01,
        delta=0.01,
        **changes,
    )


def test_the_view_holds_every_fact_in_the_claims_units() -> None:
    v = claim_view(result(adaptive={"used": 5, "max": 10, "stages": [3, 5], "saved": 5}))
    assert (v.name, v.where, v.at) == ("p1::acc", "papers/p1/paper.yaml:14", "epoch 5")
    assert (v.paper, v.tolerance, v.measured) == ("90.0%", "±1.0 pp", "88.0% 90% CI [87.8%, 88.2%]")
    assert (v.interval_level, v.interval, v.method) == ("95%", "[87.7%, 88.3%]", "student-t")
    assert v.per_seed_text == "0: 87.9%, 1: 88.0%, 2: 88.1%"
    assert (v.delta, v.delta_size, v.delta_reference) == ("-2.0 pp", "2.0 pp", "")
    assert v.adaptive is not None
    assert v.adaptive.text == "5 of up to 10 (adaptive stages [3, 5])"
    assert v.meaning is VERDICTS["gap"]
    assert v.config == "defaults"
    assert v.arms is None


def test_a_comparative_view_names_its_arms_and_what_its_delta_is_measured_from() -> None:
    v = claim_view(comparative())
    assert v.arms == ("wide", "narrow")
    assert v.paper == "A higher than B by ≥ 1.0 pp"
    assert v.per_seed_what == "Improvement of A over B per seed"
    assert v.per_seed_text == "0: +1.0 pp, 1: +2.0 pp, 2: +3.0 pp"
    # the measured difference with the margin beside it, not improvement minus margin
    assert v.delta_text == "+2.0 pp (margin 1.0 pp)"


def test_only_an_undecided_claim_says_how_to_add_seeds_that_stay_valid() -> None:
    assert claim_view(result(verdict="inconclusive", seeds_needed=12)).seeds_needed == (
        "to add seeds, decide with interval: anytime, a confidence sequence that stays valid "
        "after every added seed; with 4 seeds it decides this claim 80% of the time if the paper "
        "is right (observed sd 0.1 pp)"
    )
    assert claim_view(result(seeds_needed=12)).seeds_needed == ""


def test_the_failure_block_prints_paper_versus_measured_rerun_and_the_vocab_remedy() -> None:
    block = terminal.claim_block(
        result(notes=("an outlier",), substitutions=({"original": "a", "used": "b", "why": "c"},)),
        rerun="pytest 'papers/p1/paper.yaml::acc'",
    )
    assert block.splitlines() == [
        "papers/p1/paper.yaml:14: claim acc",
        "  accuracy reaches the paper's value (Table 1)",
        "  paper      90.0%   tolerance ±1.0 pp   (acc at epoch 5)",
        "  measured   88.0% 90% CI [87.8%, 88.2%]",
        "             95% CI [87.7%, 88.3%]   student-t",
        "             n=3 (0: 87.9%, 1: 88.0%, 2: 88.1%)",
        "  delta      -2.0 pp",
        "  verdict    [gap of 2.0 pp, no hypothesis stated]",  # decided: no anytime line
        "  note       an outlier",
        "  substitute a -> b (c)",
        "  runs       r0, r1, r2",
        "",
        "rerun: pytest 'papers/p1/paper.yaml::acc'",
        f"fix: {VERDICTS['gap'].remedy}",
    ]


@pytest.mark.parametrize("verdict", ["matched", "exceeded", "skipped", "smoke"])
def test_a_verdict_without_a_remedy_ends_the_block_with_the_rerun_line(verdict: str) -> None:
    block = terminal.claim_block(result(verdict=verdict), rerun="pytest x")
    assert block.splitlines()[-1] == "rerun: pytest x"


def test_an_error_block_shows_the_run_output_instead_of_numbers() -> None:
    block = terminal.claim_block(
        result(verdict="error", error="seed 1 failed\nTraceback ...", label="[error: x]"),
        rerun="pytest x",
    )
    lines = block.splitlines()
    assert "  paper      90.0%" not in block
    assert lines[3:6] == ["", "  seed 1 failed", "  Traceback ..."]
    assert lines[-1] == f"fix: {VERDICTS['error'].remedy}"


def test_the_summary_counts_verdicts_in_the_vocab_order() -> None:
    results = [result(verdict=v, id=v) for v in reversed(SUMMARY_ORDER)] + [result(id="again")]
    table = terminal.summary_table(results)
    assert table[0].split() == [
        "claim",
        "paper",
        "measured",
        "(decision",
        "interval)",
        "delta",
        "n",
        "verdict",
    ]
    assert table[-1] == verdict_counts(results)
    assert table[-1].split(", ")[:3] == ["1 matched", "1 exceeded", "2 gap"]


def test_markdown_details_and_the_html_panel_use_the_terminal_words() -> None:
    r = result(verdict="inconclusive", seeds_needed=12, label="[inconclusive]")
    details = "\n".join(markdown.claim_details(claim_view(r), {}))
    assert "- Delta: -2.0 pp." in details
    assert "- 95% CI: [87.7%, 88.3%] (student-t)." in details
    assert "- Per seed (n=3): seed 0: 87.9%, seed 1: 88.0%, seed 2: 88.1%." in details
    assert "- To add seeds, decide with interval: anytime, a confidence sequence" in details
    assert "- Anytime check (valid however often seeds are added): " in details
    panel = html.panel(r)
    for word in ("Paper", "Measured", "95% CI", "Per seed", "Delta", "Verdict"):
        assert f">{word}</th>" in panel
    assert "with 4 seeds it decides this claim 80% of the time" in panel
    assert ">Anytime</th>" in panel
    assert VERDICTS["inconclusive"].colour in panel


def test_the_gaps_section_names_a_disagreement_in_the_vocab_prose(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    text = markdown.render(
        spec,
        [
            result(verdict="disagreement", hypothesis="harder data", expect="disagreement"),
            result(id="gap"),
        ],
        {},
        version="0",
        settings="s",
    )
    assert "- **acc** — fundamental disagreement of 2.0 pp (expected): harder data" in text
    assert "- **gap** — gap of 2.0 pp: *no hypothesis stated yet*" in text


def test_the_html_extra_is_pytest_htmls_own() -> None:
    extras = pytest.importorskip("pytest_html.extras")
    extra = html.claim_extra(result())
    assert extra == extras.html(html.panel(result()))


def test_annotations_take_their_level_from_the_vocab_and_skip_expected_verdicts() -> None:
    lines = writers.github_annotations(
        [
            result(id="a", verdict="matched"),
            result(id="b", verdict="inconclusive", label="[inconclusive: 100% sure]"),
            result(id="c", verdict="gap", expect="gap"),
            result(id="d", verdict="error", label="[error: x]"),
        ]
    )
    assert lines == [  # the most severe first: an error before an undecided claim
        "::error file=papers/p1/paper.yaml,line=14,title=claim d::[error: x]",
        "::warning file=papers/p1/paper.yaml,line=14,title=claim b::[inconclusive: 100%25 sure]",
    ]


def _spec(tmp_path: Path) -> Any:
    folder = tmp_path / "papers" / "p1"
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(SPEC)
    (folder / "train.py").write_text("def run(ctx):\n    pass\n")
    return load_spec(folder / "paper.yaml", display="papers/p1/paper.yaml")


def test_the_writer_writes_a_paper_whose_claims_all_have_results(tmp_path: Path) -> None:
    _spec(tmp_path)
    cfg = ReproConfig(rootdir=tmp_path)
    written, notes = writers.write_results_md(
        cfg, None, [result(verdict="matched", label="[matched]"), result(id="gap")]
    )
    assert written == [tmp_path / "papers" / "p1" / "results.md"]
    assert notes == []
    text = written[0].read_text()
    assert "| [acc](#acc) | Table 1 | acc @ epoch 5 | 90.0% |" in text
    assert '<a id="gap"></a>' in text


def test_the_writer_refuses_a_partial_report_and_says_which_claims_lack_a_result(
    tmp_path: Path,
) -> None:
    _spec(tmp_path)
    cfg = ReproConfig(rootdir=tmp_path)
    written, notes = writers.write_results_md(cfg, None, [result(verdict="matched")])
    assert written == []
    assert len(notes) == 1
    assert notes[0].endswith(
        "results.md not written: no result for gap (run them: pytest papers/p1/paper.yaml)"
    )
    assert not (tmp_path / "papers" / "p1" / "results.md").exists()


def test_the_writer_notes_a_paper_whose_spec_no_longer_reads(tmp_path: Path) -> None:
    cfg = ReproConfig(rootdir=tmp_path)
    written, notes = writers.write_results_md(cfg, None, [result()])
    assert written == []
    assert notes[0].startswith("repro: results.md of papers/p1/paper.yaml not written: ")


def test_a_spec_that_could_not_be_read_is_a_paper_with_problems_in_the_json(
    tmp_path: Path,
) -> None:
    problems = SpecProblems(path="papers/bad/paper.yaml", problems=("line 3: bad", "line 4: worse"))
    writers.write_json(tmp_path / "out.json", [result()], None, [problems])
    papers = json.loads((tmp_path / "out.json").read_text())["papers"]
    assert papers[1] == {
        "id": None,
        "title": None,
        "path": "papers/bad/paper.yaml",
        "problems": ["line 3: bad", "line 4: worse"],
        "claims": [],
    }
    assert [c["id"] for c in papers[0]["claims"]] == ["acc"]
    assert [r.to_json() for r in writers.read_json(tmp_path / "out.json")] == [result().to_json()]


def test_the_anytime_check_is_shown_only_where_adding_seeds_is_the_question() -> None:
    undecided = claim_view(result(verdict="inconclusive")).anytime
    assert undecided.startswith("anytime check (valid however often seeds are added): ")
    assert claim_view(result(verdict="matched")).anytime == ""
    assert claim_view(result(verdict="gap")).anytime == ""
    # a claim decided with interval: anytime already reads the sequence as its verdict
    assert (
        claim_view(result(verdict="inconclusive", method="anytime confidence sequence")).anytime
        == ""
    )
