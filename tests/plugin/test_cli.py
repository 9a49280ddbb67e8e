"""The pytest-repro command: scaffolding, reports rebuilt from the ledger, sharing runs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pytest_repro.cli import main
from pytest_repro.spec import load_spec

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_new_scaffolds_a_paper_whose_spec_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run_cli("new", "2011.14439", "--title", "Scaling Down Deep Learning")
    assert code == 0
    folder = tmp_path / "papers" / "2011.14439"
    assert {p.name for p in folder.iterdir()} == {"paper.yaml", "train.py", "README.md"}
    spec = load_spec(folder / "paper.yaml")
    assert spec.paper.id == "2011.14439"
    assert spec.paper.title == "Scaling Down Deep Learning"
    assert "pytest papers/2011.14439 --repro-smoke" in out
    code, _ = run_cli("new", "2011.14439")
    assert code == 2  # never overwrites


def test_report_rebuilds_results_md_from_the_ledger_without_training(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper(claims=claim() + claim("gap", extra="config: {base: 0.88}"))
    pytester.runpytest(*FAST)
    trained = calls(folder)
    original = (folder / "results.md").read_text()
    (folder / "results.md").unlink()
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("report", "--json", "out.json")
    assert code == 0
    assert calls(folder) == trained == 6  # nothing ran again
    rebuilt = (folder / "results.md").read_text()
    table = [line for line in original.splitlines() if line.startswith("| [")]
    assert table == [line for line in rebuilt.splitlines() if line.startswith("| [")]
    assert "p1::gap" in out
    doc = json.loads((pytester.path / "out.json").read_text())
    assert [c["verdict"] for c in doc["papers"][0]["claims"]] == ["matched", "gap"]


def test_report_leaves_a_paper_whose_runs_are_not_recorded_alone_and_exits_1(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    before = (folder / "results.md").read_text()
    (folder / "train.py").write_text((folder / "train.py").read_text() + "\n# changed\n")
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("report")
    assert code == 1
    assert "[not run: no recorded runs]" in out  # the summary table still shows the claim
    assert (
        "results.md not written: no result for acc (run them: pytest papers/p1/paper.yaml)" in out
    )
    assert (folder / "results.md").read_text() == before  # a partial report never replaces it


def test_report_writes_the_complete_papers_and_still_covers_every_paper_in_its_table_and_json(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = make_paper("done")
    partial = make_paper("partial", claims=claim("a") + claim("b", extra="config: {base: 0.95}"))
    pytester.runpytest(*FAST)
    for folder in (done, partial):
        (folder / "results.md").unlink()
    spec = partial / "paper.yaml"
    spec.write_text(spec.read_text().replace("base: 0.95", "base: 0.96"))  # b: never recorded
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("report", "--json", "out.json")
    assert code == 1
    assert (done / "results.md").exists()
    assert not (partial / "results.md").exists()
    assert f"wrote {done / 'results.md'}" in out
    assert (
        "results.md not written: no result for b (run them: pytest papers/partial/paper.yaml)"
        in out
    )
    table = [line.split()[0] for line in out.splitlines() if "::" in line]
    assert table == ["done::acc", "partial::a", "partial::b"]
    doc = json.loads((pytester.path / "out.json").read_text())
    claims = {p["id"]: [c["label"] for c in p["claims"]] for p in doc["papers"]}
    assert claims["partial"][1] == "[not run: no recorded runs]"
    assert set(claims) == {"done", "partial"}


def test_runs_exported_from_one_ledger_rebuild_the_report_elsewhere(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    monkeypatch.chdir(pytester.path)
    assert run_cli("ledger", "export", "-o", "runs.jsonl")[0] == 0
    assert len((pytester.path / "runs.jsonl").read_text().splitlines()) == 3 + 2  # header, seal
    code, out = run_cli("ledger", "import", "runs.jsonl", "--ledger", "ci/ledger.sqlite")
    assert (code, out.split(" (seal")[0]) == (0, "added 3 runs, 0 already present")
    assert run_cli("ledger", "import", "runs.jsonl", "--ledger", "ci/ledger.sqlite")[1].startswith(
        "added 0 runs, 3 already present (seal sha256:"
    )
    (folder / "results.md").unlink()
    assert run_cli("report", "--ledger", "ci/ledger.sqlite")[0] == 0
    assert "[matched within 1.0 pp]" in (folder / "results.md").read_text()


def test_an_import_with_bad_lines_reports_them_and_keeps_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_text('{"not": "a run"}\nnot json at all\n')
    code, out = run_cli(
        "ledger", "import", str(tmp_path / "runs.jsonl"), "--ledger", str(tmp_path / "l.sqlite")
    )
    assert code == 1
    assert "runs.jsonl:1:" in out
    assert "runs.jsonl:2:" in out


def test_commands_on_a_missing_ledger_say_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli("ledger", "export", "--ledger", str(tmp_path / "none.sqlite"))
    assert code == 2
    assert "run the papers first" in capsys.readouterr().err
