"""A safe evaluator for a curve's formula in the swept parameter(s).

A formula such as ``0.9 - 0.3 * exp(-steps / 1000)`` is parsed with
``ast.parse(text, mode="eval")`` and only an allow-list of nodes is accepted: numbers,
the allowed variable names (and the constants ``pi`` and ``e``), ``+ - * / **``, unary
``+``/``-``, and calls of ``log`` (1 or 2 arguments), ``log10``, ``log2``, ``exp``,
``sqrt``, ``abs`` (1 argument), ``min`` and ``max`` (2 or more). Nothing is passed to
``eval``, ``exec`` or ``compile``; the tree is walked by this module.

>>> f = compile_formula("a * log10(x) + b", {"x", "a", "b"})
>>> f.evaluate({"x": 100.0, "a": 2.0, "b": 1.0})
5.0
>>> sorted(f.names)
['a', 'b', 'x']
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from pytest_repro.errors import ReproError

#: Longest formula text accepted.
MAX_LENGTH = 500
#: Most syntax-tree nodes a formula may have.
MAX_NODES = 200
#: Largest ``|exponent|`` of ``**``.
MAX_EXPONENT = 100.0

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _log(x: float, base: float | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


#: name -> (function, least and most arguments; None: no most).
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int | None]] = {
    "log": (_log, 1, 2),
    "log10": (math.log10, 1, 1),
    "log2": (math.log2, 1, 1),
    "exp": (math.exp, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "min": (min, 2, None),
    "max": (max, 2, None),
}

_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_OP_TEXT = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
            ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}  # fmt: skip


class FormulaError(ReproError, ValueError):
    """A formula that cannot be used: ``text`` is the formula, ``column`` the 1-based
    character position of the offending part (0 when it is the whole formula)."""

    def __init__(self, message: str, *, text: str, column: int) -> None:
        self.text = text
        self.column = column
        self.reason = message
        where = f" (column {column})" if column else ""
        super().__init__(f"formula {text!r}{where}: {message}")


def _column(text: str, node: ast.AST) -> int:
    """The 1-based character position of ``node`` in ``text`` (offsets are UTF-8 bytes)."""
    line = getattr(node, "lineno", 1)
    offset = getattr(node, "col_offset", 0)
    lines = text.split("\n")
    before = sum(len(s) + 1 for s in lines[: line - 1])
    here = lines[line - 1] if line - 1 < len(lines) else ""
    chars = len(here.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
    return before + chars + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Formula:
    """A checked formula. ``names`` are the variables it uses (constants excluded).

    >>> compile_formula("2 ** x", {"x"}).evaluate({"x": 3})
    8.0
    """

    text: str
    names: frozenset[str]
    allowed: frozenset[str]
    tree: ast.Expression = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value at ``values`` (one number per name it uses).

        A math domain error, an overflow or a result that is not finite is a
        :class:`FormulaError`.
        """
        missing = sorted(self.names - set(values))
        if missing:
            raise FormulaError(f"no value given for {', '.join(missing)}", text=self.text, column=0)
        env: dict[str, float] = {}
        for name in self.names:
            try:
                env[name] = float(values[name])
            except (TypeError, ValueError) as exc:
                raise FormulaError(
                    f"{name}={values[name]!r} is not a number", text=self.text, column=0
                ) from exc
        try:
            out = self._eval(self.tree.body, env)
        except FormulaError:
            raise
        except (ValueError, ArithmeticError) as exc:
            why = "division by zero" if isinstance(exc, ZeroDivisionError) else str(exc)
            raise FormulaError(
                f"cannot be evaluated at {env}: {why}", text=self.text, column=0
            ) from exc
        if not math.isfinite(out):
            raise FormulaError(
                f"gives {out} at {env}, not a finite number", text=self.text, column=0
            )
        return out

    def _eval(self, node: ast.expr, env: dict[str, float]) -> float:
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = self._eval(node.left, env), self._eval(node.right, env)
            if isinstance(node.op, ast.Pow):
                if abs(b) > MAX_EXPONENT:
                    raise FormulaError(
                        f"exponent {b:g} is beyond ±{MAX_EXPONENT:g}",
                        text=self.text,
                        column=_column(self.text, node.right),
                    )
                return math.pow(a, b)
            return _OPS[type(node.op)](a, b)
        assert isinstance(node, ast.Call)
        assert isinstance(node.func, ast.Name)
        fn = FUNCTIONS[node.func.id][0]
        return float(fn(*(self._eval(a, env) for a in node.args)))


