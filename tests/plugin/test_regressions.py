"""Behaviour a review found wrong once: each test pins the fix."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_repro.cli import main

from .conftest import HEADER, TRAIN, MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

MODULE_STATE = """\
import random

DRAWN_AT_IMPORT = random.random()  # module-level state, created when train.py is imported

def run(ctx):
    ctx.log(epoch=5, acc=DRAWN_AT_IMPORT)
"""


def test_module_level_state_is_created_under_each_runs_own_seed_in_a_warm_worker(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(train=MODULE_STATE, claims=claim(tolerance=0.5, paper=0.5))
    pytester.runpytest("--repro-workers=1", "-p", "no:cacheprovider", "--repro-json=out.json")
    values = json.loads((pytester.path / "out.json").read_text())["papers"][0]["claims"][0][
        "values"
    ]
    import random

    expected = []
    for seed in (0, 1, 2):
        random.seed(seed)
        expected.append(random.random())
    assert values == expected  # not three copies of seed 0's draw


def test_rerun_of_one_claim_trains_again_even_when_another_claim_loaded_its_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim("c1") + claim("c2"))
    pytester.runpytest(*FAST)
    assert calls(folder) == 3
    pytester.runpytest("--repro-rerun=c2", *FAST).assert_outcomes(passed=2)
    assert calls(folder) == 6


def test_the_report_does_not_match_runs_of_another_entrypoint(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper(train=TRAIN + "\nrun_other = run\n")
    pytester.runpytest(*FAST)
    spec = (
        (folder / "paper.yaml")
        .read_text()
        .replace("entrypoint: train:run", "entrypoint: train:run_other")
    )
    (folder / "paper.yaml").write_text(spec)
    monkeypatch.chdir(pytester.path)
    out = io.StringIO()
    main(["report"], out=out)
    assert "[not run: no recorded runs]" in out.getvalue()


GPU_HEADER = HEADER.replace(
    "  entrypoint: train:run\n", "  entrypoint: train:run\n  resources: {{gpus: GPUS}}\n"
)


def test_a_machine_without_the_gpu_keeps_the_recorded_report_and_can_rebuild_it(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper(header=GPU_HEADER.replace("GPUS", "0"))
    pytester.runpytest(*FAST).assert_outcomes(
        passed=1
    )  # recorded (here: on a CPU, standing in for a GPU)
    (folder / "paper.yaml").write_text(
        (folder / "paper.yaml").read_text().replace("gpus: 0", "gpus: 1")
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(skipped=1)
    text = (folder / "results.md").read_text()
    assert "[matched within 1.0 pp]" in text  # the recorded evidence, not "[skipped: needs 1 GPU]"
    monkeypatch.chdir(pytester.path)
    out = io.StringIO()
    assert main(["report"], out=out) == 0
    assert "[matched within 1.0 pp]" in out.getvalue()


def test_a_partial_session_never_replaces_a_complete_report(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(
        claims=claim("alpha") + claim("beta", extra="config: {base: 0.95}", paper=0.95)
    )
    result = pytester.runpytest("-k", "alpha", "--repro-cache=off", *FAST)
    result.assert_outcomes(passed=1, deselected=1)
    note = "*results.md not written: no result for beta (run them: pytest papers/p1/paper.yaml)"
    result.stdout.fnmatch_lines([note])
    assert not (folder / "results.md").exists()


def test_a_comparative_gap_label_says_which_way_the_difference_goes(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    claims = """\
  - id: a-beats-b-by-a-lot
    text: A beats B by at least 5 points
    source: Figure 2
    metric: acc
    at: {epoch: 5}
    compare: {a: {config: {base: 0.92}}, b: {config: {base: 0.9}}}
    margin: 0.05
