"""Trainers written as research code writes them — logging only through wandb, TensorBoard or
printed lines — yield verdicts with no adapter file: ``run.metrics`` names the logs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

FAST = ("-p", "no:cacheprovider")

#: A trainer that logs only through wandb, offline, as a research repository would.
WANDB_TRAINER = """\
import argparse, random
import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()
random.seed(args.seed)
run = wandb.init(project="repro-trainers", mode="offline", config=vars(args))
for epoch in range(1, args.epochs + 1):
    acc = 0.9 + (random.random() - 0.5) * 0.002
    wandb.log({"val/acc": acc, "train": {"loss": 1 - acc}, "epoch": epoch}, step=epoch * 100)
wandb.finish()
"""

#: A trainer that logs only TensorBoard scalars, through PyTorch's SummaryWriter.
TENSORBOARD_TRAINER = """\
import argparse, random
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=1500)
args = parser.parse_args()
random.seed(args.seed)
writer = SummaryWriter(log_dir="runs/exp")
for step in range(args.steps):
    writer.add_scalar("val/acc", 0.9 + (random.random() - 0.5) * 0.002, step)
    if step % 100 == 0:
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
writer.close()
"""

#: A trainer that prints a training line and an evaluation block per epoch.
PRINTING_TRAINER = """\
import argparse, random

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
random.seed(args.seed)
for epoch in (1, 2, 3):
    acc = 0.9 + (random.random() - 0.5) * 0.002
    print(f"[epoch {epoch}] train loss {1 - acc:.6f}")
    print(f"Evaluating epoch {epoch}...")
    print(f"  accuracy: {acc:.6f}")
