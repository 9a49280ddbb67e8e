"""The workspace commands as a user runs them: extract, --into, audit, the audit item."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pytest_repro.cli import main
from pytest_repro.spec import load_spec

from .conftest import HEADER, MakePaper, claim

FIXTURES = Path(__file__).resolve().parents[1] / "extract" / "fixtures"
FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_extract_into_a_new_folder_writes_paper_md_and_a_valid_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "papers" / "sparse"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text("def run(ctx):\n    pass\n")
    code, out = run_cli(
        "extract", str(FIXTURES / "sparse_resnets.tex"), "--into", "papers/sparse/paper.yaml"
    )
    assert code == 0
    assert "wrote papers/sparse/paper.md" in out
    spec = load_spec(folder / "paper.yaml")
    assert spec.run.config["lr"].value == 0.1
    assert spec.run.config["lr"].source == "Sec. 3.1"
    assert spec.run.config["weight_decay"].value == 0.0005
    dense = spec.claim("table-1-dense-baseline-cifar-10")
    assert dense.source == "Table 1"
    assert dense.paper is not None and (dense.paper.value, dense.paper.spread) == (94.2, 0.1)
    assert "| learning rate | 0.1 | Sec. 3.1 |" in (folder / "paper.md").read_text()


def test_extract_never_changes_an_existing_spec_and_proposes_beside_it(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper(claims=claim(paper=94.2))
    before = (folder / "paper.yaml").read_text()
    monkeypatch.chdir(pytester.path)
    code, out = run_cli(
        "extract", str(FIXTURES / "sparse_resnets.html"), "--into", "papers/p1/paper.yaml"
    )
    assert code == 0
    assert (folder / "paper.yaml").read_text() == before
    proposed = (folder / "paper.proposed.yaml").read_text()
    assert 'lr: {value: 0.1, source: "Sec. 3.1"}' in proposed
    assert "epochs:" not in proposed  # the spec has epochs already
    assert "table-1-dense-baseline-cifar-10" not in proposed  # 94.2 is claimed
    assert "table-1-dense-baseline-svhn" in proposed
    assert "paper.yaml was not changed" in out


def test_extract_of_something_unreadable_is_exit_1_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02")
    code, _ = run_cli("extract", str(junk), "--out", str(tmp_path / "p"))
    assert code == 1
    err = capsys.readouterr().err
    assert "is not a LaTeX source, an HTML page or a PDF" in err
    assert "nothing written" in err
    assert not (tmp_path / "p").exists()


AUDITED = """\
paper:
  id: "{paper_id}"
  title: A paper for tests
run:
  entrypoint: train:run
  config:
    epochs: {{value: 5, source: "Sec. 3.1"}}
    base: 0.9
    spread: {{value: 0.001}}
    slope: {{value: 0.0, source: assumed, why: "flat curves keep the test simple"}}
    fail_seed: {{value: -1, source: assumed, why: "no seed fails"}}
    lr: {{value: 0.05, source: "Sec. 3.1"}}
"""


def _audited_paper(pytester: pytest.Pytester, make_paper: MakePaper) -> Path:
    folder = make_paper(header=AUDITED, claims=claim(paper=94.2))
    code, _ = run_cli("extract", str(FIXTURES / "sparse_resnets.tex"), "--out", str(folder))
    assert code == 0
    return folder


def test_audit_names_every_kind_of_gap_and_writes_gaps_filled_md(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _audited_paper(pytester, make_paper)
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("audit", "papers/p1")
    assert code == 0
    assert "no source" in out and "run.config.base" in out
    assert "assumed (note)" in out and "flat curves keep the test simple" in out
    assert "differs" in out and "0.05 here; the paper says 0.1 (Sec. 3.1)" in out
    assert "epochs" in out and "200 (Sec. 3.1)" in out
    assert "uncovered" in out and "Table 1: Magnitude pruning" in out
    gaps = (folder / "gaps_filled.md").read_text()
    assert "| `lr` | learning rate | 0.05 | Sec. 3.1 |" in gaps
    assert "stated by the paper, not in run.config" in gaps  # batch size
    code, _ = run_cli("audit", "papers/p1", "--strict")
    assert code == 1


def test_the_audit_item_warns_by_default_and_fails_when_strict(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _audited_paper(pytester, make_paper)
    result = pytester.runpytest(*FAST, "-k", "audit")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*ReproWarning: papers/p1/paper.yaml: * gaps, * notes*"])
    strict = pytester.runpytest(*FAST, "-k", "audit", "--repro-audit=strict")
    strict.assert_outcomes(failed=1, deselected=1)
    strict.stdout.fnmatch_lines(
        ["*differs*run.config.lr*0.05 here*", "*pytest-repro audit papers/p1*"]
    )
    off = pytester.runpytest(*FAST, "--co", "-q", "--repro-audit=off")
    assert "audit" not in off.stdout.str()


def test_a_paper_without_paper_md_has_no_audit_item(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    result = pytester.runpytest(*FAST, "--co", "-q")
    assert "p1/paper.yaml::acc" in result.stdout.str()
    assert "::audit" not in result.stdout.str()


INVENTORY = """\
upstream:
  authors:
    package: numpy
    version: "{version}"
inventory:
  code:
    - url: https://github.com/example/sparse-res
      commit: 1b6e2f3
      license: MIT
      upstream: authors
  checkpoints:
    - {{name: "cifar10 | 80%", url: https://example.org/c.pt}}
  missing: [the ablation's training script]
"""


def test_inventory_is_rendered_to_inventory_md_and_named_in_results_md(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy

    top = INVENTORY.format(version=numpy.__version__)
    folder = make_paper(
        header=HEADER.replace("run:\n", top.replace("{", "{{").replace("}", "}}") + "run:\n", 1)
    )
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    results_md = (folder / "results.md").read_text()
    assert "## Inventory" in results_md
    assert "official code <https://github.com/example/sparse-res> at `1b6e2f3`" in results_md
    assert "(run here as upstream `authors`)" in results_md
    assert "[inventory.md](inventory.md)" in results_md
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("audit", "papers/p1")
    assert code == 0
    assert "no paper.md beside it" in out
    page = (folder / "inventory.md").read_text()
    assert (
        "| <https://github.com/example/sparse-res> | yes | `1b6e2f3` | MIT | upstream `authors`"
        in page
    )
    assert "cifar10 \\| 80%" in page
    assert "- the ablation's training script" in page
