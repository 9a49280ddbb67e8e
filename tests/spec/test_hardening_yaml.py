"""YAML hardening: alias bombs, merge keys, libyaml, and scalars that are not JSON."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pytest_repro.errors import SpecError
from pytest_repro.spec import load_spec_text
from pytest_repro.spec.yamlnodes import (
    HAS_LIBYAML,
    DuplicateKeyError,
    YamlSyntaxError,
    YNode,
    parse,
)

needs_libyaml = pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml")
BOTH = pytest.mark.parametrize(
    "libyaml",
    [pytest.param(True, marks=needs_libyaml, id="libyaml"), pytest.param(False, id="python")],
)

LAUGHS = """\
paper: {id: bomb, title: Billion laughs}
run:
  entrypoint: train:run
  config:
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
claims: []
"""


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def outcome(text: str, *, libyaml: bool) -> Any:
    """What parse gives: the tree, or the error's class, message and line."""
    try:
        return parse(text, libyaml=libyaml)
    except YamlSyntaxError as exc:
        return (type(exc).__name__, exc.message, exc.line)
    except RecursionError:
        return "RecursionError"


@BOTH
def test_a_billion_laughs_alias_bomb_is_refused_at_the_alias_that_overflows(libyaml: bool) -> None:
    started = time.perf_counter()
    with pytest.raises(YamlSyntaxError) as info:
        parse(LAUGHS, libyaml=libyaml)
    elapsed = time.perf_counter() - started  # about 1 ms either way; it used to hang
    assert elapsed >= 0
    assert info.value.line == line_of(LAUGHS, "g: &g")
    assert "aliases expand to more than 1,000,000 values" in info.value.message
    assert "write the values out, or use fewer nested aliases" in info.value.message


def test_an_alias_bomb_is_a_spec_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec_text(LAUGHS, path=tmp_path / "paper.yaml", display="papers/x/paper.yaml")
    assert f"papers/x/paper.yaml:{line_of(LAUGHS, 'g: &g')}:" in str(info.value)


@BOTH
def test_many_aliases_of_a_small_mapping_are_fine_but_not_without_bound(libyaml: bool) -> None:
    base = "base: &b {lr: 0.1, wd: 0.0}\n"
    fine = base + "".join(f"v{i}: *b\n" for i in range(1000))
    root = parse(fine, libyaml=libyaml)
    assert root is not None and root.value["v999"].plain() == {"lr": 0.1, "wd": 0.0}
    too_many = base + "".join(f"v{i}: *b\n" for i in range(10_001))
    with pytest.raises(YamlSyntaxError, match="aliases name a list or mapping") as info:
        parse(too_many, libyaml=libyaml)
    assert info.value.line == line_of(too_many, "v10000:")


@BOTH
def test_an_alias_inside_the_collection_it_names_is_refused_not_a_recursion(libyaml: bool) -> None:
    with pytest.raises(YamlSyntaxError, match=r"\*loop is inside the list it names") as info:
        parse("a: 1\nb: &loop [1,\n  *loop]\n", libyaml=libyaml)
    assert info.value.line == 3


@BOTH
def test_a_written_key_overrides_a_merged_one_and_keeps_its_own_line(libyaml: bool) -> None:
    text = textwrap.dedent(
        """\
        defaults: &v
          base: 0.5
          width: 64
        run:
          <<: *v
          base: 0.8
        """
    )
    root = parse(text, libyaml=libyaml)
    assert root is not None
    run = root.value["run"]
    assert run.plain() == {"base": 0.8, "width": 64}
    assert run.key_lines == {"base": line_of(text, "base: 0.8"), "width": line_of(text, "width")}
    assert run.value["base"].line == line_of(text, "base: 0.8")


@BOTH
def test_of_several_merged_mappings_the_earlier_wins_and_written_keys_win_over_all(
    libyaml: bool,
) -> None:
    text = textwrap.dedent(
        """\
        a: &a {x: 1, y: 2}
        b: &b {y: 3, w: 4}
        c:
          z: 5
          <<: [*a, *b]
          w: 6
        """
    )
    root = parse(text, libyaml=libyaml)
    assert root is not None
    c = root.value["c"]
    assert c.plain() == {"x": 1, "y": 2, "w": 6, "z": 5}
    assert c.key_lines == {"x": 1, "y": 1, "w": 6, "z": 4}


