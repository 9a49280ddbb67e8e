"""The sanity kit: what ``run.kit`` must return, and how paper.yaml names it and the checks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.sanity.kit import KitError, SanityKit, validate_kit
from pytest_repro.spec import load_spec_text
from pytest_repro.spec.schema import PaperSpec


def _kit(**overrides: Any) -> SanityKit:
    parts: dict[str, Any] = {
        "model": lambda: None,
        "train_batches": lambda k: iter(()),
        "loss": lambda out, target: None,
        "optimizer": lambda params: None,
    }
    parts.update(overrides)
    return SanityKit(**parts)


def test_a_complete_kit_is_accepted_as_it_is() -> None:
    kit = _kit(heldout_batches=lambda k: iter(()), classes=10)
    assert validate_kit(kit, kit="train:kit", check="label_shuffle") is kit


def test_something_other_than_a_sanity_kit_is_refused_with_what_to_return() -> None:
    with pytest.raises(KitError) as info:
        validate_kit({"model": None}, kit="train:kit", check="params_update")
    assert "run.kit train:kit returned dict, not a SanityKit" in str(info.value)
    assert "pytest_repro.SanityKit(model=" in str(info.value)
    assert info.value.missing == "SanityKit"
    assert isinstance(info.value, TypeError)


def test_a_part_that_is_not_a_function_is_named() -> None:
    with pytest.raises(KitError) as info:
        validate_kit(_kit(loss=3), kit="train:kit", check="overfit_tiny_batch")
    assert str(info.value) == "run.kit train:kit: loss is int, not a function"
    assert info.value.missing == "loss"


@pytest.mark.parametrize("classes", [1, True, 2.5])
def test_classes_must_be_a_whole_number_of_at_least_two(classes: object) -> None:
    with pytest.raises(KitError, match="must be a whole number >= 2"):
        validate_kit(_kit(classes=classes), kit="train:kit", check="params_update")


def test_label_shuffle_needs_held_out_batches() -> None:
    with pytest.raises(KitError) as info:
        validate_kit(_kit(classes=10), kit="train:kit", check="label_shuffle")
    assert info.value.missing == "heldout_batches"
    assert "label_shuffle needs heldout_batches in run.kit train:kit" in str(info.value)


def test_loss_at_init_needs_the_classes_unless_the_check_gives_them_or_a_value() -> None:
    with pytest.raises(KitError) as info:
        validate_kit(_kit(), kit="train:kit", check="loss_at_init")
    assert info.value.missing == "classes"
    assert "{loss_at_init: {classes: N}}" in str(info.value)
    kit = _kit()
    assert validate_kit(kit, kit="k:k", check="loss_at_init", args={"classes": 4}) is kit
    assert validate_kit(kit, kit="k:k", check="loss_at_init", args={"value": 0.7}) is kit


def test_checks_that_need_no_classes_accept_a_kit_without_them() -> None:
    kit = _kit()
    for check in ("overfit_tiny_batch", "params_update", "finite"):
        assert validate_kit(kit, kit="train:kit", check=check) is kit


def test_the_kit_and_the_sanity_package_import_without_torch() -> None:
    code = (
        "import sys, pytest_repro, pytest_repro.sanity, pytest_repro.sanity.kit\n"
        "from pytest_repro import SanityKit\n"
        "assert SanityKit is pytest_repro.sanity.kit.SanityKit\n"
        "print(sorted(m for m in ('torch', 'numpy', 'yaml', 'pytest') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- paper.yaml: run.kit and the checks' arguments ----------------------------------------------
TRAIN = "def run(ctx):\n    pass\n\n\ndef kit(ctx):\n    pass\n\nhelper = 3\n"


def _spec(tmp_path: Path, run: str, sanity: str) -> PaperSpec:
    (tmp_path / "train.py").write_text(TRAIN)
    text = (
        "paper: {id: x, title: T}\n"
        f"run:\n{textwrap.indent(run, '  ')}\n"
        f"sanity:\n{textwrap.indent(sanity, '  ')}\n"
        "claims:\n"
        "  - {id: c, text: t, source: s, metric: m, at: {epoch: 1}, paper: 1, tolerance: 0.1}\n"
    )
    return load_spec_text(text, path=tmp_path / "paper.yaml", display="papers/x/paper.yaml")


def _problems(tmp_path: Path, run: str, sanity: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        _spec(tmp_path, run, sanity)
    return [str(p) for p in info.value.problems]


def test_a_kit_check_takes_the_documented_defaults_for_what_it_does_not_give(
    tmp_path: Path,
) -> None:
    spec = _spec(
        tmp_path,
        "entrypoint: train:run\nkit: train:kit",
        "- overfit_tiny_batch: {steps: 100}\n- loss_at_init\n- params_update: {frozen: [emb.*]}",
    )
    assert spec.run.kit == "train:kit"
    overfit, init, update = spec.sanity
    assert dict(overfit.args) == {"examples": 8, "steps": 100, "below": 0.05}
    assert dict(init.args) == {"examples": 64, "classes": None, "value": None, "tolerance": 0.25}
    assert dict(update.args) == {"examples": 8, "frozen": ["emb.*"]}


def test_a_kit_check_without_run_kit_is_a_problem_at_its_line_naming_run_kit(
    tmp_path: Path,
) -> None:
    found = _problems(tmp_path, "entrypoint: train:run", "- determinism\n- label_shuffle")
    assert len(found) == 1
    assert found[0].startswith(
        "papers/x/paper.yaml:6: sanity[1]: label_shuffle trains the model itself and needs "
        "run.kit, which this paper does not give"
    )
    assert "add kit: train:kit to run:" in found[0]


def test_a_command_run_cannot_give_a_kit(tmp_path: Path) -> None:
    run = 'command: [python, train.py]\nmetrics: {jsonl: "{run_dir}/m.jsonl"}\nkit: train:kit'
    found = _problems(tmp_path, run, "- determinism")
    assert any("run.kit: needs entrypoint:" in p for p in found), found


@pytest.mark.parametrize(
    ("kit", "message"),
    [
        ("train", "'train' is not module:function"),
        ("model:kit", "no module 'model': model.py is not in papers/x"),
        ("train:kitt", "train.py has no top-level function 'kitt' (did you mean 'kit'?)"),
        ("train:helper", "train.py has no top-level function 'helper'"),
    ],
)
def test_run_kit_must_name_a_function_of_the_paper_folder(
    tmp_path: Path, kit: str, message: str
) -> None:
    found = _problems(tmp_path, f"entrypoint: train:run\nkit: {kit}", "- determinism")
    assert any(f"papers/x/paper.yaml:4: run.kit: {message}" in p for p in found), found


@pytest.mark.parametrize(
    ("sanity", "message"),
    [
        ("- overfit_tiny_batch: {step: 3}", "unknown key (did you mean 'steps'?)"),
        ("- overfit_tiny_batch: {steps: 0}", "0 is below 1"),
        ("- overfit_tiny_batch: {below: -1}", "must be greater than 0"),
        ("- loss_at_init: {classes: 1}", "1 is below 2"),
        ("- determinism: {steps: 3}", "determinism takes no arguments"),
    ],
)
def test_a_wrong_check_argument_is_a_problem_with_its_field(
    tmp_path: Path, sanity: str, message: str
) -> None:
    found = _problems(tmp_path, "entrypoint: train:run\nkit: train:kit", sanity)
    assert any(message in p and "sanity[0]" in p for p in found), found


def test_finites_arguments_without_a_kit_are_a_problem_not_ignored(tmp_path: Path) -> None:
    found = _problems(tmp_path, "entrypoint: train:run", "- finite: {steps: 3}")
    assert any("finite's arguments set its run.kit part" in p for p in found), found
    assert _spec(tmp_path, "entrypoint: train:run", "- finite").sanity[0].name == "finite"
