"""Reading a paper's text: LaTeX, HTML and PDF give the same extract; bad input says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_repro.extract import paper_md, read_document, read_paper
from pytest_repro.extract.facts import prose_facts, to_number
from pytest_repro.extract.score import score_hyperparameters, score_results

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = ("sparse_resnets.tex", "sparse_resnets.html", "sparse_resnets.pdf", "small_lm.tex")


def _key(name: str) -> dict[str, list[dict[str, object]]]:
    stem = name.split(".")[0]
    key: dict[str, list[dict[str, object]]] = json.loads(
        (FIXTURES / f"{stem}.answers.json").read_text(encoding="utf-8")
    )
    return key


@pytest.mark.parametrize("name", FORMATS)
def test_each_fixture_meets_the_recall_and_precision_goal(name: str) -> None:
    extract = read_paper(FIXTURES / name)
    key = _key(name)
    hyper = score_hyperparameters(extract, key["hyperparameters"])
    table = score_results(extract, key["results"])
    assert hyper.recall >= 0.9, hyper.missed
    assert hyper.precision >= 0.8, hyper.wrong
    assert table.recall >= 0.9, table.missed
    assert table.precision >= 0.8, table.wrong


@pytest.mark.parametrize("name", FORMATS[:3])
def test_the_three_forms_of_one_paper_read_alike(name: str) -> None:
    document = read_document(FIXTURES / name)
    assert document.title == "Prune Early, Train Late: SparseRes Networks at Small Scale"
    assert document.authors == ("Ada Quill", "Bram Oster", "Chen Wu")
    assert [s.ref for s in document.sections if s.title == "Setup"] == ["Sec. 3.1"]
    assert [t.ref for t in document.tables] == ["Table 1", "Table 2", "Table 3"]
    first = document.tables[0]
    assert first.columns() == ("Method", "CIFAR-10", "SVHN")
    assert first.rows[0][0] == "Dense baseline"


def test_a_results_cell_gives_its_value_spread_meaning_and_seeds() -> None:
    extract = read_paper(FIXTURES / "sparse_resnets.html")
    dense = next(r for r in extract.results if r.model == "Dense baseline" and r.dataset == "SVHN")
    assert (dense.value, dense.pm, dense.spread, dense.seeds, dense.percent) == (
        96.3,
        0.1,
        "sd",
        5,
        True,
    )
    assert dense.table == "Table 1"


def test_the_appendix_table_gives_hyperparameters_not_results() -> None:
    extract = read_paper(FIXTURES / "sparse_resnets.tex")
    from_table = {f.kind: f.value for f in extract.hyperparameters if f.where == "Table 3"}
    assert from_table["weight_decay"] == "5e-4"
    assert from_table["optimizer"] == "SGD (Nesterov)"
    assert not [r for r in extract.results if r.table == "Table 3"]


def test_a_warmup_in_epochs_is_not_read_as_the_epoch_count() -> None:
    facts = prose_facts("The learning rate is warmed after a linear warmup of 5 epochs.", "Sec. 1")
    assert [(f.kind, f.number) for f in facts] == [("warmup", 5.0)]


@pytest.mark.parametrize(
    ("text", "number"),
    [("3×10^-4", 3e-4), ("10^{-3}", 1e-3), ("5e-4", 5e-4), ("100k", 1e5), ("50,000", 5e4)],
)
def test_numbers_are_read_as_papers_write_them(text: str, number: float) -> None:
    assert to_number(text) == pytest.approx(number)


def test_a_sentence_that_says_no_warmup_answers_the_question() -> None:
    facts = prose_facts("We use no warmup and train for 90 epochs.", "Sec. 2")
    assert ("warmup", "none") in [(f.kind, f.value) for f in facts]
    assert ("epochs", 90.0) in [(f.kind, f.number) for f in facts]


def test_the_shipped_pdf_is_what_the_generator_writes(tmp_path: Path) -> None:
    pytest.importorskip("fpdf")
    from .make_pdf import pdf_bytes

    fresh = tmp_path / "fresh.pdf"
    fresh.write_bytes(pdf_bytes())
    shipped = read_paper(FIXTURES / "sparse_resnets.pdf")
    again = read_paper(fresh)
    assert again.hyperparameters == shipped.hyperparameters
    assert again.results == shipped.results


# -- bad input ------------------------------------------------------------------------------
def test_an_encrypted_pdf_says_it_needs_its_password(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(FIXTURES / "sparse_resnets.pdf").pages:
        writer.add_page(page)
    writer.encrypt("secret", algorithm="RC4-128")
    target = tmp_path / "locked.pdf"
    with target.open("wb") as handle:
        writer.write(handle)
    extract = read_paper(target)
    assert extract.partial
    assert any("encrypted with a password" in p for p in extract.problems)
    assert extract.hyperparameters == ()


def test_a_damaged_pdf_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "broken.pdf"
    target.write_bytes(b"%PDF-1.7\n this is not a pdf at all \x00\xff")
    extract = read_paper(target)
    assert any("not a readable PDF" in p or "no text layer" in p for p in extract.problems)


def test_a_file_that_is_not_a_paper_says_so(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("shopping: eggs, milk\n")
    extract = read_paper(target)
    assert any("is not a LaTeX source, an HTML page or a PDF" in p for p in extract.problems)


def test_latex_with_undefined_macros_keeps_their_text_and_names_them(tmp_path: Path) -> None:
    target = tmp_path / "p.tex"
    target.write_text(
        "\\documentclass{article}\\begin{document}\\section{Setup}"
        "We use a \\mysize{batch size of 64} and \\weird{\\deeper{Adam}}.\\end{document}"
    )
    extract = read_paper(target)
    assert ("batch_size", 64.0) in [(f.kind, f.number) for f in extract.hyperparameters]
    problem = next(p for p in extract.problems if "defined nowhere" in p)
    assert "\\mysize" in problem and "\\weird" in problem
    assert any("no table was found" in p for p in extract.problems)


def test_html_without_tables_is_a_partial_extract_that_says_so(tmp_path: Path) -> None:
    target = tmp_path / "p.html"
    target.write_text(
        "<html><body><h1>A title</h1><h2>1 Setup</h2><p>We train for 30 epochs.</p></body></html>"
    )
    extract = read_paper(target)
    assert [f.kind for f in extract.hyperparameters] == ["epochs"]
    assert extract.problems == ("no table was found: reported results could not be read",)


def test_hostile_text_is_escaped_in_paper_md_and_survives_the_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "p.html"
    target.write_text(
        "<html><body><h1>T | &lt;script&gt; --&gt; [x](javascript:y)</h1><h2>1 Setup</h2>"
        "<p>We train for 30 epochs. <!-- --> --> |</p></body></html>"
    )
    extract = read_paper(target)
    text = paper_md.render(extract)
    assert "T \\| \\<script>" in text  # a pipe and a tag, inert
    visible = text.split("<!-- pytest-repro extract")[0]
    assert "<!--" not in visible  # nothing the page shows can open a comment
    md = tmp_path / "paper.md"
    md.write_text(text)
    assert paper_md.load(md) == extract
