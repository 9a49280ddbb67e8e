"""The nodes a paper.yaml is read into, without the parser that makes them.

Every section builder reads :class:`YNode` s; only a spec whose parsed tree is not kept
(:mod:`pytest_repro.spec.parse_cache`) needs PyYAML and :mod:`pytest_repro.spec.yamlnodes`,
so a session that reuses its trees never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DuplicateKeyError", "NodeKind", "YNode", "YamlSyntaxError"]

NodeKind = Literal["scalar", "map", "seq"]


@dataclass(frozen=True, slots=True)
class YNode:
    """A YAML node: ``value`` is a python scalar, ``dict[str, YNode]`` or ``list[YNode]``.

    ``raw`` is the scalar exactly as written (so ``id: 1611.03530`` keeps its
    trailing zero even though YAML reads it as a number); ``key_lines`` gives the
    line of each key of a mapping. An alias gives the very node of its anchor.
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