def compile_formula(text: str, names: Collection[str]) -> Formula:
    """Parse and check ``text`` against the allowed variable ``names``.

    Raises :class:`FormulaError` naming what is refused, where, and what is allowed
    (with the closest allowed name when a name is unknown).

    >>> try:
    ...     compile_formula("x.real", {"x"})
    ... except FormulaError as exc:
    ...     print(exc.column, exc.reason.split(";")[0])
    1 attribute access (.real) is not allowed
    """
    allowed = frozenset(names)
    if not isinstance(text, str):
        raise FormulaError(
            f"a formula must be text, not {type(text).__name__}", text=repr(text), column=0
        )
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"is {len(text)} characters long; at most {MAX_LENGTH}", text=text, column=0
        )
    if not text.strip():
        raise FormulaError("is empty; write an expression such as '2 * x + 1'", text=text, column=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = exc.offset or 0
        raise FormulaError(
            f"is not a valid expression ({exc.msg})", text=text, column=max(col, 0)
        ) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise FormulaError(f"is not a valid expression ({exc})", text=text, column=0) from exc
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise FormulaError(f"has {count} parts; at most {MAX_NODES}", text=text, column=0)
    used: set[str] = set()
    _check(tree.body, text, allowed, used)
    return Formula(text=text, names=frozenset(used), allowed=allowed, tree=tree)


_WHAT = "a formula uses numbers, names, + - * / **, and calls of " + ", ".join(sorted(FUNCTIONS))


def _refuse(text: str, node: ast.AST, what: str) -> FormulaError:
    return FormulaError(f"{what} is not allowed; {_WHAT}", text=text, column=_column(text, node))


def _unknown(text: str, node: ast.Name, allowed: frozenset[str]) -> FormulaError:
    known = sorted(allowed | set(CONSTANTS))
    close = difflib.get_close_matches(node.id, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if node.id in FUNCTIONS:
        msg = f"{node.id} is a function; call it, as in {node.id}(x)"
    else:
        msg = f"unknown name {node.id!r}{hint}; the names allowed are: {', '.join(known)}"
    return FormulaError(msg, text=text, column=_column(text, node))


def _check_exponent(node: ast.expr, text: str) -> None:
    """Refuse an exponent that is constant and beyond :data:`MAX_EXPONENT` (``9**9**9``).

    An exponent made of numbers and constants only is computed here, innermost first, each
    power checked as it is met, so no huge number is ever built; one that uses a
    variable is checked again when the formula is evaluated.
    """
    if any(isinstance(n, ast.Name) and n.id not in CONSTANTS for n in ast.walk(node)):
        return
    probe = Formula(text=text, names=frozenset(), allowed=frozenset(), tree=ast.Expression(node))
    try:
        value = probe._eval(node, {})
    except FormulaError:
        raise
    except (ValueError, ArithmeticError) as exc:
        raise FormulaError(
            f"the exponent cannot be computed ({exc})", text=text, column=_column(text, node)
        ) from exc
    if not math.isfinite(value) or abs(value) > MAX_EXPONENT:
        raise FormulaError(
            f"exponent {value:g} is beyond ±{MAX_EXPONENT:g}",
            text=text,
            column=_column(text, node),
        )


def _check(node: ast.expr, text: str, allowed: frozenset[str], used: set[str]) -> None:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _refuse(text, node, f"the constant {v!r}")
        try:
            ok = math.isfinite(float(v))
        except OverflowError:
            ok = False
        if not ok:
            raise FormulaError(
                f"the number {text[node.col_offset :][:20]} is too large",
                text=text,
                column=_column(text, node),
            )
        return
    if isinstance(node, ast.Name):
        if node.id in allowed:
            used.add(node.id)
        elif node.id not in CONSTANTS:
            raise _unknown(text, node, allowed)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise _refuse(text, node, "'not'" if isinstance(node.op, ast.Not) else "'~'")
        _check(node.operand, text, allowed, used)
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise _refuse(text, node, f"the operator {_OP_TEXT.get(type(node.op), '?')}")
        _check(node.left, text, allowed, used)
        _check(node.right, text, allowed, used)
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right, text)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, (ast.Attribute, ast.Lambda, ast.Subscript, ast.Call)):
                _check(node.func, text, allowed, used)  # refuses it, at its own column
            raise _refuse(text, node, f"calling {ast.unparse(node.func)!r}")
        if node.func.id not in FUNCTIONS:
            name = node.func.id
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise FormulaError(
                f"unknown function {name!r}{hint}; the functions allowed are: {', '.join(sorted(FUNCTIONS))}",
                text=text,
                column=_column(text, node),
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _refuse(text, node, "keyword or starred arguments")
        _, least, most = FUNCTIONS[node.func.id]
        n = len(node.args)
        if n < least or (most is not None and n > most):
            want = (
                f"{least}"
                if least == most
                else f"{least} or more"
                if most is None
                else f"{least} or {most}"
            )
            raise FormulaError(
                f"{node.func.id} takes {want} argument{'s' if want != '1' else ''}, got {n}",
                text=text,
                column=_column(text, node),
            )
        for a in node.args:
            _check(a, text, allowed, used)
        return
    kinds = {
        ast.Attribute: "attribute access (." + getattr(node, "attr", "") + ")",
        ast.Subscript: "indexing ([...])",
        ast.Lambda: "lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.Compare: "a comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.NamedExpr: ":=",
        ast.JoinedStr: "a string",
    }
    raise _refuse(text, node, kinds.get(type(node), f"{type(node).__name__.lower()}"))


__all__ = ["CONSTANTS", "FUNCTIONS", "Formula", "FormulaError", "compile_formula"]
