"""A session never loses a report, and no text from a spec or a run escapes its report.

One odd character (a lone surrogate from ``os.fsdecode``) in a run's error, a folder that
cannot be written, or ``--repro-json`` naming a folder used to cost the whole session its
verdict table, JSON document and the results.md of every later paper. Now each report is
written on its own, a failure is one line naming the file, what failed and the fix, and an
existing complete results.md is never replaced by one with errors.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # noqa: F401  # loaded once here: pytester would otherwise re-import it per run

from pytest_repro.report import writers

from .conftest import HEADER, MakePaper, claim
from .test_report_escaping import gfm_cells, outside_code_blocks, unescaped

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

#: A run that fails on a file name that is not valid UTF-8, as ``os.fsdecode`` gives it.
SURROGATE_TRAIN = """\
import os

def run(ctx):
    raise RuntimeError("cannot read " + os.fsdecode(b"train-\\xff.csv"))
"""

#: Every way a text has broken a report: a tag, table pipes, a forged workflow command,
#: a terminal escape, a link to script.
PAYLOAD = "</td><script>x</script> | a | \n::error file=evil.py,line=1::x \x1b[2J [l](javascript:x)"


def lone_surrogates(text: str) -> list[str]:
    return re.findall("[\ud800-\udfff]", text)


def strict_utf8(path: Path) -> str:
    """The file's text, which must be valid UTF-8 (no lone surrogate can be encoded)."""
    text = path.read_bytes().decode("utf-8")
    assert lone_surrogates(text) == []
    return text


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar."""
    return json.dumps(text)


# -- nothing is lost ----------------------------------------------------------------------
def test_a_run_error_with_a_lone_surrogate_costs_no_report(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    first = make_paper("p1", train=SURROGATE_TRAIN)
    second = make_paper("p2")
    result = pytester.runpytest("--repro-json=out.json", *FAST)
    result.assert_outcomes(failed=1, passed=1)
    out = result.stdout.str()
    assert "INTERNALERROR" not in out
    assert lone_surrogates(out) == []
    assert "failed: RuntimeError: cannot read train-\\udcff.csv" in out
    result.stdout.fnmatch_lines(
        [
            "*reproduction verdicts*",
            "p1::acc *[[]error: 3 of 3 runs were not ok (failed)[]]",
            "p2::acc *[[]matched within 1.0 pp[]]",
            "repro: wrote papers/p1/results.md",
            "repro: wrote papers/p2/results.md",
            "repro: wrote */out.json",
        ]
    )
    assert "cannot read train-\\udcff.csv" in strict_utf8(first / "results.md")
    assert "[matched within 1.0 pp]" in strict_utf8(second / "results.md")
    document = json.loads(strict_utf8(pytester.path / "out.json"))
    error = document["papers"][0]["claims"][0]["error"]
    assert "cannot read train-\\udcff.csv" in error  # the escape, not an invalid character


def test_a_complete_results_md_is_not_replaced_by_a_session_whose_runs_cannot_start(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper("p1")
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    complete = (folder / "results.md").read_text()
    assert "[matched within 1.0 pp]" in complete
    (pytester.path / "readonly").write_text("a file where a folder should be")
    result = pytester.runpytest("--repro-dir=readonly", "--repro-cache=off", *FAST)
    result.assert_outcomes(failed=1)
    assert (folder / "results.md").read_text() == complete
    result.stdout.fnmatch_lines(
        ["repro: */papers/p1/results.md kept: acc ended in an error, *(fix the error and rerun*"]
    )


def test_repro_json_naming_a_folder_is_a_usage_error_before_anything_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper("p1")
    (pytester.path / "out").mkdir()
    result = pytester.runpytest("--repro-json=out", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --repro-json=*out: is a folder; *--repro-json=*repro.json"]
    )
    assert not (folder / "calls.log").exists()


def test_repro_json_in_a_folder_that_cannot_be_created_is_one_line_and_the_rest_is_written(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper("p1")
    (pytester.path / "blocker").write_text("a file where a folder should be")
    result = pytester.runpytest("--repro-json=blocker/x.json", *FAST)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out
    result.stdout.fnmatch_lines(
        [
            "*reproduction verdicts*",
            "repro: wrote papers/p1/results.md",
            "repro: --repro-json=*blocker/x.json not written: FileExistsError: *; give --repro-json "
            "a file path in a folder that can be created and written",
        ]
    )
    assert (folder / "results.md").is_file()


def test_a_results_md_that_cannot_be_written_keeps_neither_the_other_paper_nor_the_json_from_it(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper("p1")
    (pytester.path / "papers" / "p1" / "results.md").mkdir()  # a folder where the file goes
    second = make_paper("p2")
    result = pytester.runpytest("--repro-json=out.json", *FAST)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "repro: wrote papers/p2/results.md",
            "repro: */papers/p1/results.md not written: IsADirectoryError: Is a directory; "
            "make its folder writable, or pass --repro-results=off",
            "repro: wrote */out.json",
        ]
    )
    assert (second / "results.md").is_file()
    assert json.loads((pytester.path / "out.json").read_text())["papers"]


def test_a_step_summary_that_cannot_be_written_is_one_line(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper("p1")
    (pytester.path / "summary").mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "repro: wrote papers/p1/results.md",
            "repro: GITHUB_STEP_SUMMARY=*summary not written: IsADirectoryError: *; "
            "the step summary is left as it was",
        ]
    )


# -- nothing escapes ----------------------------------------------------------------------
HOSTILE_TRAIN = """\
import os

