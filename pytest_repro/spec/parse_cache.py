"""Parsed ``paper.yaml`` trees kept across sessions, under the digest of the text and parser.

Parsing a large spec is most of loading it (a thousand claims take about a third of a
second). The tree :func:`~pytest_repro.spec.yamlnodes.parse` builds is a function of the
text and of the parser alone, so a session may take the tree the last one built for the
same text instead of parsing it again; everything after parsing (validation, the checks
of the paper's folder) runs every time.

One file per ``paper.yaml`` (named by a digest of its resolved path) holds the last tree
parsed: a header with a checksum, the key — a sha256 over the text, this format, the
Python and PyYAML versions, whether libyaml parsed it and the source of the parser
(:data:`PARSER_CODE`) — and the nodes as :mod:`marshal` data (plain values only, never
code). A tree is used only when its key matches and its checksum checks out; anything
else is parsed afresh and written again. Only trees that parsed are kept (an error is
found again by parsing). Aliases stay aliases: a node written once and named twice is one
node when read back, as :func:`parse` gives it. The files hold nothing that cannot be
computed again: delete them whenever you like.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import marshal
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pytest_repro.pause import collector_paused
from pytest_repro.spec.ynode import YNode

#: The layout of a stored tree; another layout is never read.
FORMAT: Final = 1
#: The files (beside this one) whose source decides the tree :func:`parse` builds.
PARSER_CODE: Final = ("ynode.py", "yamlnodes.py", "yamlread.py", "parse_cache.py")
_MAGIC: Final = b"pytest-repro parsed spec\n"

Encoded = tuple[Any, ...]


@functools.cache
def parser_fingerprint() -> bytes:
    """A digest of what decides a tree besides its text (computed once per process):
    the Python and marshal versions, PyYAML as installed (its ``__init__.py``, which
    names its version, and its compiled libyaml binding, if any, by name and size; read
    from disk, so that a session reusing its trees never imports PyYAML) and the parser's
    source."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version_info[:3]}\0{marshal.version}\0".encode())
    found = importlib.util.find_spec("yaml")
    if found is None or found.origin is None:
        digest.update(b"no yaml\0")
    else:
        package = Path(found.origin).parent
        try:
            digest.update(Path(found.origin).read_bytes() + b"\0")
        except OSError:
            digest.update(b"unreadable\0")
        for binding in sorted(package.glob("_yaml*")):
            with contextlib.suppress(OSError):
                digest.update(f"{binding.name}\0{binding.stat().st_size}\0".encode())
    folder = Path(__file__).resolve().parent
    for name in PARSER_CODE:
        digest.update(name.encode() + b"\0")
        try:
            digest.update((folder / name).read_bytes() + b"\0")
        except OSError:
            digest.update(b"missing\0")
    return digest.digest()


def _parse(text: str) -> YNode | None:
    """:func:`~pytest_repro.spec.yamlnodes.parse`, imported (with PyYAML) only when a tree
    is not kept."""
    # By its full name, for the reason given in pytest_repro/spec/__init__.py: the parser's
    # nodes must be of the YNode class the rest of the session checks against.
    from pytest_repro.spec.yamlnodes import parse

    return parse(text)


@dataclass(frozen=True, slots=True)
class TreeCache:
    """Where a session keeps parsed trees, and whether it may read and write them there."""

    folder: Path
    read: bool = True
    write: bool = True

    def parse(self, text: str, spec_path: Path) -> YNode | None:
        """:func:`parse_cached` of the spec at ``spec_path`` (resolved) with this cache."""
        return parse_cached(
            text, cache_file(self.folder, spec_path), read=self.read, write=self.write
        )


