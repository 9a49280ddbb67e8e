"""``run.entrypoint:``: check that ``module:function`` names a function the paper folder defines.

The module is read, not imported: loading a spec must not run a paper's code. Its source
must lie inside the paper folder (a ``.py`` file or a package's ``__init__.py``; a path
that leads out through a symlink is refused). A module from outside the folder, such as
an installed package's, is accepted only when the paper lists the target under
``trusted:``, so a ``paper.yaml`` alone cannot make pytest call ``os:system``.
:func:`check_paper_code` applies the same rule to ``data.<name>.python``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MapReader, suggest
from pytest_repro.spec.keys import ENTRYPOINT_PATTERN
from pytest_repro.spec.trusted_section import installed


def check_entrypoint(ctx: SpecContext, m: MapReader, entrypoint: str) -> None:
    """Record a problem on ``m``'s ``entrypoint`` when ``entrypoint`` cannot be found."""
    if not ENTRYPOINT_PATTERN.match(entrypoint):
        m.bad(
            "entrypoint",
            f"{entrypoint!r} is not module:function",
            "write e.g. entrypoint: train:run",
        )
        return
    check_paper_code(ctx, m, "entrypoint", entrypoint, example="def {function}(ctx):")


def check_paper_code(
    ctx: SpecContext, m: MapReader, key: str, target: str, *, example: str
) -> bool:
    """Record a problem on ``m``'s ``key`` unless ``target`` (``module:function``) is a
    top-level name of a module inside the paper folder, or a target ``trusted:`` lists.

    ``example`` is the definition a fix suggests, with ``{function}`` in it. Returns
    whether the target was accepted.
    """
    module, function = target.split(":")
    source, outside = paper_module(ctx.folder, module)
    for checkout in ctx.upstream_folders:  # the authors' code the paper declares
        if source is None and outside is None:
            source, outside = paper_module(checkout, module)
    where = ctx.shown_folder
    if outside is not None:
        m.bad(
            key,
            f"{outside.name} of {target!r} leads outside the paper folder {where} "
            f"(to {outside.resolve()})",
            f"put the module's own file in {where} instead of a link to it",
        )
        return False
    if source is None:
        if target in ctx.trusted:
            return True
        name = f"{Path(*module.split('.'))}.py"
        if installed(module):
            m.bad(
                key,
                f"{target!r} is not code of the paper folder: {name} is not in {where}, "
                f"and {module!r} is an installed module, which a paper may only name when "
                "it trusts it",
                f"list it under trusted: if you trust it (trusted: [{target}]), "
                f"or put {name} in {where}",
            )
        else:
            m.bad(
                key,
                f"no module {module!r}: {name} is not in {where} and it is not installed",
                f"create {where}/{name} with {example.format(function=function)} ..., "
                "or fix the name",
            )
        return False
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError) as exc:
        m.bad(key, f"{source.name} does not parse: {exc}", f"fix the syntax of {source.name}")
        return False
    defined = top_level_names(tree)
    if function not in defined:
        functions = sorted(n for n, kind in defined.items() if kind == "def")
        m.bad(
            key,
            f"{source.name} has no top-level {function!r}{suggest(function, functions)}",
            f"define {example.format(function=function)} in {source.name}"
            + (f" (it defines: {', '.join(functions)})" if functions else ""),
        )
        return False
    return True


def paper_module(folder: Path, module: str) -> tuple[Path | None, Path | None]:
    """Where the dotted ``module`` lives in ``folder``: ``(source, None)`` for a ``.py`` file
    or a package ``__init__.py`` whose real path is inside the folder, ``(None, path)`` for
    one that exists but leads outside it (a symlink), ``(None, None)`` when there is none.

    ``module`` is made of identifiers (:data:`~pytest_repro.spec.keys.ENTRYPOINT_PATTERN`),
    so only links can lead out; the real path is compared all the same.
    """
    root = folder.resolve()
    rel = Path(*module.split("."))
    for candidate in (folder / rel.with_suffix(".py"), folder / rel / "__init__.py"):
        try:
            if not candidate.is_file():
                continue
            real = candidate.resolve()
        except (OSError, RuntimeError):  # a symlink loop, a name too long
            continue
        if not real.is_relative_to(root):
            return None, candidate
        return candidate, None
    return None, None


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
