"""The paper.yaml loader: valid specs become frozen dataclasses; every mistake names its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.spec import load_spec, load_spec_text
from pytest_repro.spec.fields import parse_duration, parse_size

VALID = """\
paper:
  id: 1611.03530
  title: Understanding deep learning requires rethinking generalization
  authors: [Chiyuan Zhang, Samy Bengio]
  year: 2017
run:
  entrypoint: train:run
  config:
    lr: {value: 1e-2, source: "Sec. 3"}
    epochs: {value: 60, source: assumed, why: "the paper trains to 100% train accuracy"}
    label_noise: 0.0
  timeout: 10m
  resources: {gpus: 0, threads: 2, memory: 2GiB}
environment: {requires: ["numpy>=1.24"], deterministic: true}
data:
  digits: {sklearn: load_digits}
substitutions:
  - {original: CIFAR-10, used: digits, why: "offline", claims: [fit]}
sanity: [determinism]
variants:
  random: {label_noise: 1.0}
claims:
  - id: fit
    text: Networks fit random labels
    source: Figure 1a
    metric: train_acc
    at: {epoch: 60}
    paper: 1.0
    tolerance: 0.01
    seeds: 5
    variant: random
    unit: fraction
  - id: faster
    text: True labels are fit faster
    source: Sec. 2
    metric: epochs_to_fit
    better: lower
    at: {step: 1}
    compare: {a: {config: {label_noise: 0.0}}, b: random}
    margin: 2
    seeds: {min: 3, max: 10}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("def run(ctx):\n    pass\n")
    return tmp_path


def load(folder: Path, text: str) -> object:
    return load_spec_text(
        textwrap.dedent(text), path=folder / "paper.yaml", display="papers/x/paper.yaml"
    )