def tree_key(text: str) -> str:
    """The key of the tree of ``text`` (its digest with the parser's)."""
    digest = hashlib.sha256(parser_fingerprint())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def cache_file(folder: Path, spec_path: Path) -> Path:
    """Where the tree of the spec at ``spec_path`` is kept in ``folder``."""
    name = hashlib.sha256(str(spec_path).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return folder / f"{name}.tree"


def parse_cached(
    text: str, file: Path | None, *, read: bool = True, write: bool = True
) -> YNode | None:
    """:func:`parse` of ``text``, taken from ``file`` when it holds the tree of this very
    text, else parsed (and, with ``write``, kept in ``file``). ``file`` None: parsed.

    Raises what :func:`parse` raises, for a text that does not parse."""
    if file is None or not (read or write):
        return _parse(text)
    key = tree_key(text)
    if read:
        found = _read(file, key)
        if found is not None:
            return found[0]
    root = _parse(text)
    if write:
        _write(file, key, root)
    return root


# -- the tree as plain data -------------------------------------------------------------------
def encode(root: YNode | None) -> tuple[list[Encoded], int]:
    """``root`` as a flat table of plain tuples, children before their parents, and the
    index of the root (-1 for None). A node reached twice (an alias) is one entry."""
    table: list[Encoded] = []
    index: dict[int, int] = {}
    if root is None:
        return table, -1
    # Iterative post-order: a deeply nested spec must not exhaust the stack here.
    stack: list[tuple[YNode, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in index:
            continue
        if not expanded and node.kind != "scalar":
            stack.append((node, True))
            children = node.value.values() if node.kind == "map" else node.value
            stack.extend((child, False) for child in reversed(list(children)))
            continue
        if node.kind == "map":
            value: Any = {k: index[id(v)] for k, v in node.value.items()}
        elif node.kind == "seq":
            value = [index[id(v)] for v in node.value]
        else:
            value = node.value
        index[id(node)] = len(table)
        table.append((node.kind, value, node.line, node.raw, node.key_lines, node.quoted))
    return table, index[id(root)]


def decode(table: list[Encoded], root: int) -> YNode | None:
    """The tree :func:`encode` flattened (raises ``ValueError`` and the like on anything
    that is not such a table)."""
    if root == -1:
        return None
    nodes: list[YNode] = []
    append = nodes.append
    for kind, value, line, raw, key_lines, quoted in table:
        if kind == "map":
            value = {k: nodes[i] for k, i in value.items()}
        elif kind == "seq":
            value = [nodes[i] for i in value]
        elif kind != "scalar" or type(value) not in _SCALARS:
            raise ValueError(f"not a stored node: {kind!r}")
        append(YNode(kind, value, line, raw, key_lines, quoted))
    return nodes[root]


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _read(file: Path, key: str) -> tuple[YNode | None] | None:
    """The tree stored in ``file`` under ``key``, in a 1-tuple; None when there is none
    to trust."""
    try:
        data = file.read_bytes()
    except OSError:
        return None
    head, _, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    if (
        len(lines) != 3
        or lines[0] + b"\n" != _MAGIC
        or lines[1] != key.encode()
        or lines[2] != hashlib.sha256(body).hexdigest().encode()
    ):
        return None
    try:
        with collector_paused():  # tens of thousands of small objects and no garbage
            table, root = marshal.loads(body)
            return (decode(table, root),)
    except Exception:  # a file that is not what we wrote: parsed afresh
        return None


def _write(file: Path, key: str, root: YNode | None) -> None:
    """Keep the tree of ``key`` in ``file`` (atomically); a failure only costs time."""
    try:
        body = marshal.dumps(encode(root))
    except ValueError:  # a value marshal cannot write: the spec is parsed every time
        return
    data = _MAGIC + key.encode() + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n\n"
    partial = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    try:
        file.parent.mkdir(exist_ok=True)
        partial.write_bytes(data + body)
        os.replace(partial, file)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


__all__ = [
    "FORMAT",
    "PARSER_CODE",
    "TreeCache",
    "cache_file",
    "decode",
    "encode",
    "parse_cached",
    "parser_fingerprint",
    "tree_key",
]
