"""GitHub Actions keeps 10 error and 10 warning annotations per step and 1 MiB of its
summary: what pytest-repro writes for it fits, most severe first, and says what was left out."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_repro.report import writers
from pytest_repro.report.github import (
    ANNOTATIONS_PER_LEVEL,
    SEVERITY,
    SUMMARY_LIMIT,
    by_severity,
    github_annotations,
    summary_markdown,
    write_github,
)
from pytest_repro.results import ClaimResult
from pytest_repro.vocab import VERDICT_NAMES, meaning

LABELS = {
    "matched": "[matched within 1.0 pp]",
    "exceeded": "[exceeded by 2.0 pp]",
    "gap": "[gap of 2.0 pp, no hypothesis stated]",
    "disagreement": "[fundamental disagreement, see results.md#x]",
    "inconclusive": "[inconclusive: ~8 seeds would decide]",
    "error": "[error: acc never logged]",
    "skipped": "[not run]",
    "smoke": "[smoke ok]",
}


def result(i: int, verdict: str, **changes: object) -> ClaimResult:
    base = ClaimResult(
        paper_id="p1",
        paper_title="A paper",
        path="papers/p1/paper.yaml",
        id=f"c{i:05d}",
        line=10 + i,
        kind="absolute",
        text="accuracy reaches the paper's value",
        source="Table 1",
        metric="acc",
        at={"epoch": 5},
        verdict=verdict,  # type: ignore[arg-type]
        label=LABELS[verdict],
        paper=0.9,
        tolerance=0.01,
        unit="fraction",
        n=3,
        estimate=0.88,
        interval=(0.87, 0.89),
        confidence=0.9,
        delta=-0.02,
        method="student-t",
    )
    return replace(base, **changes)


def ids(lines: list[str]) -> list[str]:
    return [line.split("title=claim ", 1)[1].split("::", 1)[0] for line in lines]


# -- the order ----------------------------------------------------------------------------------
def test_severity_ranks_every_verdict_once_errors_before_warnings_before_the_rest() -> None:
    assert sorted(SEVERITY) == sorted(VERDICT_NAMES)
    levels = [meaning(v).github for v in SEVERITY]
    rank = {"error": 0, "warning": 1, None: 2}
    assert [rank[level] for level in levels] == sorted(rank[level] for level in levels)
    assert SEVERITY[:4] == ("disagreement", "gap", "error", "inconclusive")


def test_claims_are_ordered_most_severe_first_then_by_their_line() -> None:
    results = [
        result(0, "matched"),
        result(1, "inconclusive"),
        result(2, "gap"),
        result(3, "error"),
        result(4, "disagreement"),
        result(5, "gap"),
        result(6, "disagreement", expect="disagreement", hypothesis="known"),
    ]
    order = [r.id for r in by_severity(results)]
    assert order == ["c00004", "c00002", "c00005", "c00003", "c00001", "c00006", "c00000"]


# -- annotations --------------------------------------------------------------------------------
def test_twenty_five_failures_give_ten_errors_and_one_notice_for_the_other_fifteen() -> None:
    results = [result(i, "gap") for i in range(20)] + [
        result(i, "disagreement") for i in range(20, 25)
    ]
    lines = github_annotations(results)
    assert len(lines) == ANNOTATIONS_PER_LEVEL + 1
    errors, notice = lines[:-1], lines[-1]
    assert all(line.startswith("::error file=papers/p1/paper.yaml,line=") for line in errors)
    assert ids(errors) == [f"c{i:05d}" for i in (20, 21, 22, 23, 24, 0, 1, 2, 3, 4)]
    assert notice.startswith("::notice title=pytest-repro::and 15 more failing claims ")
    assert "every claim is in the step summary" in notice


def test_warnings_have_their_own_ten_and_the_notice_counts_both() -> None:
    results = [result(i, "inconclusive") for i in range(12)] + [
        result(i, "error") for i in range(12, 23)
    ]
    lines = github_annotations(results)
    assert [line.split(" ", 1)[0] for line in lines] == ["::error"] * 10 + ["::warning"] * 10 + [
        "::notice"
    ]
    assert "and 1 more failing claim and 2 more inconclusive claims not annotated" in lines[-1]


def test_no_notice_when_every_claim_fits_and_expected_verdicts_are_never_counted() -> None:
    results = [result(i, "gap") for i in range(10)] + [
        result(i, "gap", expect="gap", hypothesis="harder data") for i in range(10, 40)
    ]
    lines = github_annotations(results)
    assert len(lines) == 10
    assert not any(line.startswith("::notice") for line in lines)


def test_the_notice_is_one_workflow_command_whatever_the_counts() -> None:
    (line,) = github_annotations([result(0, "gap"), result(1, "gap")], per_level=1)[1:]
    assert line.count("::") == 2
    assert "\n" not in line


# -- the step summary ---------------------------------------------------------------------------
def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| `")]


def test_a_summary_that_fits_has_every_claim_most_severe_first_and_no_left_out_line() -> None:
    text = summary_markdown([result(0, "matched"), result(1, "gap"), result(2, "inconclusive")])
    rows = table_rows(text)
    assert [row.split("`")[1] for row in rows] == ["p1::c00001", "p1::c00002", "p1::c00000"]
    assert "3 claims: 1 matched, 1 gap, 1 inconclusive" in text
    assert "not shown" not in text


def test_a_summary_of_thousands_of_claims_stays_under_one_mib_and_says_how_many_are_left_out() -> (
    None
):
    label = "[gap of 2.0 pp, hypothesis: " + "a much harder dataset | <b>é</b> " * 12 + "]"
    results = [result(i, "matched", label=label) for i in range(3000)]
    results += [result(i, "disagreement") for i in range(3000, 3005)]
    text = summary_markdown(results)
    size = len(text.encode("utf-8"))
    assert size < SUMMARY_LIMIT
    assert size > SUMMARY_LIMIT - 2048  # cut close to the limit, not far below it
    rows = table_rows(text)
    assert all(row.endswith(" |") and row.count(" | ") == 3 for row in rows)  # whole rows only
    assert [row.split("`")[1] for row in rows[:5]] == [f"p1::c{i:05d}" for i in range(3000, 3005)]
    *_, blank, last = text.rstrip("\n").splitlines()
    assert last.startswith(f"_{3005 - len(rows)} of 3005 claims are not shown here")
    assert "results.md" in last and "artifacts" in last
    assert blank == ""  # the line is not a table row


def test_the_step_summary_file_stays_under_the_limit_with_what_was_there_before(
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step output\n" + "x" * 5000 + "\n")
    results = [result(i, "gap") for i in range(500)]
    write_github(summary, results, limit=20_000)
    text = summary.read_text()
    assert text.startswith("# earlier step output")
    assert len(text.encode("utf-8")) < 20_000
    assert "of 500 claims are not shown here" in text
    assert writers.write_github is write_github  # the reporter's entry point


def test_a_step_summary_already_full_is_left_as_it_was_with_a_reason(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 1000)
    with pytest.raises(OSError) as excinfo:
        write_github(summary, [result(0, "gap")], limit=1100)
    assert excinfo.value.errno == errno.EFBIG
    assert "already holds 1000 bytes" in str(excinfo.value)
    assert summary.read_text() == "x" * 1000
