"""How papers write numbers: ``3 × 10^-4``, ``1,281,167``, ``100k``, ``five``.

:data:`NUMBER` is the regular expression every reader of prose and tables uses to find a
number; :func:`to_number` reads one, :func:`number_text` writes one back the way a spec
writes it.
"""

from __future__ import annotations

import re

#: the characters papers use as a minus sign (hyphen, minus, en dash).
MINUS_SIGNS = "-−–"
NUMBER = (
    r"(?:(?<![\w.])10\s?\^\s?\{?\s?[" + MINUS_SIGNS + r"]?\s?\d+\s?\}?"
    r"|(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?:\s?[eE]\s?[" + MINUS_SIGNS + r"+]?\s?\d+)?"
    r"(?:\s?[×x·*]\s?10\s?\^?\s?\{?\s?[" + MINUS_SIGNS + r"]?\s?\d+\s?\}?)?)"
    r"(?:\s?[kKM](?![\w]))?"
)
_WORD_NUMBERS = {
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
}


def to_number(text: str) -> float | None:
    """``3e-4`` from ``3 × 10^-4``, ``3·10^{-4}``, ``3e-4``; ``100000`` from ``100k``."""
    t = text.strip()
    for dash in MINUS_SIGNS:
        t = t.replace(dash, "-")
    t = re.sub(r"[\s{}]", "", t)
    if t.lower() in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t.lower()])
    factor = 1.0
    if t[-1:] in "kKM" and t[:-1]:
        factor = 1e6 if t[-1] == "M" else 1e3
        t = t[:-1]
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)[×x·*])?10\^(-?\d+)", t)
    try:
        if match:
            return float(f"{match.group(1) or '1'}e{int(match.group(2))}") * factor
        return float(t.replace(",", "")) * factor
    except (ValueError, OverflowError):
        return None


def number_text(value: float) -> str:
    """A number as a spec writes it: ``0.1``, ``0.0005``, ``128``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


__all__ = ["MINUS_SIGNS", "NUMBER", "number_text", "to_number"]