@BOTH
def test_a_key_written_twice_is_still_a_duplicate_next_to_a_merge(libyaml: bool) -> None:
    text = "a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n  x: 3\n"
    with pytest.raises(DuplicateKeyError, match="duplicate key 'x' \\(first written on line 4\\)"):
        parse(text, libyaml=libyaml)
    with pytest.raises(DuplicateKeyError, match="duplicate key '<<'") as info:
        parse("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n", libyaml=libyaml)
    assert info.value.line == 4
    with pytest.raises(YamlSyntaxError, match="`<<` merges mappings"):
        parse("a: &a [1]\nb:\n  <<: *a\n", libyaml=libyaml)


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-01-01", "2020-01-01 is read by YAML as a date; quote it: '2020-01-01'"),
        ("2001-12-14 21:59:43", "is read by YAML as a timestamp; quote it: '2001-12-14 21:59:43'"),
        ("!!binary aGVsbG8=", "!!binary data is not allowed"),
        ("!!timestamp soon", "'soon' is not a valid timestamp"),
        ("!!int ten", "'ten' is not a valid integer"),
        ("!!bool maybe", "'maybe' is not a valid boolean"),
        ("!!omap [{a: 1}]", "the tag 'tag:yaml.org,2002:omap' is not allowed"),
        ("!!pairs [{a: 1}]", "the tag 'tag:yaml.org,2002:pairs' is not allowed"),
        ("!!set {a: null}", "the tag 'tag:yaml.org,2002:set' is not allowed"),
        ("!!omap x", "the tag 'tag:yaml.org,2002:omap' is not allowed"),
    ],
)
def test_scalars_that_are_not_json_data_are_refused_at_their_line(
    libyaml: bool, value: str, message: str
) -> None:
    text = f"run:\n  config:\n    lr: 0.1\n    start: {value}\n"
    with pytest.raises(YamlSyntaxError) as info:
        parse(text, libyaml=libyaml)
    assert message in info.value.message
    assert info.value.line == 4


@BOTH
def test_a_quoted_date_and_a_1e_3_float_are_plain_values(libyaml: bool) -> None:
    root = parse("start: '2020-01-01'\nlr: 1e-3\nkey: !!str 2020-01-01\n", libyaml=libyaml)
    assert root is not None
    assert root.plain() == {"start": "2020-01-01", "lr": 0.001, "key": "2020-01-01"}


@needs_libyaml
def test_deep_nesting_under_libyaml_raises_rather_than_crashing_the_interpreter() -> None:
    code = (
        "from pytest_repro.spec.yamlnodes import parse\n"
        "try:\n    parse('a: ' + '[' * 200000, libyaml=True)\n"
        "except RecursionError:\n    print('RecursionError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "RecursionError")


DOCUMENTS = [
    "",
    "# only a comment\n",
    "a: 1\nb: [1, 2.5, -3, 1e-3, .inf, null, ~, true, off, 0x1F, 0o17, 1_000]\n",
    "a: 'quoted'\nb: \"dq \\t\"\nc: |\n  literal\n  text\nd: >\n  folded\n  text\n",
    "\ufeffa: 1\r\nb: 2\r\n",
    "a: 1\x85b: 2\n",
    "a: &x {p: 1}\nb: *x\nc: [*x, *x]\n",
    "? complex\n: value\n1: int key\nnull: x\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "- a\nb: 1\n",
    "\ta: 1\n",
    "a: @x\n",
    "a: *nope\n",
    "a: &x 1\nb: &x 2\n",
    "a: 1\n---\nb: 2\n",
    "a: \x07\n",
    "a: '\ud800'\n",
    "a: !foo 1\n",
    "a: !!python/object/apply:os.system [echo]\n",
    "? [1]\n: 2\n",
    "a:\n  - 1\n - 2\n",
    "a: {b: 1}\na: 2\n",
    "a: 2020-01-01\n",
    "a: " + "[" * 400 + "]" * 400 + "\n",
    LAUGHS,
]


@needs_libyaml
@pytest.mark.parametrize("text", DOCUMENTS)
def test_libyaml_and_pure_python_give_the_same_nodes_lines_and_errors(text: str) -> None:
    assert outcome(text, libyaml=True) == outcome(text, libyaml=False)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, width=32)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.sampled_from(["1e-3", "0.10", "yes", "~", "<<", "- x", "a: b", "#c", "'", "2020-01-01"])
)
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def tree(node: YNode | None) -> Any:
    """Everything a YNode holds, floats compared by their text (so -0.0 is not 0.0)."""
    if node is None:
        return None
    if node.kind == "map":
        value: Any = {k: tree(v) for k, v in node.value.items()}
    elif node.kind == "seq":
        value = [tree(v) for v in node.value]
    else:
        value = (type(node.value).__name__, repr(node.value))
    return (node.kind, value, node.line, node.raw, node.key_lines, node.quoted)


@needs_libyaml
@given(
    data=documents,
    flow=st.sampled_from([None, True, False]),
    width=st.sampled_from([20, 80]),
    unicode=st.booleans(),
)
def test_libyaml_and_pure_python_agree_on_any_dumped_document(
    data: Any, flow: bool | None, width: int, unicode: bool
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, width=width, allow_unicode=unicode)
    fast, slow = outcome(text, libyaml=True), outcome(text, libyaml=False)
    if isinstance(fast, tuple) or isinstance(slow, tuple):
        assert fast == slow
    else:
        assert tree(fast) == tree(slow)


yamlish = st.lists(
    st.sampled_from(
        [
            *"ab1.-:?[]{},&*!|>'\"#% \n\t<~\r\x85\u2028\ufeff\\",
            "e-3",
            "<<: ",
            "&x ",
            "*x",
            "  ",
            "\n- ",
            "\n  ",
            ": ",
            "--- ",
            "...",
            "%YAML 1.1",
        ]
    ),
    max_size=30,
).map("".join)


@needs_libyaml
@given(text=yamlish)
def test_libyaml_and_pure_python_agree_on_arbitrary_text(text: str) -> None:
    fast, slow = outcome(text, libyaml=True), outcome(text, libyaml=False)
    if isinstance(fast, YNode) and isinstance(slow, YNode):
        assert tree(fast) == tree(slow)
    else:
        assert fast == slow
