"""Reading typed fields out of YAML nodes while collecting problems.

A :class:`Checker` collects every :class:`~pytest_repro.errors.Problem` in a file
instead of stopping at the first, so a user fixes a ``paper.yaml`` in one pass.
A :class:`MapReader` reads one mapping: unknown keys are reported with the
closest valid name, and each typed getter reports a wrong type, range or choice
with the line of the offending value and a fix.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pytest_repro.errors import Problem
from pytest_repro.spec.keys import ID_PATTERN
from pytest_repro.spec.node import Location
from pytest_repro.spec.ynode import YNode

T = TypeVar("T")

#: Returned by getters after a problem was recorded; callers check ``is MISSING``.
MISSING: Any = type(
    "Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda s: False}
)()


def suggest(name: str, options: Iterable[str]) -> str:
    """``" (did you mean 'tolerance'?)"`` or ``""``."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(node: YNode) -> str:
    """A value as the user wrote it, for messages: ``'-0.5'``, ``a list``, ``a mapping``."""
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.value is None:
        return "empty"
    text = node.raw if node.raw is not None else str(node.value)
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


class Checker:
    """Collects problems for one file."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []

    def loc(self, line: int) -> Location:
        return Location(self.display, line)

    def problem(self, line: int, field: str, message: str, fix: str = "") -> Any:
        """Record a problem; returns :data:`MISSING` so getters can ``return ck.problem(...)``."""
        self.problems.append(Problem(self.display, line, field, message, fix))
        return MISSING


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class MapReader:
    """Typed access to one YAML mapping; records problems on its :class:`Checker`."""

    def __init__(
        self,
        ck: Checker,
        node: YNode,
        path: str,
        *,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        what: str = "",
    ) -> None:
        self.ck = ck
        self.node = node
        self.path = path
        self.items: dict[str, YNode] = node.value if node.kind == "map" else {}
        key_lines = node.key_lines or {}
        for key in self.items:
            if key not in allowed:
                ck.problem(
                    key_lines.get(key, node.line),
                    join(path, key),
                    f"unknown key{suggest(key, allowed)}",
                    f"valid keys{' of ' + what if what else ''}: {', '.join(allowed)}",
                )
        for key in required:
            if key not in self.items:
                ck.problem(
                    node.line,
                    join(path, key),
                    "is required but missing",
                    _REQUIRED_FIX_TOP.get(key, "") if not path else _REQUIRED_FIX.get(key, ""),
                )

    def has(self, key: str) -> bool:
        return key in self.items

    def line(self, key: str) -> int:
        if self.node.key_lines and key in self.node.key_lines:
            return self.node.key_lines[key]
        return self.node.line

    def loc(self, key: str) -> Location:
        return self.ck.loc(self.line(key))

    def field(self, key: str) -> str:
        return join(self.path, key)

    def raw(self, key: str) -> YNode | None:
        return self.items.get(key)

    def bad(self, key: str, message: str, fix: str = "") -> Any:
        node = self.items.get(key)
        return self.ck.problem(node.line if node else self.line(key), self.field(key), message, fix)

    # -- typed getters ---------------------------------------------------------------------
    def string(self, key: str, *, default: Any = None, allow_number: bool = False) -> Any:
        node = self.items.get(key)
        if node is None:
            return default
        if node.kind == "scalar" and isinstance(node.value, str):
            if not node.value.strip():
                return self.bad(key, "is empty", "write some text or remove the key")
            return node.value
        if allow_number and node.kind == "scalar" and isinstance(node.value, (int, float)):
            return node.raw if node.raw is not None else str(node.value)
        return self.bad(key, f"must be text, got {describe(node)}", 'quote it: key: "..."')

    def choice(self, key: str, options: Sequence[str], *, default: Any = None) -> Any:
        node = self.items.get(key)
        if node is None:
            return default
        value = node.value if node.kind == "scalar" else None
        if isinstance(value, str) and value in options:
            return value
        shown = describe(node)
        hint = suggest(value, options) if isinstance(value, str) else ""
        return self.bad(
            key,
            f"{shown} is not one of: {', '.join(options)}{hint}",
            f"use one of: {', '.join(options)}",
        )

    def number(
        self,
        key: str,
        *,
        default: Any = None,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
        meaning: str = "",
    ) -> Any:
        node = self.items.get(key)
        if node is None:
            return default
        value = node.value
        if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, (int, float)):
            fix = "write a plain number, e.g. 0.01"
            if (isinstance(value, str) and "±" in value) or (
                isinstance(value, str) and "+-" in value
            ):
                fix = (
                    "write the value alone; give the paper's spread as {value: X, sd: S, seeds: M}"
                )
            elif isinstance(value, str) and value.rstrip().endswith(("%", "pp")):
                fix = (
                    "write the number in the metric's units: 0.5 pp of accuracy in [0, 1] is 0.005"
                    + (
                        " (a tolerance may also be a share of the paper's value: 5%)"
                        if key == "tolerance"
                        else ""
                    )
                )
            return self.bad(key, f"must be a number, got {describe(node)}", fix)
        number = float(value)
        if not math.isfinite(number):
            return self.bad(key, f"must be finite, got {describe(node)}", "write a finite number")
        if minimum is not None and number < minimum:
            return self.bad(
                key,
                f"{describe(node)} is below {minimum:g}{meaning}",
                f"give a number >= {minimum:g}",
            )
        if exclusive_minimum is not None and number <= exclusive_minimum:
            return self.bad(
                key,
                f"{describe(node)} must be greater than {exclusive_minimum:g}{meaning}",
                f"give a number > {exclusive_minimum:g}",
            )
        return number

    def integer(self, key: str, *, default: Any = None, minimum: int | None = None) -> Any:
        node = self.items.get(key)
        if node is None:
            return default
        value = node.value
        if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int):
            return self.bad(key, f"must be a whole number, got {describe(node)}", "write e.g. 3")
        if minimum is not None and value < minimum:
            return self.bad(key, f"{value} is below {minimum}", f"give a whole number >= {minimum}")
        return value

    def boolean(self, key: str, *, default: Any = None) -> Any:
        node = self.items.get(key)
        if node is None:
            return default
        if node.kind == "scalar" and isinstance(node.value, bool):
            return node.value
        return self.bad(key, f"must be true or false, got {describe(node)}", "write true or false")

    def mapping(self, key: str) -> Any:
        """The mapping node, None when absent, :data:`MISSING` when not a mapping."""
        node = self.items.get(key)
        if node is None:
            return None
        if node.kind != "map":
            return self.bad(key, f"must be a mapping (key: value lines), got {describe(node)}")
        return node

    def sequence(self, key: str) -> Any:
        """The sequence node, None when absent, :data:`MISSING` when not a list."""
        node = self.items.get(key)
        if node is None:
            return None
        if node.kind != "seq":
            return self.bad(
                key, f"must be a list, got {describe(node)}", f"write {key}: [..., ...]"
            )
        return node

    def strings(self, key: str) -> Any:
        """A list of strings; a single string is accepted as a list of one."""
        node = self.items.get(key)
        if node is None:
            return ()
        if node.kind == "scalar" and isinstance(node.value, str):
            return (node.value,)
        if node.kind != "seq":
            return self.bad(
                key, f"must be a list of text, got {describe(node)}", f"write {key}: [a, b]"
            )
        out: list[str] = []
        for i, child in enumerate(node.value):
            if (
                child.kind == "scalar"
                and isinstance(child.value, (str, int, float))
                and not isinstance(child.value, bool)
            ):
                out.append(child.value if isinstance(child.value, str) else str(child.raw))
            else:
                self.ck.problem(
                    child.line, join(self.field(key), i), f"must be text, got {describe(child)}"
                )
                return MISSING
        return tuple(out)


_REQUIRED_FIX = {
    "id": "give a short unique name, e.g. id: test-accuracy",
    "metric": "name the metric the run logs, e.g. metric: test_acc",
    "at": "say where the paper reports it: at: {epoch: 60} or at: {step: 6000}",
    "text": "state the claim in words, as the paper makes it",
    "source": "say where the paper makes the claim: source: Table 1",
    "paper": "give the paper's value: paper: 0.94",
    "tolerance": "give the absolute distance that still counts as the same result: tolerance: 0.01",
    "title": "give the paper's title",
}
#: Fixes for the top-level blocks (``paper`` there is the paper's metadata, not a value).
_REQUIRED_FIX_TOP = {
    "paper": 'add paper: {id: "2011.14439", title: "..."} (the arXiv id where there is one)',
    "run": "add run: {entrypoint: train:run} (or command: [...])",
    "claims": "add claims: with at least one claim (docs/paper-yaml.md)",
}

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$"
)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.I)
_SIZE_FACTORS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"2h"``, ``"1h30m"``; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if 0 < value < math.inf else None
    if not isinstance(value, str) or not value.strip():
        return None
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total if total > 0 else None


def parse_size(value: Any) -> int | None:
    """Bytes from ``4294967296``, ``"4GiB"``, ``"512MB"``; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _SIZE.match(value)
    if not match:
        return None
    number, unit = match.groups()
    size = int(float(number) * _SIZE_FACTORS[(unit or "b").lower()])
    return size if size > 0 else None


def check_each(
    ck: Checker, node: YNode, path: str, read: Callable[[YNode, str, int], T | None]
) -> list[T]:
    """Apply ``read(child, child_path, index)`` to each element of a sequence node."""
    out: list[T] = []
    for i, child in enumerate(node.value):
        got = read(child, join(path, i), i)
        if got is not None and got is not MISSING:
            out.append(got)
    return out


def named_entries(ck: Checker, top: MapReader, block: str) -> Iterator[tuple[str, YNode, str, int]]:
    """``(name, node, field, line)`` of each entry of the mapping ``block`` (``variants:``,
    ``sweeps:``) whose name can be referred to; a name that cannot is a problem at its line."""
    node = top.mapping(block)
    if not node:
        return
    for name, child in node.value.items():
        field = join(block, name)
        line = (node.key_lines or {}).get(name, child.line)
        if not ID_PATTERN.match(name):
            ck.problem(
                line,
                field,
                f"{name!r} is not a usable name",
                "use letters, digits, '.', '_' and '-'",
            )
            continue
        yield name, child, field, line
