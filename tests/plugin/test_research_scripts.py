"""Research scripts run unmodified: seeds and budgets reach them, they start where they
expect, and a changed metrics reader reads the recorded output again instead of retraining."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

FAST = ("-p", "no:cacheprovider")

#: A script in the style of research code: no --seed flag, draws from python's global
#: generator, prints progress lines, writes to fixed relative paths, counts its calls.
PROGRESS = """\
import argparse, json, os, pathlib, random
p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=200)
a = p.parse_args()
paper = pathlib.Path(os.environ["REPRO_PAPER_DIR"])
with (paper / "calls.log").open("a") as f:
    f.write(json.dumps({"steps": a.steps, "cwd": os.getcwd(), "env": os.environ.get("LOG_DIR"),
                        "budget": os.environ.get("REPRO_MAX_STEPS")}) + "\\n")
pathlib.Path("last-run.log").write_text("written relative to the working directory")
acc = 0.9 + (random.random() - 0.5) * 0.002
for step in range(10, a.steps + 1, 10):
    print(f"step {step} | loss {1 - acc:.6f} | acc {acc:.6f}", flush=True)
"""

WRONG = r"'step (?P<step>\d+) acc=(?P<acc>[0-9.]+)'"
REGEX = r"'step (?P<step>\d+) \| loss [0-9.]+ \| acc (?P<acc>[0-9.]+)'"


def script_paper(
    pytester: pytest.Pytester,
    *,
    command: str = '[python, train.py, --steps, "{max_steps}"]',
    run_extra: str = "seed_startup: true",
    regex: str = REGEX,
    script: str = PROGRESS,
) -> Path:
    folder = pytester.path / "papers" / "script"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(script)
    extra = textwrap.indent(run_extra, "  ")
    (folder / "paper.yaml").write_text(
        f"""\
paper: {{id: script, title: A research script}}
run:
  command: {command}
  metrics: {{regex: {regex}}}
{extra}
"""
        + textwrap.dedent(
            """\
              config:
                max_steps: {value: 200, source: "Section 4"}
            claims:
              - id: acc
                text: accuracy at the last step
                source: Table 1
                metric: acc
                at: {step: 200}
                paper: 0.9
                tolerance: 0.01
            """
        )
    )
    return folder


def calls(folder: Path) -> list[dict[str, object]]:
    log = folder / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def accuracies(pytester: pytest.Pytester) -> list[float]:
    path = pytester.path / "r.json"
    document = json.loads(path.read_text())
    (paper,) = document["papers"]
    (claim,) = paper["claims"]
    return [float(v) for v in claim["values"]]


def test_a_script_with_no_seed_flag_is_seeded_at_start_up_and_yields_a_verdict(
    pytester: pytest.Pytester,
) -> None:
    folder = script_paper(pytester)
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*script/paper.yaml::acc [[]matched within 0.010[]]*"])
    first = accuracies(pytester)
    assert len(set(first)) == 3  # each seed drew its own numbers: not three copies of one run
    assert [c["steps"] for c in calls(folder)] == [200, 200, 200]  # the config's budget
    (pytester.path / "r.json").unlink()
    pytester.runpytest("--repro-json=r.json", "--repro-rerun=all", *FAST)
    assert accuracies(pytester) == first  # and the same numbers again: seeded, not random


def test_a_command_that_never_receives_its_seed_is_refused_at_its_line(
    pytester: pytest.Pytester,
) -> None:
    script_paper(pytester, run_extra="")
    result = pytester.runpytest(*FAST)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*paper.yaml:3: run.command: never receives the seed*"])
    assert "Traceback" not in result.stdout.str()


def test_smoke_mode_gives_the_script_the_smoke_budget_and_finishes_in_seconds(
    pytester: pytest.Pytester,
) -> None:
    folder = script_paper(pytester)
    result = pytester.runpytest("--repro-smoke", "--repro-smoke-steps=20", *FAST)
    assert result.ret == 0, result.stdout.str()
    # the staged smoke run: one step, then the N-step stage; {max_steps} is each budget
    assert [c["steps"] for c in calls(folder)] == [1, 20]
    assert [c["budget"] for c in calls(folder)] == ["1", "20"]  # REPRO_MAX_STEPS says so too
    assert result.duration < 60


def test_a_smoke_run_that_ignores_its_budget_is_reported_not_passed(
    pytester: pytest.Pytester,
) -> None:
    folder = script_paper(pytester, command='[python, train.py, --steps, "200"]')
    result = pytester.runpytest("--repro-smoke", "--repro-smoke-steps=20", *FAST)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*smoke failed at stage 'one step': the smoke run ignored its budget: it logged "
            "step 200, past the smoke budget of 1 step; the command never receives the budget*"
        ]
    )
    assert len(calls(folder)) == 1


def test_a_regex_that_matches_nothing_shows_the_regex_and_the_output(
    pytester: pytest.Pytester,
) -> None:
    script_paper(pytester, regex=WRONG)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the regex reader 'step (?P<step>*) acc=(?P<acc>*' matched no line of the output*"
            "repro-output.log (20 lines) begins:*",
            "*| step 10 | loss 0.*",
            "*... and ends:*",
            "*| step 200 | loss 0.*",
        ]
    )


def test_changing_only_the_metrics_reader_reads_the_recorded_output_and_trains_nothing(
    pytester: pytest.Pytester,
) -> None:
    folder = script_paper(pytester, regex=WRONG)
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    assert len(calls(folder)) == 3
    spec = folder / "paper.yaml"
    spec.write_text(spec.read_text().replace(WRONG, REGEX))
    result = pytester.runpytest("-v", *FAST)
    result.stdout.fnmatch_lines(
        [
            "*script/paper.yaml::acc [[]matched within 0.010[]]*",
            "repro: 0 run(s) executed*3 reused from the ledger (3 read again with the new metrics reader)",
        ]
    )
    assert len(calls(folder)) == 3  # nothing trained again
    result = pytester.runpytest(*FAST)  # and the re-read is recorded: nothing to read now
    result.stdout.fnmatch_lines(["repro: 0 run(s) executed*3 reused from the ledger"])
    assert "read again" not in result.stdout.str()


def test_a_run_can_start_in_its_own_folder_and_its_env_names_that_folder(
    pytester: pytest.Pytester,
) -> None:
    extra = 'seed_startup: true\ncwd: run_dir\nenv: {LOG_DIR: "{run_dir}/logs"}'
    folder = script_paper(pytester, run_extra=extra)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    seen = calls(folder)
    cwds = {str(c["cwd"]) for c in seen}
    assert len(cwds) == 3  # three seeds, three folders: parallel seeds cannot collide
    assert all(c["env"] == f"{c['cwd']}/logs" for c in seen)
    assert all((Path(str(c["cwd"])) / "last-run.log").is_file() for c in seen)
    assert not (folder / "last-run.log").exists()


def test_by_default_a_command_starts_in_the_paper_folder(pytester: pytest.Pytester) -> None:
    folder = script_paper(pytester)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert {Path(str(c["cwd"])) for c in calls(folder)} == {folder}
    assert (folder / "last-run.log").is_file()


ENTRY_CHDIR = """\
import os, pathlib

