"""Escapers and writers are total: any text in, a safe and valid UTF-8 report out.

Properties over arbitrary Unicode (lone surrogates included, which ``os.fsdecode`` makes
from a file name that is not UTF-8), and the writers' behaviour when the file system says
no: one line naming the file, and the other reports still written.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_repro.config import ReproConfig
from pytest_repro.report import writers
from pytest_repro.report.escape import (
    anchor,
    html_text,
    md_code,
    md_fence,
    md_heading,
    md_line,
    md_text,
    plain,
    terminal_line,
    utf8_text,
    workflow_message,
    workflow_property,
)
from pytest_repro.report.format import Units, first_sentence
from pytest_repro.results import ClaimResult

#: Every code point, surrogates (category Cs) included.
CHARACTERS = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
#: What has broken reports, so that the properties meet it often.
PAYLOADS = (
    "</td><script>x</script>",
    "| a |",
    "\n::error::x",
    "\r\n::error file=evil.py,line=1::x",
    "\x1b[2J",
    "\udcff",
    "\ud800",
    "[l](javascript:x)",
    "\\|",
    "`",
    "\x00",
    "\u2028",
    "# ",
    "1. ",
    "%0A",
)
TEXT = st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(alphabet=CHARACTERS)), max_size=8).map(
    "".join
)
#: Everything Python or CommonMark reads as the end of a line.
LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
#: What a terminal line must not hold: control characters (tab excepted), line and
#: paragraph separators, bidirectional overrides, lone surrogates.
CONTROL = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def encodes(text: str) -> bool:
    text.encode("utf-8")  # raises on a lone surrogate
    return SURROGATE.search(text) is None


def unescaped_pipes(text: str) -> list[int]:
    """Where a ``|`` follows an even number of backslashes (so it would end a cell)."""
    out = []
    for found in re.finditer(r"(\\*)\|", text):
        if len(found.group(1)) % 2 == 0:
            out.append(found.start())
    return out


# -- the escapers -------------------------------------------------------------------------
@given(TEXT)
def test_every_one_line_escaper_gives_one_line_of_valid_utf8(text: str) -> None:
    for escape in (
        md_text,
        md_line,
        md_heading,
        md_code,
        plain,
        terminal_line,
        workflow_message,
        workflow_property,
        anchor,
    ):
        shown = escape(text)
        assert LINE_BREAK.search(shown) is None, escape
        assert encodes(shown), escape
    assert encodes(html_text(text)) and encodes(utf8_text(text))
    assert LINE_BREAK.search(first_sentence(text)) is None


@given(TEXT)
def test_markdown_text_never_holds_a_pipe_that_would_end_a_cell(text: str) -> None:
    assert unescaped_pipes(md_text(text)) == []
    assert unescaped_pipes(md_text(text, brackets=True)) == []
    assert unescaped_pipes(md_code(text, cell=True)) == []


@given(TEXT)
def test_terminal_lines_hold_no_control_character_and_start_no_workflow_command(
    text: str,
) -> None:
    for shown in (plain(text), terminal_line(text)):
        assert not CONTROL.search(shown)
    assert not terminal_line(text).lstrip().startswith("::")


@given(TEXT)
def test_workflow_messages_and_properties_hold_no_line_break_and_properties_no_separator(
    text: str,
) -> None:
    assert not re.search(r"[\r\n]", workflow_message(text))
    assert not re.search(r"[\r\n:,]", workflow_property(text))


@given(TEXT)
def test_a_fenced_block_cannot_be_closed_by_its_content(text: str) -> None:
    fence, *body, closing = md_fence(text)
    assert fence == closing and set(fence) == {"`"} and len(fence) >= 3
    for line in body:
        assert encodes(line) and LINE_BREAK.search(line) is None
        assert max((len(run) for run in re.findall("`+", line)), default=0) < len(fence)


@given(TEXT)
def test_html_text_opens_no_tag_and_closes_no_attribute(text: str) -> None:
    shown = html_text(text)
    assert not set("<>\"'") & set(shown)
    assert re.search(r"&(?!(?:amp|lt|gt|quot|#x27);)", shown) is None
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", shown)


def test_a_lone_surrogate_is_shown_as_its_escape_in_every_output() -> None:
    name = os.fsdecode(b"train-\xff.csv")
    for escape in (utf8_text, plain, terminal_line, md_text, html_text, workflow_message):
        assert "train-\\udcff.csv" in escape(name).replace("\\\\", "\\"), escape
    assert md_code(name) == "`train-\\udcff.csv`"
    assert md_fence(name) == ["```", "train-\\udcff.csv", "```"]


def test_a_label_keeps_its_first_sentence_on_one_line() -> None:
    assert first_sentence("harder\n::error::x. More") == "harder ::error::x"
    assert Units("m\n::error::x").value(1.5) == "1.500 m ::error::x"


# -- atomic_write -------------------------------------------------------------------------
@given(TEXT)
def test_atomic_write_writes_any_text_as_valid_utf8(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sub" / "report.md"
        writers.atomic_write(path, text)
        written = path.read_bytes().decode("utf-8")  # strict: no lone surrogate
        assert encodes(written)
        assert written == utf8_text(text)
        assert os.listdir(path.parent) == ["report.md"]


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    new = tmp_path / "new.md"
    writers.atomic_write(new, "x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not the 0o600 of a temporary file
    old = tmp_path / "old.md"
    old.write_text("x")
    old.chmod(0o664)
    writers.atomic_write(old, "y")
    assert stat.S_IMODE(old.stat().st_mode) == 0o664


def test_atomic_write_to_a_folder_raises_and_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "out.json").mkdir()
    with pytest.raises(IsADirectoryError):
        writers.atomic_write(tmp_path / "out.json", "{}")
    assert os.listdir(tmp_path) == ["out.json"]
    assert os.listdir(tmp_path / "out.json") == []


def test_a_write_failure_is_one_line_naming_the_file_what_failed_and_the_fix() -> None:
    exc = PermissionError(13, "Permission denied", "/ro/papers/p1/results.md")
    line = writers.write_failure("/ro/papers/p1/results.md", exc, "make the folder writable")
    assert line == (
        "repro: /ro/papers/p1/results.md not written: PermissionError: Permission denied; "
        "make the folder writable"
    )
    line = writers.write_failure("x\n::error::y", ValueError("a\nb"), "fix")
    assert line == "repro: x\\n::error::y not written: ValueError: a; fix"


# -- the JSON document --------------------------------------------------------------------
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
        verdict="matched",
        label="[matched within 1.0 pp]",
        paper=0.9,
        tolerance=0.01,
        unit="fraction",
        n=3,
        seeds=(0, 1, 2),
        values=(0.899, 0.9, 0.901),
        estimate=0.9,
        interval=(0.898, 0.902),
        confidence=0.9,
        delta=0.0,
        method="student-t",
        runs=("r0", "r1", "r2"),
    )
    return replace(base, **changes)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@given(TEXT, TEXT, TEXT)
def test_the_json_document_is_valid_whatever_the_texts_and_round_trips(
    text: str, error: str, title: str
) -> None:
    r = result(
        text=text,
        source=text,
        paper_title=title,
        label=text,
        hypothesis=text,
        error=error,
        notes=(error,),
        unit=text,
        substitutions=({"original": text, "used": error, "why": title},),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.json"
        writers.write_json(path, [r])
        raw = path.read_bytes().decode("utf-8")
        document = json.loads(raw)
        assert all(encodes(s) for s in strings(document))
        claim = document["papers"][0]["claims"][0]
        assert claim["text"] == utf8_text(text) and claim["error"] == utf8_text(error)
        again = Path(folder) / "again.json"
        writers.write_json(again, writers.read_json(path))
        assert json.loads(again.read_text()) == document


def test_a_non_finite_number_is_null_in_the_json_rather_than_no_document(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    writers.write_json(path, [result(estimate=math.nan, interval=(-math.inf, math.inf))])
    claim = json.loads(path.read_text())["papers"][0]["claims"][0]
    assert claim["estimate"] is None and claim["interval"] == [None, None]


def test_repro_json_naming_a_folder_is_refused_and_a_file_is_not(tmp_path: Path) -> None:
    problem = writers.json_path_problem(tmp_path)
    assert problem is not None
    assert problem.startswith(f"--repro-json={tmp_path}: is a folder; ")
    assert problem.endswith(f"--repro-json={tmp_path / 'repro.json'}")
    assert writers.json_path_problem(tmp_path / "out.json") is None
    assert writers.json_path_problem(None) is None


# -- results.md ---------------------------------------------------------------------------
SPEC = """\
paper: {{id: "{paper_id}", title: A paper for tests}}
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
    unit: fraction
