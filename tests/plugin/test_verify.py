"""pytest-repro verify: every number of a published results.md, re-derived from recorded runs."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from pytest_repro.cli import main

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


@pytest.fixture
def published(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = make_paper(claims=claim() + claim("gap", extra="config: {base: 0.88}"))
    pytester.runpytest(*FAST)
    monkeypatch.chdir(pytester.path)
    return folder


def test_a_report_written_by_a_session_verifies(published: Path) -> None:
    code, out = run_cli("verify", "papers/p1/results.md")
    assert code == 0, out
    assert re.search(r"^verified: 1 report, 2 claims, 16 table cells re-derived from ", out, re.M)
    assert run_cli("verify")[0] == 0  # the whole papers/ tree


def test_a_number_edited_by_hand_fails_naming_the_claim_and_the_cell(published: Path) -> None:
    report = published / "results.md"
    text = report.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [acc]"))
    measured = row.split(" | ")[4]
    report.write_text(text.replace(row, row.replace(measured, "0.912 ± 0.001"), 1))
    code, out = run_cli("verify", "papers/p1/results.md")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(
        f"papers/p1/results.md: claim acc: Reproduced 0.912 ± 0.001 in the report, {measured} "
        "from runs "
    )
    assert lines[0].endswith("(rebuild it: pytest-repro report papers/p1/paper.yaml)")
    assert lines[-1].startswith("MISMATCH: 1 report") and lines[-1].endswith("; 1 problem")


def test_a_run_altered_in_the_ledger_is_named(published: Path) -> None:
    conn = sqlite3.connect(".repro/ledger.sqlite")
    (run_id,) = conn.execute("SELECT run_id FROM runs LIMIT 1").fetchone()
    conn.execute("UPDATE runs SET seed = 7 WHERE run_id = ?", (run_id,))
    conn.commit()
    conn.close()
    code, out = run_cli("verify")
    assert code == 1
    assert f"run {run_id} was altered outside pytest-repro" in out.splitlines()[0]


def test_an_exported_bundle_verifies_in_a_fresh_directory_without_the_ledger(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("ledger", "export", "-o", str(tmp_path / "runs.jsonl"))[0] == 0
    fresh = tmp_path / "ci"
    shutil.copytree(published.parent, fresh / "papers")
    monkeypatch.chdir(fresh)
    code, out = run_cli("verify", "papers/", "--ledger-file", str(tmp_path / "runs.jsonl"))
    assert code == 0, out
    assert "(seal sha256:" in out
    assert not (fresh / ".repro").exists()  # nothing written

    bundle = tmp_path / "runs.jsonl"
    bundle.write_text(bundle.read_text().replace('"acc":0.9', '"acc":0.95', 1))
    code, out = run_cli("verify", "papers/", "--ledger-file", str(bundle))
    assert code == 1
    assert re.search(r"runs\.jsonl: line \d+: run \S+ does not match its content hash", out)
    assert "export it again from the ledger that recorded the runs" in out
    code, out = run_cli("ledger", "import", str(bundle), "--ledger", "l.sqlite")
    assert code == 1 and "nothing imported" in out
    assert not Path("l.sqlite").exists()


def test_usage_errors_are_one_line_and_exit_status_2(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("verify", "papers/nope/results.md")[0] == 2
    assert run_cli("verify", "--ledger-file", "missing.jsonl")[0] == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "pytest-repro: papers/nope/results.md does not exist; give a results.md, a paper "
        "folder or papers/",
        "pytest-repro: cannot read missing.jsonl (No such file or directory); give the path "
        "of a bundle written by `pytest-repro ledger export`",
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("| Claim |", "| Result |"),  # the header row
        ("## Claims\n", "## Claims\n\nEvery claim matched.\n"),  # text beside the table
        ("## Claims\n", '## Claims\n\n<a id="x"></a> All reproduced.\n'),  # text after an anchor
    ],
)
def test_text_added_or_changed_anywhere_in_the_claims_section_fails(
    published: Path, old: str, new: str
) -> None:
    report = published / "results.md"
    text = report.read_text()
    assert old in text
    report.write_text(text.replace(old, new, 1))
    assert run_cli("verify", "papers/p1/results.md")[0] == 1


def test_a_tampered_ledger_is_not_sealed_into_an_export(published: Path, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(published.parents[1] / ".repro" / "ledger.sqlite") as db:
        db.execute("UPDATE runs SET output_tail = 'edited' WHERE rowid = 1")
    code, _ = run_cli("ledger", "export", "-o", str(tmp_path / "runs.jsonl"))
    assert code == 1
    assert not (tmp_path / "runs.jsonl").exists()
