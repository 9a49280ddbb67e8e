"""``run.entrypoint:``: check that ``module:function`` names a function the paper folder defines.

The module is read, not imported: loading a spec must not run a paper's code. A module
that is not in the paper folder is accepted when it is installed.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MapReader, suggest
from pytest_repro.spec.keys import ENTRYPOINT_PATTERN


def check_entrypoint(ctx: SpecContext, m: MapReader, entrypoint: str) -> None:
    """Record a problem on ``m``'s ``entrypoint`` when ``entrypoint`` cannot be found."""
    if not ENTRYPOINT_PATTERN.match(entrypoint):
        m.bad(
            "entrypoint",
            f"{entrypoint!r} is not module:function",
            "write e.g. entrypoint: train:run",
        )
        return
    module, function = entrypoint.split(":")
    rel = Path(*module.split("."))
    candidates = [ctx.folder / rel.with_suffix(".py"), ctx.folder / rel / "__init__.py"]
    source = next((p for p in candidates if p.is_file()), None)
    if source is None:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            m.bad(
                "entrypoint",
                f"no module {module!r}: {candidates[0].name} is not in {ctx.shown_folder} "
                "and it is not installed",
                f"create {ctx.shown_folder}/{candidates[0].name} with def {function}(ctx): ..., or fix the name",
            )
        return
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        m.bad(
            "entrypoint",
            f"{source.name} does not parse: {exc}",
            f"fix the syntax of {source.name}",
        )
        return
    defined = top_level_names(tree)
    if function not in defined:
        functions = sorted(n for n, kind in defined.items() if kind == "def")
        m.bad(
            "entrypoint",
            f"{source.name} has no top-level {function!r}{suggest(function, functions)}",
            f"define def {function}(ctx): in {source.name}"
            + (f" (it defines: {', '.join(functions)})" if functions else ""),
        )


def top_level_names(tree: ast.Module) -> dict[str, str]:
    """Each name a module binds at its top level, with how: ``def``, ``class``, ``import``, ``assign``."""
    names: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[stmt.name] = "def"
        elif isinstance(stmt, ast.ClassDef):
            names[stmt.name] = "class"
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                names[(alias.asname or alias.name).split(".")[0]] = "import"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = "assign"
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
            names[stmt.target.id] = "assign"
    return names