"""
    make_paper(claims=claims)
    result = pytester.runpytest("-v", *FAST)
    result.stdout.fnmatch_lines(
        [
            "*::a-beats-b-by-a-lot [[]gap: A higher than B by 0.020, "
            "below the margin 0.050, no hypothesis stated[]]*"
        ]
    )


def test_a_command_writing_its_own_examples_file_does_not_break_its_runs(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.path / "papers" / "cmd"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(
        "import json, sys, pathlib\n"
        "out = pathlib.Path(sys.argv[2])\n"
        "(out / 'examples.jsonl').write_text(json.dumps({'id': 0, 'pred': 1}) + '\\n')\n"
        "(out / 'repro-examples.jsonl').write_text('not what ctx writes\\n')\n"
        "value = 0.9 + 0.001 * int(sys.argv[1])\n"
        "(out / 'metrics.jsonl').write_text(json.dumps({'epoch': 1, 'acc': value}) + '\\n')\n"
    )
    (folder / "paper.yaml").write_text(
        textwrap.dedent(
            """\
            paper: {id: cmd, title: t}
            run:
              command: [python, train.py, "{seed}", "{run_dir}"]
              metrics: {jsonl: "{run_dir}/metrics.jsonl"}
            claims:
              - {id: acc, text: t, source: s, metric: acc, at: {epoch: 1}, paper: 0.9, tolerance: 0.01}
              - {id: again, text: t, source: s, metric: acc, at: {epoch: 1}, paper: 0.9, tolerance: 0.01}
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--repro-workers=2")
    result.assert_outcomes(passed=2)
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    assert db.execute("select status, count(*) from runs group by status").fetchall() == [("ok", 3)]
    db.close()


def test_a_bad_lockfile_is_the_claims_error_with_its_line_not_a_traceback(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(top="environment: {lockfile: requirements.lock}\n")
    (folder / "requirements.lock").write_text("numpy==2.0\nnumpy>=1.0\n")
    result = pytester.runpytest("--repro-json=out.json", *FAST)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*requirements.lock:2*not an exact pin*"])
    assert "Traceback" not in result.stdout.str()
    doc = json.loads((pytester.path / "out.json").read_text())
    assert doc["papers"][0]["claims"][0]["verdict"] == "error"


def test_run_env_is_in_place_when_the_interpreter_starts(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = "def run(ctx):\n    ctx.log(epoch=5, acc=0.9 + 0.001 * (ctx.seed - 1), h=hash('abc') % 1000)\n"
    make_paper(train=train, top="")
    spec = (
        (pytester.path / "papers/p1/paper.yaml")
        .read_text()
        .replace("run:\n", "run:\n  env: {PYTHONHASHSEED: '7'}\n")
    )
    (pytester.path / "papers/p1/paper.yaml").write_text(spec)
    pytester.runpytest("-p", "no:cacheprovider")
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    series = json.loads(db.execute("select series from runs limit 1").fetchone()[0])
    db.close()
    env = {**os.environ, "PYTHONHASHSEED": "7"}
    expected = subprocess.run(
        [sys.executable, "-c", "print(hash('abc') % 1000)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert series[0]["h"] == int(expected)


def test_a_broken_spec_appears_in_the_json_with_its_problems(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper("good")
    make_paper("bad", claims=claim(tolerance=-1))
    pytester.runpytest("--repro-json=out.json", *FAST)
    papers = {p["path"]: p for p in json.loads((pytester.path / "out.json").read_text())["papers"]}
    assert papers["papers/good/paper.yaml"]["claims"][0]["verdict"] == "matched"
    problems = papers["papers/bad/paper.yaml"]["problems"]
    assert any("tolerance" in p for p in problems)


def test_in_process_runs_under_pdb_record_the_failure_then_raise_the_papers_own_exception(
    tmp_path: Path,
) -> None:
    from pytest_repro.config import ReproConfig
    from pytest_repro.execution.plan import Planner
    from pytest_repro.execution.service import InProcessExecutor, RunService
    from pytest_repro.ledger import SQLiteLedger
    from pytest_repro.spec import load_spec

    folder = tmp_path / "papers" / "p"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text("def run(ctx):\n    1 / 0\n")
    (folder / "paper.yaml").write_text(
        "paper: {id: p, title: t}\nrun: {entrypoint: train:run}\nclaims:\n"
        "  - {id: c, text: t, source: s, metric: m, at: {epoch: 1}, paper: 1, tolerance: 0.1}\n"
    )
    cfg = ReproConfig(
        rootdir=tmp_path, workdir=tmp_path / ".repro", ledger=tmp_path / ".repro" / "l.sqlite"
    )
    store = SQLiteLedger(cfg.ledger)
    service = RunService(cfg, store=store, executor=InProcessExecutor(reraise=True))
    spec = load_spec(folder / "paper.yaml")
    request = Planner(cfg).request(spec, spec.claims[0].variants()[0], 0)
    with pytest.raises(ZeroDivisionError) as info:
        service.obtain([request])
    assert info.traceback[-1].path == folder / "train.py"  # the debugger lands in the paper's code
    (record,) = store.records()
    assert record.status == "failed"
    store.close()
