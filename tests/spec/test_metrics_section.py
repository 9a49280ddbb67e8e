"""``run.metrics``: each reader's form is checked at load, every mistake at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.spec import load_spec_text

HEAD = """\
paper: {id: x, title: A paper}
run:
  command: [python, train.py, --seed, "{seed}"]
"""
CLAIMS = """\
claims:
  - {id: acc, text: accuracy, source: Table 1, metric: acc, at: {epoch: 2}, paper: 0.9, tolerance: 0.01}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("print('training')\n")
    (tmp_path / "read_logs.py").write_text("def points(where):\n    return []\n")
    return tmp_path


def spec_with(folder: Path, metrics: str) -> Any:
    text = HEAD + textwrap.indent(textwrap.dedent(metrics).strip("\n"), "  ") + "\n" + CLAIMS
    return load_spec_text(text, path=folder / "paper.yaml", display="papers/x/paper.yaml")


def problems(folder: Path, metrics: str) -> list[tuple[int, str, str]]:
    with pytest.raises(SpecError) as info:
        spec_with(folder, metrics)
    return [(p.line, p.field, p.message) for p in info.value.problems]


def test_a_single_regex_is_read_exactly_as_before(folder: Path) -> None:
    source = spec_with(
        folder, r"metrics: {regex: 'epoch (?P<epoch>\d+) acc (?P<acc>[0-9.]+)'}"
    ).run.metrics
    assert (source.format, source.pattern, source.patterns) == (
        "regex",
        r"epoch (?P<epoch>\d+) acc (?P<acc>[0-9.]+)",
        (),
    )


def test_a_list_of_regexes_loads_as_patterns(folder: Path) -> None:
    source = spec_with(
        folder,
        r"""
        metrics:
          regex:
            - 'epoch (?P<epoch>\d+) loss (?P<loss>[0-9.]+)'
            - 'Epoch (?P<epoch>\d+)\n  acc (?P<acc>[0-9.]+)'
        """,
    ).run.metrics
    assert source.format == "regex" and source.pattern is None
    assert source.patterns == (
        r"epoch (?P<epoch>\d+) loss (?P<loss>[0-9.]+)",
        r"Epoch (?P<epoch>\d+)\n  acc (?P<acc>[0-9.]+)",
    )


def test_each_pattern_of_a_list_is_checked_with_its_index_and_line(folder: Path) -> None:
    found = problems(
        folder,
        r"""
        metrics:
          regex:
            - 'epoch (?P<epoch>\d+) loss (?P<loss>[0-9.]+)'
            - 'acc (?P<acc>[0-9.]+)'
            - 'epoch (?P<epoch>\d+) (?P<acc>[0-9.]+'
            - 'epoch (?P<epoch>\d+)'
            - {not: text}
        """,
    )
    assert [(line, field) for line, field, _ in found] == [
        (7, "run.metrics.regex[1]"),
        (8, "run.metrics.regex[2]"),
        (9, "run.metrics.regex[3]"),
        (10, "run.metrics.regex[4]"),
    ]
    messages = [m for _, _, m in found]
    assert "needs a named group (?P<epoch>...) or (?P<step>...)" in messages[0]
    assert "does not compile" in messages[1]
    assert "needs a named group per metric" in messages[2]
    assert "must be a regular expression (text)" in messages[3]


def test_an_empty_regex_list_is_refused(folder: Path) -> None:
    ((line, field, message),) = problems(folder, "metrics: {regex: []}")
    assert (line, field) == (4, "run.metrics.regex") and "empty list" in message


@pytest.mark.parametrize("fmt", ["json", "wandb", "tensorboard"])
def test_a_file_or_folder_reader_takes_a_path_in_the_runs_folder(folder: Path, fmt: str) -> None:
    source = spec_with(folder, f'metrics: {{{fmt}: "{{run_dir}}/out"}}').run.metrics
    assert (source.format, source.path, source.options) == (fmt, "{run_dir}/out", {})
    ((_, field, message),) = problems(folder, f"metrics: {{{fmt}: logs/out}}")
    assert field == f"run.metrics.{fmt}" and "does not contain {run_dir}" in message


def test_tensorboard_takes_a_path_and_the_tags_to_read(folder: Path) -> None:
    source = spec_with(
        folder, 'metrics: {tensorboard: {path: "{run_dir}/tb", tags: [val/acc, train/loss]}}'
    ).run.metrics
    assert source.path == "{run_dir}/tb"
    assert source.options == {"tags": ["val/acc", "train/loss"]}
    found = problems(folder, "metrics: {tensorboard: {tag: [val/acc]}}")
    fields = {field for _, field, _ in found}
    assert fields == {"run.metrics.tensorboard.tag", "run.metrics.tensorboard.path"}


def test_a_python_reader_must_be_a_function_of_the_paper_folder(folder: Path) -> None:
    source = spec_with(folder, "metrics: {python: read_logs:points}").run.metrics
    assert (source.format, source.target, source.path) == ("python", "read_logs:points", None)
    ((line, field, message),) = problems(folder, "metrics: {python: os:system}")
    assert (line, field) == (4, "run.metrics.python")
    assert "'os:system' is not code of the paper folder" in message
    ((_, _, message),) = problems(folder, "metrics: {python: read_logs:rows}")
    assert "read_logs.py has no top-level 'rows'" in message
    ((_, _, message),) = problems(folder, "metrics: {python: read_logs.points}")
    assert "is not module:function" in message


def test_two_readers_at_once_are_refused_naming_every_format(folder: Path) -> None:
    ((_, field, message),) = problems(
        folder, 'metrics: {json: "{run_dir}/r.json", wandb: "{run_dir}/wandb"}'
    )
    assert field == "run.metrics"
    assert "jsonl:, csv:, regex:, json:, tensorboard:, wandb: or python:" in message
