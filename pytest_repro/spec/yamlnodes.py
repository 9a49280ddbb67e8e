"""YAML with line numbers.

``yaml.safe_load`` forgets where each value was written. Here the document is
composed into nodes (safe tags only: no arbitrary Python objects), and every
node keeps its 1-based line, so validation can say ``paper.yaml:14``.

Departures from PyYAML's YAML 1.1 defaults, all to avoid silent surprises in
hyperparameters:

* ``1e-3`` is a float (YAML 1.2), not the string ``"1e-3"``;
* a mapping with the same key twice is an error, not "the last one wins"
  (merge keys ``<<: *base`` follow the YAML merge spec: written keys override
  merged ones, and of ``<<: [*a, *b]`` the earlier mapping wins);
* a scalar that YAML reads as something other than a string, number, boolean
  or null (``2020-01-01`` is a date, ``!!binary``) is an error, not a value that
  breaks JSON later;
* aliases may not expand to more than :data:`MAX_ALIAS_VALUES` values (the
  "billion laughs" document is 637 bytes).

The text is parsed by libyaml when PyYAML has it, else by the pure-Python parser,
with the same nodes, lines and errors (see :mod:`pytest_repro.spec.yamlread`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from pytest_repro.pause import collector_paused
from pytest_repro.spec.yamlread import HAS_LIBYAML, Composed, Slot, compose
from pytest_repro.spec.ynode import DuplicateKeyError, YamlSyntaxError, YNode

__all__ = [
    "HAS_LIBYAML",
    "MAX_ALIAS_VALUES",
    "MAX_COLLECTION_ALIASES",
    "DuplicateKeyError",
    "YNode",
    "YamlSyntaxError",
    "parse",
]

MAX_ALIAS_VALUES = 1_000_000
"""The most values that aliases (and ``<<`` merges) may add to a document by repetition."""

MAX_COLLECTION_ALIASES = 10_000
"""The most aliases of a list or mapping (``*base``, ``<<: *base``) in one document."""


def parse(text: str, *, libyaml: bool | None = None) -> YNode | None:
    """Parse one YAML document into :class:`YNode` s; ``None`` for an empty document.

    ``libyaml`` chooses the parser: None uses libyaml when PyYAML has it
    (:data:`HAS_LIBYAML`), False the pure-Python one; the result is the same.
    Raises :class:`YamlSyntaxError` with the line of the problem::

        root = parse("lr: 1e-3\\n")
        assert root is not None and root.value["lr"].value == 0.001
    """
    # A large spec makes a million small objects and no garbage: pausing the cyclic
    # collector meanwhile saves about 40% of the time of a 150,000-key config.
    with collector_paused():
        return _parse(text, libyaml=HAS_LIBYAML if libyaml is None else libyaml)


def _parse(text: str, *, libyaml: bool) -> YNode | None:
    try:
        composed = compose(text, libyaml=libyaml)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        raise YamlSyntaxError(what, line) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise YamlSyntaxError(f"character {exc.character!r} is not allowed in YAML", line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is marked
        raise YamlSyntaxError(str(exc), 1) from None
    if composed.root is None:
        return None
    return _Converter(composed).convert(composed.root, None)


_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _MERGE, _VALUE = (_TAG + t for t in ("str", "null", "merge", "value"))
_COLLECTION_TAGS = {_TAG + "map", _TAG + "seq"}
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float")}
_KEY_TAGS = {_STR, _VALUE, _TAG + "bool", _TAG + "int", _TAG + "float", _TAG + "timestamp"}
_KINDS = {_TAG + "null": "null", _TAG + "bool": "boolean", _TAG + "int": "integer"}


class _Converter:
    """yaml nodes → :class:`YNode` s, each yaml node once: an alias reuses its anchor's YNode.

    ``repeated`` counts the values aliases add (each alias adds the size of what it
    names); the count stops a small document that names a huge one.
    """

    def __init__(self, composed: Composed) -> None:
        self.alias_lines = composed.alias_lines
        self.constructor = SafeConstructor()
        self.done: dict[int, YNode] = {}
        self.sizes: dict[int, int] = {}  # id(YNode) → values in it, for lists and mappings
        self.open: set[int] = set()  # collections being converted, to refuse cycles
        self.repeated = 0
        self.collection_aliases = 0

    def size(self, node: YNode) -> int:
        return 1 if node.kind == "scalar" else self.sizes[id(node)]

    def convert(self, node: yaml.Node, slot: Slot | None) -> YNode:
        seen = self.done.get(id(node))
        if seen is not None or id(node) in self.open:
            return self.alias(node, seen, slot)
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            result = self.scalar(node, line)
        else:
            if node.tag not in _COLLECTION_TAGS:
                raise YamlSyntaxError(
                    f"the tag {node.tag!r} is not allowed; a spec holds plain data only", line
                )
            self.open.add(id(node))
            if not isinstance(node, yaml.MappingNode):
                items = [
                    self.convert(child, (id(node), i, False)) for i, child in enumerate(node.value)
                ]
                result = YNode("seq", items, line)
            else:
                result = self.mapping(node, line)
            self.open.discard(id(node))
            self.sizes[id(result)] = 1 + sum(self.size(child) for child in _children(result))
        self.done[id(node)] = result
        return result

    def alias(self, node: yaml.Node, seen: YNode | None, slot: Slot | None) -> YNode:
        anchor, line = self.alias_lines.get(slot or (0, 0, False), ("", 0))
        line = line or node.start_mark.line + 1
        kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
        if seen is None:
            raise YamlSyntaxError(
                f"the alias *{anchor} is inside the {kind} it names, which would be infinite; "
                "a spec holds plain data only",
                line,
            )
        self.repeated += self.size(seen)
        if seen.kind != "scalar":
            self.collection_aliases += 1
        if self.repeated > MAX_ALIAS_VALUES or self.collection_aliases > MAX_COLLECTION_ALIASES:
            what = (
                f"aliases expand to more than {MAX_ALIAS_VALUES:,} values"
                if self.repeated > MAX_ALIAS_VALUES
                else f"more than {MAX_COLLECTION_ALIASES:,} aliases name a list or mapping"
            )
            raise YamlSyntaxError(
                f"{what} (*{anchor} here repeats {self.size(seen):,}); "
                "write the values out, or use fewer nested aliases",
                line,
            )
        return seen

    def scalar(self, node: yaml.ScalarNode, line: int) -> YNode:
        tag, raw = node.tag, node.value
        if tag == _STR:
            value: Any = raw
        elif tag in _SCALAR_TAGS:
            construct = SafeConstructor.yaml_constructors[tag]
            try:
                value = construct(self.constructor, node)
            except (ValueError, KeyError):  # an explicit tag on the wrong text: !!int ten
                raise YamlSyntaxError(
                    f"{raw!r} is not a valid {_KINDS.get(tag, 'float')}", line
                ) from None
        elif tag == _TAG + "timestamp":
            if not SafeConstructor.timestamp_regexp.match(raw):  # !!timestamp on other text
                raise YamlSyntaxError(f"{raw!r} is not a valid timestamp", line)
            what = "a date" if len(raw.strip()) <= 10 else "a timestamp"
            raise YamlSyntaxError(
                f"{raw} is read by YAML as {what}; quote it: {_quoted(raw)}", line
            )
        elif tag == _TAG + "binary":
            raise YamlSyntaxError(
                "!!binary data is not allowed; a spec holds plain data only "
                "(write it as a string, e.g. a path to a file)",
                line,
            )
        else:
            raise YamlSyntaxError(
                f"the tag {tag!r} is not allowed; a spec holds plain data only", line
            )
        return YNode("scalar", value, line, raw=raw, quoted=node.style in ("'", '"'))

    def mapping(self, node: yaml.MappingNode, line: int) -> YNode:
        items: dict[str, YNode] = {}
        key_lines: dict[str, int] = {}
        merged: list[YNode] = []
        merge_line = 0
        for i, (key_node, value_node) in enumerate(node.value):
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE and isinstance(key_node, yaml.ScalarNode):
                if merge_line:
                    raise DuplicateKeyError(
                        f"duplicate key '<<' (first written on line {merge_line}); "
                        "merge several mappings with `<<: [*a, *b]`",
                        key_line,
                    )
                merge_line = key_line
                merged = self.merge_sources(value_node, (id(node), i, False), key_line)
                continue
            key = self.key(key_node, key_line)
            if key in items:
                raise DuplicateKeyError(
                    f"duplicate key {key!r} (first written on line {key_lines[key]}); "
                    "YAML would silently keep only the last one",
                    key_line,
                )
            items[key] = self.convert(value_node, (id(node), i, False))
            key_lines[key] = key_line
        if merged:  # the YAML merge spec: written keys win, then the earlier mapping
            out: dict[str, YNode] = {}
            out_lines: dict[str, int] = {}
            for source in merged:
                for key, child in source.value.items():
                    if key not in out:
                        out[key] = child
                        out_lines[key] = (source.key_lines or {})[key]
            out.update(items)
            out_lines.update(key_lines)
            items, key_lines = out, out_lines
        return YNode("map", items, line, key_lines=key_lines)

    def merge_sources(self, value_node: yaml.Node, slot: Slot, line: int) -> list[YNode]:
        value = self.convert(value_node, slot)
        sources = value.value if value.kind == "seq" else [value]
        if not all(source.kind == "map" for source in sources):
            raise YamlSyntaxError(
                "`<<` merges mappings: write `<<: *name` or `<<: [*a, *b]` "
                "where each anchor names a mapping",
                line,
            )
        return list(sources)

    def key(self, key_node: yaml.Node, line: int) -> str:
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlSyntaxError("a mapping key must be a plain name, not a list or mapping", line)
        if key_node.tag == _NULL:
            return ""
        if key_node.tag not in _KEY_TAGS:
            raise YamlSyntaxError(
                f"the tag {key_node.tag!r} is not allowed; a spec holds plain data only", line
            )
        return str(key_node.value)


def _children(node: YNode) -> Any:
    return node.value.values() if node.kind == "map" else node.value


def _quoted(raw: str) -> str:
    return "'" + raw.replace("'", "''") + "'"