def run(ctx):
    with open(pathlib.Path(ctx.paper_dir) / "cwds.log", "a") as f:
        f.write(os.getcwd() + "\\n")
    if ctx.seed == 0:
        os.chdir(ctx.run_dir)   # a run that moves must not move the next one
    for epoch in (1, 2):
        ctx.log(epoch=epoch, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


@pytest.mark.parametrize("inprocess", [False, True])
def test_an_entrypoint_starts_in_the_paper_folder_and_a_chdir_does_not_carry_over(
    pytester: pytest.Pytester, inprocess: bool
) -> None:
    folder = pytester.path / "papers" / "entry"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(ENTRY_CHDIR)
    (folder / "paper.yaml").write_text(
        textwrap.dedent(
            """\
            paper: {id: entry, title: An entrypoint}
            run: {entrypoint: train:run}
            claims:
              - {id: acc, text: accuracy, source: Table 1, metric: acc, at: {epoch: 2},
                 paper: 0.9, tolerance: 0.01}
            """
        )
    )
    args = ("--repro-inprocess",) if inprocess else ("--repro-workers=1",)
    pytester.runpytest(*args, *FAST).assert_outcomes(passed=1)
    cwds = (folder / "cwds.log").read_text().splitlines()
    assert cwds == [str(folder)] * 3


DETERMINISTIC = """\
import argparse
p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=200)
a = p.parse_args()
for step in range(10, a.steps + 1, 10):
    print(f"step {step} | loss 0.100000 | acc 0.905000", flush=True)
"""


def test_a_command_declared_seedless_runs_and_its_copies_count_once(
    pytester: pytest.Pytester,
) -> None:
    script_paper(pytester, run_extra="seedless: true", script=DETERMINISTIC)
    pytester.runpytest("--repro-json=r.json", *FAST)
    document = json.loads((pytester.path / "r.json").read_text())
    (claim,) = document["papers"][0]["claims"]
    assert claim["values"] == [0.905, 0.905, 0.905]
    assert any("all 3 seeds gave" in note for note in claim["notes"])
