"""``pytest-repro new ID --upstream WHAT``: a paper folder that runs the authors' code.

``WHAT`` is a checkout on disk (a folder) or an installed release (``umap-learn``, or
``umap-learn==0.5.12``). The scaffold reads, never imports, the code: for a checkout its
git remote, commit and licence, and its top-level modules with their functions and the
scripts that have a ``__main__`` block; for a package its version, home page and licence
and the modules it installs. It writes the ``upstream:`` block and a ``train.py`` adapter
whose comments list what it found, so the adapter is a few lines that call that code.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.errors import ReproError
from pytest_repro.execution.evidence import git


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """What the scaffold learned about the upstream code."""

    name: str
    block: dict[str, str]
    #: ``module: [function, ...]`` of the code's top-level modules.
    modules: dict[str, list[str]] = field(default_factory=dict)
    #: scripts with a ``if __name__ == "__main__":`` block, relative to the checkout.
    scripts: list[str] = field(default_factory=list)


def inspect(what: str, paper_folder: Path) -> Found:
    """Describe ``what`` (a folder, or a package name with an optional ``==version``)."""
    path = Path(what)
    if path.is_dir():
        return _checkout(path, paper_folder)
    return _package(what)


def _checkout(path: Path, paper_folder: Path) -> Found:
    folder = path.resolve()
    rel = os.path.relpath(folder, paper_folder.resolve())
    block = {"path": Path(rel).as_posix()}
    remote = git(folder, "remote", "get-url", "origin")
    if remote:
        block["repo"] = remote
    head = git(folder, "rev-parse", "HEAD")
    if head:
        block["commit"] = head
    licence = _licence(folder)
    if licence:
        block["license"] = licence
    modules: dict[str, list[str]] = {}
    scripts: list[str] = []
    for file in sorted(folder.rglob("*.py")):
        parts = file.relative_to(folder).parts
        if any(p.startswith(".") or p in ("tests", "test", "__pycache__") for p in parts):
            continue
        if len(parts) > 2:
            continue
        tree = _parse(file)
        if tree is None:
            continue
        module = ".".join(file.relative_to(folder).with_suffix("").parts)
        modules[module] = _functions(tree)
        if _has_main(tree):
            scripts.append(file.relative_to(folder).as_posix())
    return Found(name=_slug(folder.name), block=block, modules=modules, scripts=scripts)


def _package(what: str) -> Found:
    from importlib import metadata

    name, _, version = what.partition("==")
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise ReproError(
            f"--upstream {what}: no folder of that name, and no installed package {name!r}; "
            f"pip install {what} first, or give the path of a checkout"
        ) from None
    if version and version != dist.version:
        raise ReproError(
            f"--upstream {what}: {name} {dist.version} is installed; pip install {what} first"
        )
    meta: Any = dist.metadata
    block = {"package": name, "version": dist.version}
    home = meta.get("Home-page") or _project_url(meta.get_all("Project-URL") or [])
    if home:
        block["repo"] = home
    licence = meta.get("License-Expression") or meta.get("License")
    if licence and len(licence) < 60 and "\n" not in licence:
        block["license"] = licence
    modules: dict[str, list[str]] = {}
    top = (dist.read_text("top_level.txt") or "").split()
    for module in top[:5]:
        for file in dist.files or []:
            if str(file) in (f"{module}/__init__.py", f"{module}.py"):
                tree = _parse(Path(str(dist.locate_file(file))))
                modules[module] = _functions(tree) if tree else []
    return Found(name=_slug(top[0] if top else name), block=block, modules=modules)


def upstream_yaml(found: Found) -> str:
    lines = ["upstream:", f"  {found.name}:"]
    for key, value in found.block.items():
        lines.append(f"    {key}: {_quote(value)}")
    return "\n".join(lines) + "\n"


def adapter(found: Found, paper_id: str) -> str:
    """``train.py``: an entrypoint whose comments list the upstream code's modules."""
    listing = []
    for module, functions in list(found.modules.items())[:12]:
        shown = ", ".join(functions[:8]) + (", ..." if len(functions) > 8 else "")
        listing.append(f"#   {module}: {shown or '(no top-level functions)'}")
    for script in found.scripts[:8]:
        listing.append(f"#   script: {script} (or run it unchanged with run.command:)")
    first = next(iter(found.modules), "upstream_module")
    return (
        f'"""The adapter of {paper_id}: calls the authors\' code ({found.name}), unchanged."""\n'
        "\n"
        f"# The upstream code, as found by `pytest-repro new --upstream`:\n"
        + "\n".join(listing or ["#   (no python modules found)"])
        + "\n\n\n"
        "def run(ctx):\n"
        f"    import {first.split('.')[0]}  # the authors' code: call it, do not copy it\n"
        "\n"
        "    # ... build the model and train with ctx.config, seeded by ctx.seed ...\n"
        "    # ctx.log(epoch=epoch, test_acc=test_acc) at every point a claim reads\n"
        f"    raise NotImplementedError('call {first} here')\n"
    )


def _functions(tree: ast.Module) -> list[str]:
    return [
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")
    ]


def _has_main(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in tree.body)


def _parse(file: Path) -> ast.Module | None:
    try:
        return ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _licence(folder: Path) -> str | None:
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"):
        file = folder / name
        if file.is_file():
            head = file.read_text(encoding="utf-8", errors="replace")[:400]
            for key, spdx in (
                ("MIT License", "MIT"),
                ("Apache License", "Apache-2.0"),
                ("BSD 3-Clause", "BSD-3-Clause"),
                ("Redistribution and use in source and binary forms", "BSD"),
                ("GNU GENERAL PUBLIC LICENSE", "GPL"),
            ):
                if key.lower() in head.lower():
                    return spdx
            return f"see {name}"
    return None


def _project_url(urls: list[str]) -> str | None:
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("source", "repository", "code", "homepage"):
            return url.strip()
    return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "upstream"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["Found", "adapter", "inspect", "upstream_yaml"]
