"""YAML with line numbers.

``yaml.safe_load`` forgets where each value was written. Here the document is
composed into nodes (safe tags only: no arbitrary Python objects), and every
node keeps its 1-based line, so validation can say ``paper.yaml:14``.

Two deliberate departures from PyYAML's YAML 1.1 defaults, both to avoid silent
surprises in hyperparameters:

* ``1e-3`` is a float (YAML 1.2), not the string ``"1e-3"``;
* a mapping with the same key twice is an error, not "the last one wins".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

NodeKind = Literal["scalar", "map", "seq"]


@dataclass(frozen=True, slots=True)
class YNode:
    """A YAML node: ``value`` is a python scalar, ``dict[str, YNode]`` or ``list[YNode]``.

    ``raw`` is the scalar exactly as written (so ``id: 1611.03530`` keeps its
    trailing zero even though YAML reads it as a number); ``key_lines`` gives the
    line of each key of a mapping.
    """

    kind: NodeKind
    value: Any
    line: int
    raw: str | None = None
    key_lines: dict[str, int] | None = None
    quoted: bool = False

    def plain(self) -> Any:
        """The node as plain python data (dicts, lists, scalars)."""
        if self.kind == "map":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "seq":
            return [v.plain() for v in self.value]
        return self.value


class YamlSyntaxError(Exception):
    """The text is not YAML (or uses unsafe tags). ``line`` is 1-based; 0 when unknown."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class DuplicateKeyError(YamlSyntaxError):
    pass


_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def parse(text: str) -> YNode | None:
    """Parse one YAML document into :class:`YNode` s; ``None`` for an empty document.

    Raises :class:`YamlSyntaxError` with the line of the problem.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise YamlSyntaxError(f"character {exc.character!r} is not allowed in YAML", line) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        return _convert(loader, root)
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
    finally:
        loader.dispose()


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _convert(loader: _Loader, node: yaml.Node) -> YNode:
    line = node.start_mark.line + 1
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTION_TAGS:
        raise YamlSyntaxError(
            f"the tag {node.tag!r} is not allowed; a spec holds plain data only", line
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merges
        items: dict[str, YNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(
                    "a mapping key must be a plain name, not a list or mapping",
                    key_node.start_mark.line + 1,
                )
            key_value = loader.construct_object(key_node)
            key = key_node.value if not isinstance(key_value, str) else key_value
            if key_value is None:
                key = ""
            key_line = key_node.start_mark.line + 1
            if key in items:
                raise DuplicateKeyError(
                    f"duplicate key {key!r} (first written on line {key_lines[key]}); "
                    "YAML would silently keep only the last one",
                    key_line,
                )
            items[key] = _convert(loader, value_node)
            key_lines[key] = key_line
        return YNode("map", items, line, key_lines=key_lines)
    if isinstance(node, yaml.SequenceNode):
        return YNode("seq", [_convert(loader, child) for child in node.value], line)
    assert isinstance(node, yaml.ScalarNode)
    value = loader.construct_object(node)
    return YNode("scalar", value, line, raw=node.value, quoted=node.style in ("'", '"'))