def problems(folder: Path, text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(SpecError) as info:
        load(folder, text)
    return [(p.line, p.field, p.message) for p in info.value.problems]


def edit(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if fragment in line)


def test_a_valid_spec_keeps_every_value_and_its_line(folder: Path) -> None:
    spec = load(folder, VALID)
    assert spec.paper.id == "1611.03530"  # the trailing zero survives YAML's float reading
    assert spec.run.config["lr"].value == 0.01  # 1e-2 is a float, not the string "1e-2"
    assert spec.run.config["epochs"].assumed
    assert spec.run.timeout == 600
    assert spec.run.resources.memory == 2 * 2**30
    assert spec.environment.deterministic == "on"
    fit, faster = spec.claims
    assert fit.loc.line == line_of(VALID, "- id: fit")
    assert fit.where("tolerance").line == line_of(VALID, "tolerance: 0.01")
    assert fit.seeds.seeds == (0, 1, 2, 3, 4)
    assert spec.resolve(fit.variant)["label_noise"] == 1.0
    assert faster.kind == "comparative"
    assert faster.seeds.stages == (3, 5, 10)
    assert faster.compare[1].name == "random"
    assert spec.substitutions_for("fit")[0].used == "digits"
    assert spec.substitutions_for("faster") == ()


@pytest.mark.parametrize(
    ("old", "new", "field", "message", "at"),
    [
        (
            "tolerance: 0.01",
            "tolerance: -0.5",
            "claims[fit].tolerance",
            "must be greater than 0",
            "tolerance: -0.5",
        ),
        (
            "tolerance: 0.01",
            "tolerence: 0.01",
            "claims[fit].tolerence",
            "did you mean 'tolerance'",
            "tolerence",
        ),
        ("at: {epoch: 60}", "at: last", "claims[fit].at", "not a point in training", "at: last"),
        ("at: {epoch: 60}", "at: 60", "claims[fit].at", "must name an epoch or a step", "at: 60"),
        (
            "at: {epoch: 60}",
            "at: {epoch: 60, step: 3}",
            "claims[fit].at",
            "exactly one of epoch",
            "step: 3",
        ),
        ("paper: 1.0", 'paper: "0.98 ± 0.01"', "claims[fit].paper", "must be a number", "0.98 ±"),
        (
            "paper: 1.0",
            "paper: {value: 1.0, sd: 0.01}",
            "claims[fit].paper.seeds",
            "number of runs",
            "sd: 0.01",
        ),
        (
            "paper: 1.0",
            "paper: {value: 1.0, sd: 0.01, seeds: 1}",
            "claims[fit].paper.seeds",
            "below 2",
            "seeds: 1}",
        ),
        (
            "variant: random",
            "variant: randm",
            "claims[fit].variant",
            "did you mean 'random'",
            "variant: randm",
        ),
        ("seeds: 5", "seeds: [1, 1]", "claims[fit].seeds", "twice", "seeds: [1, 1]"),
        ("seeds: 5", "seeds: 0", "claims[fit].seeds", "below 1", "seeds: 0"),
        (
            "random: {label_noise: 1.0}",
            "random: {label_nois: 1.0}",
            "variants.random.label_nois",
            "label_noise",
            "label_nois: 1.0",
        ),
        (
            "entrypoint: train:run",
            "entrypoint: train:go",
            "run.entrypoint",
            "no top-level 'go'",
            "train:go",
        ),
        (
            "entrypoint: train:run",
            "entrypoint: trian:run",
            "run.entrypoint",
            "no module 'trian'",
            "trian:run",
        ),
        ("timeout: 10m", "timeout: soon", "run.timeout", "not a duration", "timeout: soon"),
        ("memory: 2GiB", "memory: lots", "run.resources.memory", "not a size", "memory: lots"),
        (
            'requires: ["numpy>=1.24"]',
            'requires: ["numpy>=>1"]',
            "environment.requires[0]",
            "PEP 508",
            "numpy>=>1",
        ),
        (
            "deterministic: true",
            "deterministic: maybe",
            "environment.deterministic",
            "true, false or warn",
            "maybe",
        ),
        (
            "digits: {sklearn: load_digits}",
            "digits: {sklearn: digits}",
            "data.digits.sklearn",
            "scikit-learn loader",
            "sklearn: digits",
        ),
        (
            "digits: {sklearn: load_digits}",
            "digits: {csv: x.csv}",
            "data.digits",
            "exactly one source kind",
            "csv: x",
        ),
        (
            "sanity: [determinism]",
            "sanity: [determinsm]",
            "sanity[0]",
            "did you mean 'determinism'",
            "determinsm",
        ),
        (
            "claims: [fit]",
            "claims: [fitt]",
            "substitutions[0].claims",
            "did you mean 'fit'",
            "claims: [fitt]",
        ),
        ("margin: 2", "margin: -2", "claims[faster].margin", "below 0", "margin: -2"),
        (
            "better: lower",
            "better: none",
            "claims[faster].better",
            "needs a direction",
            "better: none",
        ),
        (
            "    unit: fraction\n",
            "    unit: fraction\n    expect: gap\n",
            "claims[fit].hypothesis",
            "needs the hypothesis",
            "- id: fit",
        ),
    ],
)
def test_each_mistake_is_reported_at_its_line_with_field_and_fix(
    folder: Path, old: str, new: str, field: str, message: str, at: str
) -> None:
    text = edit(old, new)
    found = problems(folder, text)
    matching = [p for p in found if p[1] == field and message in p[2]]
    assert matching, found
    assert matching[0][0] == line_of(text, at)


def test_a_missing_required_field_is_named_with_a_fix(folder: Path) -> None:
    text = edit("    metric: train_acc\n", "")
    with pytest.raises(SpecError) as info:
        load(folder, text)
    problem = next(p for p in info.value.problems if p.field == "claims[fit].metric")
    assert problem.line == line_of(text, "- id: fit")
    assert "metric: test_acc" in problem.fix
    assert str(problem).startswith(
        f"papers/x/paper.yaml:{problem.line}: claims[fit].metric: is required"
    )


def test_all_problems_of_a_file_are_reported_at_once_in_line_order(folder: Path) -> None:
    text = edit("tolerance: 0.01", "tolerance: -1").replace("timeout: 10m", "timeout: never")
    found = problems(folder, text)
    assert len(found) >= 2
    assert [p[0] for p in found] == sorted(p[0] for p in found)


def test_duplicate_keys_are_an_error_not_last_one_wins(folder: Path) -> None:
    text = edit("    tolerance: 0.01\n", "    tolerance: 0.01\n    tolerance: 0.5\n")
    (line, _, message) = problems(folder, text)[0]
    assert "duplicate key 'tolerance'" in message
    assert line == line_of(text, "tolerance: 0.5")


def test_a_yaml_syntax_error_names_its_line(folder: Path) -> None:
    text = VALID.replace("  year: 2017", "  year: [2017")
    ((line, _, message),) = problems(folder, text)
    assert "not valid YAML" in message
    assert line > 0


def test_unsafe_yaml_tags_are_refused(folder: Path) -> None:
    text = VALID.replace("year: 2017", "year: !!python/object/apply:os.system [echo]")
    ((line, _, message),) = problems(folder, text)
    assert line == line_of(text, "python/object")
    assert "not valid YAML" in message


def test_an_empty_file_says_how_to_start(folder: Path) -> None:
    ((line, _, message),) = problems(folder, "")
    assert line == 1
    assert "empty" in message


def test_a_command_must_be_an_argument_list_with_known_placeholders(folder: Path) -> None:
    base = VALID.replace("  entrypoint: train:run\n", "")
    as_string = base.replace(
        "run:\n", "run:\n  command: python train.py --lr {lr}\n  metrics: {jsonl: out.jsonl}\n", 1
    )
    assert any("argument" in p[2] for p in problems(folder, as_string))
    unknown = base.replace(
        "run:\n",
        'run:\n  command: [python, train.py, --lr, "{lrr}"]\n  metrics: {jsonl: "{run_dir}/m.jsonl"}\n',
        1,
    )
    assert any(
        "placeholder {lrr}" in p[2] and "did you mean 'lr'" in p[2]
        for p in problems(folder, unknown)
    )
    no_metrics = base.replace("run:\n", "run:\n  command: [python, train.py]\n", 1)
    assert any(p[1] == "run.metrics" for p in problems(folder, no_metrics))
    good = base.replace(
        "run:\n",
        'run:\n  command: [python, train.py, --lr, "{lr}", --seed, "{seed}"]\n'
        '  metrics: {regex: "epoch (?P<epoch>\\\\d+) acc (?P<train_acc>[0-9.]+)"}\n',
        1,
    )
    spec = load(folder, good)
    assert spec.run.command == ("python", "train.py", "--lr", "{lr}", "--seed", "{seed}")
    assert spec.run.metrics.format == "regex"


def test_the_loader_reads_files_and_reports_undecodable_ones(tmp_path: Path) -> None:
    path = tmp_path / "paper.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert "UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("2h", 7200), ("1h30m", 5400), (45, 45), ("x", None), ("0s", None)],
)
def test_durations(text: object, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"), [("4GiB", 4 * 2**30), ("512MB", 512 * 10**6), (1024, 1024), ("big", None)]
)
def test_sizes(text: object, size: int | None) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "seeds: {min: 3, max: 10}",
            "seeds: {min: 3, max: 10, stages: []}",
            "claims[faster].seeds.stages",
            "rise",
        ),
        (
            "seeds: {min: 3, max: 10}",
            "seeds: {min: 3, max: 5000}",
            "claims[faster].seeds.max",
            "more than 1000",
        ),
        ("seeds: 5", "seeds: [4294967296]", "claims[fit].seeds[0]", "from 0 to 4294967295"),
        ("timeout: 10m", "timeout: .inf", "run.timeout", "not a duration"),
        (
            "digits: {sklearn: load_digits}",
            "digits: {files: []}",
            "data.digits.files",
            "lists no files",
        ),
        (
            "    unit: fraction\n",
            "    unit: fraction\n    statistic: median\n",
            "claims[fit].statistic",
            "needs at least 20",
        ),
        (
            "    unit: fraction\n",
            "    unit: fraction\n    interval: bca\n",
            "claims[fit].interval",
            "needs at least 20",
        ),
        (
            "b: random}",
            "b: {config: {label_noise: 0.0}}}",
            "claims[faster].compare.b",
            "same config",
        ),
        (
            "    unit: fraction\n",
            "    unit: fraction\n    expect: exceeded\n",
            "claims[fit].expect",
            "not one of",
        ),
    ],
)
def test_claims_a_run_could_never_honour_are_refused_at_load(
    folder: Path, old: str, new: str, field: str, message: str
) -> None:
    found = problems(folder, edit(old, new))
    assert any(p[1] == field and message in p[2] for p in found), found


