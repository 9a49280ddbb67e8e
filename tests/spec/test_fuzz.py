"""Fuzzing the spec loader: whatever the document, the result is a spec or a SpecError with lines.

Hundreds of examples per property by default; thousands with HYPOTHESIS_PROFILE=slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pytest_repro.errors import SpecError
from pytest_repro.spec import PaperSpec, load_spec_text
from pytest_repro.spec.loader import CLAIM_KEYS, PAPER_KEYS, RUN_KEYS, TOP_KEYS

from .test_loader import VALID


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paper")
    (path / "train.py").write_text("def run(ctx):\n    pass\n")
    return path


def check(folder: Path, text: str) -> None:
    """The property: a spec, or a SpecError whose every problem has a line inside the document."""
    lines = max(1, len(text.splitlines()) + 1)
    try:
        spec = load_spec_text(text, path=folder / "paper.yaml", display="papers/x/paper.yaml")
    except SpecError as exc:
        problems = exc.problems
    else:
        assert isinstance(spec, PaperSpec)
        assert spec.claims
        return
    assert problems
    for problem in problems:
        assert 1 <= problem.line <= lines, (problem, text)
        assert problem.path == "papers/x/paper.yaml"
        assert str(problem).startswith(f"papers/x/paper.yaml:{problem.line}:")


VOCAB = sorted(
    {
        *TOP_KEYS,
        *PAPER_KEYS,
        *RUN_KEYS,
        *CLAIM_KEYS,
        "value",
        "source",
        "why",
        "epoch",
        "step",
        "sd",
        "seeds",
        "min",
        "max",
        "a",
        "b",
        "config",
        "sklearn",
        "python",
        "files",
        "hf",
        "path",
    }
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "train:run",
            "10m",
            "load_digits",
            "higher",
            "lower",
            "gap",
            "final",
            "{seed}",
            "1e-3",
            "± 1",
        ]
    ),
)
keys = st.one_of(st.sampled_from(VOCAB), st.text(min_size=1, max_size=10))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=40,
)


@given(text=st.text(max_size=400))
def test_any_text_ends_in_a_spec_or_a_located_spec_error(folder: Path, text: str) -> None:
    check(folder, text)


@given(doc=st.dictionaries(st.sampled_from(TOP_KEYS), documents, max_size=8), flow=st.booleans())
def test_any_yaml_document_ends_in_a_spec_or_a_located_spec_error(
    folder: Path, doc: dict, flow: bool
) -> None:
    check(folder, yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = VALID.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "value", "indent", "key", "insert"]))
        line = lines[i]
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, line)
        elif action == "value" and ":" in line:
            head = line.split(":", 1)[0]
            lines[i] = f"{head}: {yaml.safe_dump(draw(documents), default_flow_style=True).strip()}"
        elif action == "indent":
            lines[i] = " " * draw(st.integers(0, 6)) + line.lstrip()
        elif action == "key" and ":" in line:
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = f"{indent}{draw(keys)}:{line.split(':', 1)[1]}"
        elif action == "insert":
            lines.insert(i, draw(st.text(max_size=30)).replace("\n", " "))
        if not lines:
            break
    return "\n".join(lines) + "\n"


@given(text=mutated())
def test_mutations_of_a_valid_spec_end_in_a_spec_or_a_located_spec_error(
    folder: Path, text: str
) -> None:
    check(folder, text)


def test_the_unmutated_spec_is_valid(folder: Path) -> None:
    check(folder, VALID)
    assert load_spec_text(VALID, path=folder / "paper.yaml").claims[0].id == "fit"


def test_deep_nesting_is_a_spec_error_not_a_recursion_crash(folder: Path) -> None:
    text = "paper: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(SpecError):
        load_spec_text(text, path=folder / "paper.yaml")