"""


def paper(root: Path, paper_id: str) -> Path:
    folder = root / "papers" / paper_id
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(SPEC.format(paper_id=paper_id))
    (folder / "train.py").write_text("def run(ctx):\n    pass\n")
    return folder


def test_a_paper_whose_report_cannot_be_written_leaves_the_next_paper_its_report(
    tmp_path: Path,
) -> None:
    first, second = paper(tmp_path, "p1"), paper(tmp_path, "p2")
    (first / "results.md").mkdir()  # where the file should go
    results = [result(), result(paper_id="p2", path="papers/p2/paper.yaml")]
    written, notes = writers.write_results_md(ReproConfig(rootdir=tmp_path), None, results)
    assert written == [second / "results.md"]
    assert notes == [
        f"repro: {first / 'results.md'} not written: IsADirectoryError: Is a directory; "
        "make its folder writable, or pass --repro-results=off"
    ]


def test_a_run_error_with_a_lone_surrogate_is_written_as_its_escape(tmp_path: Path) -> None:
    folder = paper(tmp_path, "p1")
    message = "cannot read " + os.fsdecode(b"train-\xff.csv")
    failed = result(verdict="error", label=f"[error: {message}]", error=message, estimate=None)
    written, notes = writers.write_results_md(ReproConfig(rootdir=tmp_path), None, [failed])
    assert (written, notes) == ([folder / "results.md"], [])
    text = (folder / "results.md").read_bytes().decode("utf-8")
    assert "cannot read train-\\udcff.csv" in text


def test_an_existing_report_is_never_replaced_by_one_with_an_error(tmp_path: Path) -> None:
    folder = paper(tmp_path, "p1")
    cfg = ReproConfig(rootdir=tmp_path)
    failed = result(verdict="error", label="[error: run folder not writable]", estimate=None)
    assert writers.write_results_md(cfg, None, [failed])[0] == [folder / "results.md"]
    writers.write_results_md(cfg, None, [result()])  # a complete report replaces it
    complete = (folder / "results.md").read_text()
    assert "[matched within 1.0 pp]" in complete
    written, notes = writers.write_results_md(cfg, None, [failed])
    assert written == []
    assert (folder / "results.md").read_text() == complete
    assert notes == [
        f"repro: {folder / 'results.md'} kept: acc ended in an error, and a report with errors "
        "never replaces one (fix the error and rerun: pytest papers/p1/paper.yaml; or delete "
        "the file to write this one)"
    ]