def test_a_command_metrics_file_must_live_in_the_runs_folder(folder: Path) -> None:
    base = VALID.replace("  entrypoint: train:run\n", "")
    shared = base.replace(
        "run:\n", "run:\n  command: [python, train.py]\n  metrics: {jsonl: out/metrics.jsonl}\n", 1
    )
    assert any(
        p[1] == "run.metrics.jsonl" and "{run_dir}" in p[2] for p in problems(folder, shared)
    )
    formatted = base.replace(
        "run:\n",
        'run:\n  command: [python, train.py, "{lr!r}"]\n  metrics: {jsonl: "{run_dir}/m.jsonl"}\n',
        1,
    )
    assert any("not a plain {name}" in p[2] for p in problems(folder, formatted))


def test_a_missing_top_level_block_gets_its_own_fix(folder: Path) -> None:
    text = VALID[VALID.index("run:") :]
    with pytest.raises(SpecError) as info:
        load(folder, text)
    problem = next(p for p in info.value.problems if p.field == "paper")
    assert "title" in problem.fix
    assert "paper: 0.94" not in problem.fix


def test_an_id_with_a_trailing_line_break_is_refused(folder: Path) -> None:
    # `$` would match before a final newline; an id becomes part of a pytest node id.
    text = edit("  - id: fit\n", '  - id: "fit\\n"\n')
    found = problems(folder, text)
    assert any(field.endswith(".id") and "id" in field for _, field, _ in found), found
