"""A parsed tree kept across sessions is used only for the very text (and parser) that made
it, reads back exactly as :func:`parse` builds it, aliases included, and a file that does
not check out is parsed afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.spec import parse_cache, yamlnodes
from pytest_repro.spec.parse_cache import TreeCache, cache_file, decode, encode, parse_cached
from pytest_repro.spec.yamlnodes import YNode, parse

ROOT = Path(__file__).resolve().parents[2]
ALIASES = """\
base: &base {lr: 0.1, layers: [64, 64], name: 'x', on: true, none: null, big: 123456789012345678901}
a: *base
b:
  <<: *base
  lr: 1e-3
c: [*base, *base, -0.0, .inf, 2, "quoted"]
"""


def same(a: YNode | None, b: YNode | None, seen: dict[int, YNode]) -> bool:
    """Equal trees, every scalar of the same type, and a node shared in ``a`` shared in ``b``."""
    if a is None or b is None:
        return a is b
    if id(a) in seen:
        return seen[id(a)] is b
    seen[id(a)] = b
    fields = ("kind", "line", "raw", "key_lines", "quoted")
    if any(getattr(a, f) != getattr(b, f) for f in fields):
        return False
    if a.kind == "map":
        return list(a.value) == list(b.value) and all(
            same(a.value[k], b.value[k], seen) for k in a.value
        )
    if a.kind == "seq":
        return len(a.value) == len(b.value) and all(
            same(x, y, seen) for x, y in zip(a.value, b.value, strict=True)
        )
    return type(a.value) is type(b.value) and repr(a.value) == repr(b.value)


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("papers/*/paper.yaml")), ids=lambda p: p.parent.name
)
def test_every_shipped_spec_reads_back_as_parse_builds_it(path: Path) -> None:
    root = parse(path.read_text(encoding="utf-8"))
    assert same(root, decode(*encode(root)), {})


def test_an_alias_read_back_is_still_the_node_it_names() -> None:
    root = parse(ALIASES)
    back = decode(*encode(root))
    assert back is not None and same(root, back, {})
    assert back.value["a"] is back.value["base"]
    assert back.value["c"].value[0] is back.value["c"].value[1] is back.value["base"]


def test_an_empty_document_reads_back_as_none() -> None:
    assert decode(*encode(parse("# nothing\n"))) is None


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts parse_cached had to parse itself."""
    parsed: list[str] = []

    def spy(text: str) -> YNode | None:
        parsed.append(text)
        return parse(text)

    monkeypatch.setattr(yamlnodes, "parse", spy)
    return parsed


def test_the_same_text_is_read_back_and_an_edited_one_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = counting(monkeypatch)
    file = cache_file(tmp_path, tmp_path / "paper.yaml")
    first = parse_cached("lr: 0.1\n", file)
    assert parsed == ["lr: 0.1\n"] and file.is_file()
    again = parse_cached("lr: 0.1\n", file)
    assert parsed == ["lr: 0.1\n"]  # read back, not parsed
    assert same(first, again, {})
    edited = parse_cached("lr: 0.2\n", file)  # the file still holds the old text's tree
    assert parsed == ["lr: 0.1\n", "lr: 0.2\n"]
    assert edited is not None and edited.value["lr"].value == 0.2


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-5] + b"xxxxx",  # the body no longer matches its checksum
        lambda data: data[:40],  # cut short
        lambda data: b"",
        lambda data: data.replace(b"pytest-repro", b"pytest-other"),
    ],
    ids=["checksum", "truncated", "empty", "header"],
)
def test_a_damaged_file_is_parsed_afresh_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    file = cache_file(tmp_path, tmp_path / "paper.yaml")
    parse_cached(ALIASES, file)
    file.write_bytes(damage(file.read_bytes()))  # type: ignore[operator]
    parsed = counting(monkeypatch)
    root = parse_cached(ALIASES, file)
    assert parsed == [ALIASES]
    assert same(parse(ALIASES), root, {})
    assert parse_cached(ALIASES, file) is not None and parsed == [ALIASES]  # written again


def test_a_tree_of_another_parser_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = cache_file(tmp_path, tmp_path / "paper.yaml")
    parse_cached("lr: 0.1\n", file)
    monkeypatch.setattr(parse_cache, "parser_fingerprint", lambda: b"another parser")
    parsed = counting(monkeypatch)
    parse_cached("lr: 0.1\n", file)
    assert parsed == ["lr: 0.1\n"]


def test_a_text_that_does_not_parse_raises_as_parse_does_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    file = cache_file(tmp_path, tmp_path / "paper.yaml")
    with pytest.raises(Exception, match="duplicate key") as raised:
        parse_cached("a: 1\na: 2\n", file)
    assert type(raised.value).__name__ == "DuplicateKeyError"
    assert not file.exists()


def test_reading_and_writing_follow_the_cache_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "paper.yaml"
    TreeCache(tmp_path / "trees", read=True, write=False).parse("lr: 1\n", spec)
    assert not (tmp_path / "trees").exists()
    TreeCache(tmp_path / "trees", read=False, write=True).parse("lr: 1\n", spec)
    assert cache_file(tmp_path / "trees", spec).is_file()
    parsed = counting(monkeypatch)
    TreeCache(tmp_path / "trees", read=False, write=True).parse("lr: 1\n", spec)
    assert parsed == ["lr: 1\n"]  # never read
    TreeCache(tmp_path / "trees").parse("lr: 1\n", spec)
    assert parsed == ["lr: 1\n"]


def test_no_working_folder_is_created_for_a_tree(tmp_path: Path) -> None:
    cache = TreeCache(tmp_path / ".repro" / "parsed")
    assert cache.parse("lr: 1\n", tmp_path / "paper.yaml") is not None
    assert not (tmp_path / ".repro").exists()


def test_a_tree_read_back_needs_no_yaml_parser(tmp_path: Path) -> None:
    """A session whose specs' trees are kept never imports PyYAML (nor the parser)."""
    import subprocess
    import sys

    spec = tmp_path / "paper.yaml"
    spec.write_text("lr: 0.1\nlayers: [1, 2]\n")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pytest_repro.spec.parse_cache import TreeCache\n"
        f"spec = Path({str(spec)!r})\n"
        f"root = TreeCache(Path({str(tmp_path / 'parsed')!r})).parse(spec.read_text(), spec)\n"
        "print(root.value['lr'].value, 'yaml' in sys.modules,\n"
        "      'pytest_repro.spec.yamlnodes' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout.split() == ["0.1", "True", "True"]  # parsed, and kept
    assert runs[1].stdout.split() == ["0.1", "False", "False"]  # read back