"""


def trainer_paper(pytester: pytest.Pytester, script: str, run_extra: str, claim_extra: str) -> Path:
    folder = pytester.path / "papers" / "trainer"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(script)
    run = textwrap.indent(textwrap.dedent(run_extra).strip("\n"), "  ")
    claim = textwrap.indent(textwrap.dedent(claim_extra).strip("\n"), "    ")
    (folder / "paper.yaml").write_text(
        "paper: {id: trainer, title: A research trainer}\n"
        "run:\n"
        '  command: [python, train.py, --seed, "{seed}"]\n'
        f"{run}\n"
        "claims:\n"
        "  - id: acc\n"
        "    text: accuracy\n"
        "    source: Table 1\n"
        "    paper: 0.9\n"
        "    tolerance: 0.01\n"
        f"{claim}\n"
    )
    return folder


def measured(pytester: pytest.Pytester) -> list[float]:
    document = json.loads((pytester.path / "r.json").read_text())
    (paper,) = document["papers"]
    (claim,) = paper["claims"]
    return [float(v) for v in claim["values"]]


def test_a_trainer_that_logs_only_through_wandb_offline_yields_a_verdict(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("wandb")
    trainer_paper(
        pytester,
        WANDB_TRAINER,
        """
        metrics: {wandb: "{run_dir}/wandb"}
        cwd: run_dir
        env: {WANDB_MODE: offline, WANDB_DIR: "{run_dir}", WANDB_SILENT: "true"}
        """,
        "metric: val/acc\nat: {step: 300}",
    )
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*trainer/paper.yaml::acc [[]matched within 0.010[]]*"])
    values = measured(pytester)
    assert len(values) == 3 and len(set(values)) == 3  # three seeds, each its own run
    assert all(abs(v - 0.9) < 0.001 for v in values)


def test_a_wandb_claim_at_a_step_never_logged_names_the_steps_the_run_reached(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("wandb")
    trainer_paper(
        pytester,
        WANDB_TRAINER,
        """
        metrics: {wandb: "{run_dir}/wandb"}
        cwd: run_dir
        env: {WANDB_MODE: offline, WANDB_DIR: "{run_dir}", WANDB_SILENT: "true"}
        """,
        "metric: train.loss\nat: {step: 400}",
    )
    result = pytester.runpytest(*FAST)
    assert result.ret != 0
    # nested keys read as wandb shows them; the last logged step is the one wandb wrote
    result.stdout.fnmatch_lines(["*train.loss never reached step 400 (last: 300) in 3 of 3 runs*"])
    assert "Traceback" not in result.stdout.str()


def test_a_trainer_that_writes_tensorboard_events_yields_a_verdict_from_every_point(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("torch.utils.tensorboard")
    trainer_paper(
        pytester,
        TENSORBOARD_TRAINER,
        """
        metrics: {tensorboard: "{run_dir}/runs/exp"}
        cwd: run_dir
        """,
        "metric: val/acc\nat: {step: 1234}",  # a step in the middle of 1,500: all are read
    )
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*trainer/paper.yaml::acc [[]matched within 0.010[]]*"])
    values = measured(pytester)
    assert len(set(values)) == 3


def test_several_regexes_read_a_training_line_and_an_evaluation_block_as_one_point(
    pytester: pytest.Pytester,
) -> None:
    trainer_paper(
        pytester,
        PRINTING_TRAINER,
        r"""
        metrics:
          regex:
            - '\[epoch (?P<epoch>\d+)\] train loss (?P<loss>[0-9.]+)'
            - 'Evaluating epoch (?P<epoch>\d+)\.\.\.\n\s+accuracy: (?P<acc>[0-9.]+)'
        """,
        "metric: acc\nat: {epoch: 3}",
    )
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*trainer/paper.yaml::acc [[]matched within 0.010[]]*"])
    assert len(set(measured(pytester))) == 3


def test_a_bad_pattern_in_a_regex_list_is_refused_at_its_line_with_its_index(
    pytester: pytest.Pytester,
) -> None:
    trainer_paper(
        pytester,
        PRINTING_TRAINER,
        r"""
        metrics:
          regex:
            - '\[epoch (?P<epoch>\d+)\] train loss (?P<loss>[0-9.]+)'
            - 'accuracy: (?P<acc>[0-9.]+)'
        """,
        "metric: acc\nat: {epoch: 3}",
    )
    result = pytester.runpytest(*FAST)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*paper.yaml:7: run.metrics.regex[[]1[]]: needs a named group (?P<epoch>...)*"]
    )


def test_a_python_reader_in_the_paper_folder_reads_a_log_no_built_in_reader_knows(
    pytester: pytest.Pytester,
) -> None:
    folder = trainer_paper(
        pytester,
        PRINTING_TRAINER,
        "metrics: {python: read_logs:points}",
        "metric: acc\nat: {epoch: 3}",
    )
    (folder / "read_logs.py").write_text(
        textwrap.dedent(
            """\
            def points(where):
                lines = where.output.read_text().splitlines()
                epochs = [int(l.split()[2].rstrip(".")) for l in lines if l.startswith("Evaluating")]
                accs = [float(l.split()[1]) for l in lines if l.strip().startswith("accuracy")]
                return [{"epoch": e, "acc": a} for e, a in zip(epochs, accs)]
            """
        )
    )
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*trainer/paper.yaml::acc [[]matched within 0.010[]]*"])
    assert len(set(measured(pytester))) == 3


#: A script that writes its final results once, as one JSON object.
RESULTS_TRAINER = """\
import argparse, json, random

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
random.seed(args.seed)
with open("results.json", "w") as f:
    json.dump({"epoch": 10, "test_acc": 0.9 + (random.random() - 0.5) * 0.002}, f)
"""


def test_a_script_that_writes_one_json_results_file_yields_a_verdict(
    pytester: pytest.Pytester,
) -> None:
    trainer_paper(
        pytester,
        RESULTS_TRAINER,
        'metrics: {json: "{run_dir}/results.json"}\ncwd: run_dir',
        "metric: test_acc\nat: {epoch: 10}",
    )
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*trainer/paper.yaml::acc [[]matched within 0.010[]]*"])
    assert len(set(measured(pytester))) == 3


def test_a_json_results_file_the_script_never_wrote_is_the_runs_error_naming_the_file(
    pytester: pytest.Pytester,
) -> None:
    trainer_paper(
        pytester,
        RESULTS_TRAINER,
        'metrics: {json: "{run_dir}/final.json"}\ncwd: run_dir',
        "metric: test_acc\nat: {epoch: 10}",
    )
    result = pytester.runpytest(*FAST)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*its metrics could not be read*final.json does not exist: the run wrote no JSON "
            "file there (*/runs/trainer-* holds: *results.json*)*"
        ]
    )