def run(ctx):
    c = ctx.config
    if c.get("boom"):
        raise RuntimeError(c["boom"] + " " + os.fsdecode(b"train-\\xff.csv"))
    for epoch in range(1, c["epochs"] + 1):
        ctx.log(epoch=epoch, acc=c["base"] + c["spread"] * (ctx.seed - 1))
"""


def hostile_paper(pytester: pytest.Pytester) -> Path:
    """A paper whose every free text holds :data:`PAYLOAD`: title, claim texts, sources,
    hypothesis, unit, a substitution, config values and their provenance, and the error a
    run raises. (Ids are names by the spec's rules, so they cannot.)"""
    p = quoted(PAYLOAD)
    header = (
        HEADER.format(paper_id="p1")
        .replace("title: A paper for tests", f"title: {p}")
        .replace(
            "    fail_seed: -1\n",
            f"    fail_seed: -1\n    boom: {{value: '', source: {p}, why: {p}}}\n"
            f"    note: {{value: {p}, source: {p}, why: {p}}}\n",
        )
    )
    gap = claim("gap", extra=f"config: {{base: 0.88}}\nhypothesis: {p}")
    broken = claim("broken", extra=f"config: {{boom: {p}}}")
    claims = (gap + broken).replace(
        "    text: accuracy reaches the paper's value\n    source: Table 1\n",
        f"    text: {p}\n    source: {p}\n",
    )
    claims = claims.replace("    unit: fraction\n", f"    unit: {p}\n")
    substitutions = f"substitutions:\n  - {{original: {p}, used: {p}, why: {p}, claims: [gap]}}\n"
    folder = pytester.path / "papers" / "p1"
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(header + substitutions + "claims:\n" + claims)
    (folder / "train.py").write_text(HOSTILE_TRAIN)
    return folder


def strings(value: Any) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_hostile_text_in_every_field_is_inert_in_every_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = hostile_paper(pytester)
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest(
        "--repro-json=out.json",
        "--html=r.html",
        "--self-contained-html",
        "--show-capture=no",
        *FAST,
    )  # the run's own output (in-process, the traceback it prints) is pytest's to show
    result.assert_outcomes(failed=2)

    # results.md: valid UTF-8, one row per claim, no tag, link or block from the payload
    text = strict_utf8(folder / "results.md")
    shown = outside_code_blocks(text)
    for token in ("<script", "</td", "](javascript", "\x1b"):
        assert not unescaped(shown, token), token
    assert "\x1b" not in text
    assert "# Reproduction: \\</td>\\<script>x\\</script> \\| a \\|" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    claim_rows = [row for row in rows if row.startswith("| [")]
    assert [len(gfm_cells(row)) for row in claim_rows] == [8, 8]
    for row in rows:  # claims, substitutions, configuration: every row keeps its cells
        assert len(gfm_cells(row)) in (4, 6, 8), row
    assert not any(line.startswith(("::", "#  ", "> #")) for line in shown.splitlines()[1:])

    # the JSON: valid, every text kept (the surrogate as its escape), and it round-trips
    path = pytester.path / "out.json"
    document = json.loads(strict_utf8(path))
    claims = document["papers"][0]["claims"]
    assert document["papers"][0]["title"] == PAYLOAD
    assert claims[0]["text"] == PAYLOAD and claims[0]["hypothesis"] == PAYLOAD
    assert "train-\\udcff.csv" in claims[1]["error"]
    again = writers.json_document(writers.read_json(path))
    assert again["papers"][0]["claims"] == claims

    # the HTML report: no tag from the payload in the page or in the data it renders
    page = strict_utf8(pytester.path / "r.html")
    assert "<script>x" not in page
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None
    data = json.loads(html.unescape(blob.group(1)))
    rendered = strings(data)
    assert any("repro-claim" in s for s in rendered)  # the panels are there ...
    assert not [s for s in rendered if "<script>x" in s or "</td><script" in s]  # ... inert

    # the terminal under GitHub Actions: only the plugin's own annotations are commands
    out = result.stdout.str()
    assert "\x1b" not in out and lone_surrogates(out) == []
    commands = [line for line in out.splitlines() if line.lstrip().startswith("::")]
    own = re.compile(r"::error file=papers/p1/paper\.yaml,line=\d+,title=claim ([\w-]+)::\[")
    assert [m.group(1) for line in commands if (m := own.match(line))] == ["gap", "broken"]
    assert len(commands) == 2  # the payload's "::error file=evil.py" starts no line

    # the step summary: one row per claim, four cells each
    table = [line for line in strict_utf8(summary).splitlines() if line.startswith("| ")]
    assert [len(gfm_cells(row)) for row in table[2:]] == [4, 4]
    assert not unescaped("\n".join(table), "<script")
