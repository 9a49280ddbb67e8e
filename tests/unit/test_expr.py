"""Curve formulas: a safe evaluator over an allow-list, errors that point at the column."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_repro.spec.expr import FormulaError, compile_formula

NAMES = {"x", "steps"}


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("2 * x + 1", {"x": 3.0}, 7.0),
        ("-x ** 2", {"x": 3.0}, -9.0),
        ("0.9 - 0.3 * exp(-steps / 1000)", {"steps": 0.0}, 0.6),
        ("log(e) + log(8, 2) + log10(100) + log2(4)", {}, 8.0),
        ("sqrt(abs(x)) + min(x, 1, 2) + max(x, 0)", {"x": -4.0}, -2.0),
        ("pi * 1e-1", {}, math.pi / 10),
        ("+x", {"x": 1.5}, 1.5),
    ],
)
def test_an_allowed_formula_evaluates(text: str, values: dict[str, float], expected: float) -> None:
    assert compile_formula(text, NAMES).evaluate(values) == pytest.approx(expected)


def test_a_formula_lists_the_names_it_uses() -> None:
    assert compile_formula("x * pi + e", NAMES).names == frozenset({"x"})


def test_an_unknown_name_is_named_with_the_closest_allowed_one_and_its_column() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("2 * stpes + 1", NAMES)
    err = info.value
    assert err.column == 5
    assert err.text == "2 * stpes + 1"
    assert "unknown name 'stpes'" in str(err)
    assert "did you mean 'steps'?" in str(err)
    assert "e, pi, steps, x" in str(err)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("x.real", 1),
        ("x[0]", 1),
        ("(lambda: 1)()", 2),
        ("[x for x in (1, 2)]", 1),
        ("__import__('os')", 1),
        ("'abc'", 1),
        ("1 + f'{x}'", 5),
        ("x < 1", 1),
        ("x if x else 1", 1),
        ("x // 2", 1),
        ("True + 1", 1),
        ("exp(x, 2)", 1),
        ("max(x)", 1),
        ("log(x, base=2)", 1),
        ("2 ** 1000", 6),
        ("(y := 1)", 2),
        ("open('f')", 1),
        ("1e999", 1),
        ("1j", 1),
        ("", 0),
    ],
)
def test_anything_outside_the_allow_list_is_refused_with_a_column(text: str, column: int) -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula(text, NAMES)
    assert info.value.column == column


def test_the_column_counts_characters_not_bytes() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("max(1, 2) + \u00e9t\u00e9 + y", {"été"} | NAMES)
    assert info.value.column == 19


def test_long_and_deep_formulas_are_refused() -> None:
    with pytest.raises(FormulaError, match="at most 500"):
        compile_formula("x+" * 300 + "x", NAMES)
    with pytest.raises(FormulaError, match="at most 200"):
        compile_formula("-" * 250 + "x", NAMES)


@pytest.mark.parametrize(
    ("text", "values", "match"),
    [
        ("log(x)", {"x": -1.0}, "math domain error"),
        ("1 / x", {"x": 0.0}, "division by zero"),
        ("x ** 0.5", {"x": -4.0}, "cannot be evaluated"),
        ("exp(x)", {"x": 1000.0}, "cannot be evaluated"),
        ("2 ** x", {"x": 200.0}, "beyond"),
        ("x", {}, "no value given for x"),
        ("x * 1e300 * 1e300", {"x": 1.0}, "not a finite number"),
    ],
)
def test_a_formula_that_cannot_be_evaluated_says_why(
    text: str, values: dict[str, float], match: str
) -> None:
    with pytest.raises(FormulaError, match=match):
        compile_formula(text, NAMES).evaluate(values)


def test_a_formula_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        compile_formula("nope", NAMES)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_random_text_raises_nothing_but_a_formula_error(text: str) -> None:
    with contextlib.suppress(FormulaError):
        compile_formula(text, NAMES)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="x123.e+-*/() ,logexpsqrtminax", max_size=40),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_random_formulas_evaluate_or_raise_a_formula_error(text: str, x: float) -> None:
    try:
        f = compile_formula(text, {"x"})
        out = f.evaluate({"x": x})
    except FormulaError:
        return
    assert math.isfinite(out)


#: (text, offset of the refused part within it, words the message must hold)
FORBIDDEN = [
    ("x.real", 0, "attribute access (.real)"),
    ("steps.__class__", 0, "attribute access (.__class__)"),
    ("foo(x)", 0, "unknown function 'foo'"),
    ("eval(x)", 0, "unknown function 'eval'"),
    ("math.exp(x)", 0, "attribute access (.exp)"),
    ("[x for x in y]", 0, "a comprehension"),
    ("sum(x for x in y)", 0, "unknown function 'sum'"),
    ("(lambda: 1)", 1, "lambda"),
    ("(lambda: 1)(x)", 1, "lambda"),
    ("9**9**9", 3, "beyond ±100"),
    ("2**(50+60)", 4, "beyond ±100"),
    ("undeclared", 0, "unknown name 'undeclared'"),
]

numbers = st.integers(0, 99).map(str) | st.sampled_from(["0.5", "1e-3", "pi", "e"])
names = st.sampled_from(["x", "steps"])
allowed = st.recursive(
    numbers | names,
    lambda inner: (
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        | inner.map(lambda a: f"exp({a})")
        | st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})")
        | inner.map(lambda a: f"({a}) ** 2")
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(allowed, st.sampled_from(FORBIDDEN), st.booleans())
def test_a_refused_part_anywhere_in_a_formula_is_named_at_its_column(
    prefix: str, bad: tuple[str, int, str], first: bool
) -> None:
    compile_formula(prefix, NAMES)  # the allowed part alone compiles
    part, offset, words = bad
    text = f"{part} + {prefix}" if first else f"{prefix} + {part}"
    start = 0 if first else len(prefix) + 3
    with pytest.raises(FormulaError) as info:
        compile_formula(text, NAMES)
    assert info.value.column == start + offset + 1
    assert f"(column {start + offset + 1})" in str(info.value)
    assert words in str(info.value)


@settings(max_examples=100, deadline=None)
@given(allowed, st.floats(-1e6, 1e6))
def test_an_allowed_formula_evaluates_to_a_number_or_says_why(text: str, x: float) -> None:
    f = compile_formula(text, NAMES)
    why = ""
    out = 0.0
    try:
        out = f.evaluate({"x": x, "steps": abs(x)})
    except FormulaError as exc:
        why = str(exc)
    assert math.isfinite(out)
    assert not why or "cannot be evaluated" in why or "not a finite number" in why
