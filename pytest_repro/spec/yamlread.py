"""YAML text → PyYAML nodes, by libyaml when PyYAML has it, else by the pure-Python parser.

Both parsers feed the same Python composer and resolver, so the nodes (tags, values,
lines) are the same; libyaml is about four times faster on a large spec. libyaml's own
composer is not used: it recurses in C and crashes the interpreter on deeply nested
input, where the Python one raises RecursionError. A YAML error found by libyaml is
read again by the pure-Python parser, whose messages name the character and token
(``found character '@' that cannot start any token``), so errors do not depend on the
parser either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None  # type: ignore[assignment,misc]

Slot = tuple[int, int, bool]
"""Where a node is written: (id of the parent node, index in its ``value``, is a key)."""

FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
"""YAML 1.2 floats, so that ``1e-3`` is a float and not the string ``"1e-3"``."""


@dataclass(frozen=True, slots=True)
class Composed:
    """A composed document: ``root`` (None when empty), and for each alias where it is
    written, ``alias_lines[slot] = (anchor name, 1-based line)`` (a node only knows the
    line of its anchor)."""

    root: yaml.Node | None
    alias_lines: dict[Slot, tuple[str, int]]


class _AliasLines(Composer):
    """The Python composer, noting the line of each alias."""

    alias_lines: dict[Slot, tuple[str, int]]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[attr-defined]  # the parser's half
        kind = type(event)
        if kind is yaml.AliasEvent:
            if parent is not None:
                slot = (id(parent), len(parent.value), index is None)
                self.alias_lines[slot] = (event.anchor, event.start_mark.line + 1)
        elif kind is yaml.ScalarEvent and event.tag == "!":
            event.implicit = (True, False)  # PyYAML reads `! 1` as untagged; libyaml does not
        return super().compose_node(parent, index)


class _PythonLoader(_AliasLines, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_lines = {}


_PythonLoader.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT_12, list("-+0123456789."))

_LibyamlLoader: Any = None
if _CParser is not None and getattr(yaml, "__with_libyaml__", False):

    class _Libyaml(_AliasLines, _CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.alias_lines = {}

    _Libyaml.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT_12, list("-+0123456789."))
    _LibyamlLoader = _Libyaml


def _same_events() -> bool:
    """Whether libyaml builds this ``yaml`` module's event classes.

    A process that imported PyYAML twice (a test runner that forgets modules between
    sessions) has a libyaml extension still bound to the first import's classes, which the
    composer would not recognise; the pure-Python parser is used there.
    """
    import yaml._yaml as extension

    return getattr(extension, "ScalarEvent", None) is yaml.ScalarEvent


if _LibyamlLoader is not None and not _same_events():  # pragma: no cover - see _same_events
    _LibyamlLoader = None

HAS_LIBYAML: bool = _LibyamlLoader is not None
"""Whether libyaml is available (``yaml.__with_libyaml__``)."""


def compose(text: str, *, libyaml: bool) -> Composed:
    """Compose the single document of ``text``; raises ``yaml.YAMLError``.

    ``libyaml=True`` needs :data:`HAS_LIBYAML`; the result is the same either way.
    """
    if libyaml:
        if _LibyamlLoader is None:
            raise RuntimeError("PyYAML was built without libyaml (yaml.__with_libyaml__ is False)")
        # Left to the pure-Python parser: characters YAML forbids (and lone surrogates,
        # which libyaml cannot even be given); tabs, which PyYAML refuses after a value
        # (``lr: 0.1<TAB>``) where libyaml accepts them; and a last line without a line
        # break, where libyaml puts an empty value (``?``) on the line after it; and
        # byte order marks, which libyaml skips in more places.
        if _libyaml_reads_as_python(text):
            loader = _LibyamlLoader(text)
            try:
                return Composed(loader.get_single_node(), loader.alias_lines)
            except yaml.YAMLError:
                pass  # read again below, for the pure-Python parser's message
            finally:
                loader.dispose()
    python = _PythonLoader(text)
    try:
        return Composed(python.get_single_node(), python.alias_lines)
    finally:
        python.dispose()


def _libyaml_reads_as_python(text: str) -> bool:
    """Whether libyaml gives the nodes the pure-Python parser gives, marks included."""
    return (
        text.endswith("\n")
        and "\t" not in text
        and "\ufeff" not in text
        and not yaml.reader.Reader.NON_PRINTABLE.search(text)
    )
