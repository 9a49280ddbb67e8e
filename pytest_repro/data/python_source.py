"""The ``python`` kind: ``module:function`` from the paper folder, or from an installed
module the paper trusts (``trusted:``), called with ``args``.

A module of the paper folder is loaded from its file, and only when that file's real path
is inside the folder; a module from anywhere else is imported only for a source marked
``trusted`` (the loader marks it when ``trusted:`` lists the target). So a spec that
slipped past the loader still cannot make this call ``os:system``.

Its identity is the target and arguments plus the code behind it: the sha256 of the
module's source when it lives in the paper folder, else the version of the
distribution providing it (or, for an unpackaged module, the sha256 of its source
files). A paper-folder module is imported under a name unique to its folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_repro.data.fingerprint import HashCache, tree_sha256
from pytest_repro.data.kinds import Loaded, distribution_version, source_error
from pytest_repro.errors import DataError
from pytest_repro.spec.schema import DataSource


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonSource:
    """``python: "data:make_dataset"`` (with ``args``): what the function returns."""

    def identity_parts(
        self, source: DataSource, paper_dir: Path, cache: HashCache
    ) -> dict[str, Any]:
        module, _ = _python_target(source)
        return {
            "target": source.target,
            "args": dict(source.args),
            "code": _python_code_identity(source, module, paper_dir, cache),
        }

    def load(
        self,
        source: DataSource,
        paper_dir: Path,
        *,
        cache: HashCache,
        hf_cache_dir: Path | None,
    ) -> Loaded:
        module, function = _python_target(source)
        file = _paper_module_file(source, paper_dir, module)
        if file is not None:
            loaded = _import_paper_module(file, module, paper_dir)
            where: dict[str, Any] = {"module_file": file.relative_to(paper_dir).as_posix()}
        else:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                raise _module_not_found(source, module, paper_dir)
            if not source.trusted:
                raise source_error(
                    source.loc,
                    f"data.{source.name}.python",
                    f"{module!r} is not a module of the paper folder ({paper_dir}); code "
                    "from outside the folder is called only when the paper trusts it",
                    f"list it under trusted: if you trust it (trusted: [{source.target}]), "
                    f"or put {module.replace('.', '/')}.py in the paper folder",
                )
            loaded = importlib.import_module(module)
            where = {"module": module}
        func = getattr(loaded, function, None)
        if not callable(func):
            raise source_error(
                source.loc,
                f"data.{source.name}.python",
                f"{module} has no function {function!r}",
                f"define def {function}(...) in {module}, or fix the target",
            )
        return Loaded(value=func(**dict(source.args)), details={**where, "target": source.target})


def _python_target(source: DataSource) -> tuple[str, str]:
    target = source.target or ""
    module, sep, function = target.partition(":")
    parts = module.split(".")
    if not sep or not all(part.isidentifier() for part in parts) or not function.isidentifier():
        raise source_error(
            source.loc,
            f"data.{source.name}.python",
            f"{target!r} is not `module:function`",
            "write the module (a .py file in the paper folder, or importable) and the function, "
            'e.g. python: "data:make_dataset"',
        )
    return module, function


def _paper_module_file(source: DataSource, paper_dir: Path, module: str) -> Path | None:
    """The module's file in the paper folder, None when it has none; a file whose real
    path leads outside the folder (a symlink, ``..``) is refused."""
    root = paper_dir.resolve()
    base = paper_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if not candidate.is_file():
            continue
        if not candidate.resolve().is_relative_to(root):
            raise source_error(
                source.loc,
                f"data.{source.name}.python",
                f"{candidate.relative_to(paper_dir).as_posix()} leads outside the paper "
                f"folder {paper_dir} (to {candidate.resolve()})",
                "put the module's own file in the paper folder instead of a link to it",
            )
        return candidate
    return None


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _python_code_identity(
    source: DataSource, module: str, paper_dir: Path, cache: HashCache
) -> dict[str, Any]:
    local = _paper_module_file(source, paper_dir, module)
    if local is not None and local.name == "__init__.py":
        files = [[p, s] for p, s in tree_sha256(local.parent, cache.sha256) if p.endswith(".py")]
        return {"package": local.parent.relative_to(paper_dir).as_posix(), "files": files}
    if local is not None:
        return {"file": local.relative_to(paper_dir).as_posix(), "sha256": cache.sha256(local)}
    top = module.split(".")[0]
    dists = _packages_distributions().get(top)
    if dists:
        return {"distributions": {name: distribution_version(name) for name in sorted(set(dists))}}
    spec = importlib.util.find_spec(top)
    if spec is None:
        raise _module_not_found(source, module, paper_dir)
    if spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
        files = [[p, s] for p, s in tree_sha256(folder, cache.sha256) if p.endswith(".py")]
        return {"unpackaged": top, "files": files}
    if spec.origin and Path(spec.origin).is_file():
        return {"unpackaged": top, "sha256": cache.sha256(Path(spec.origin))}
    return {"module": top, "python": sys.version.split()[0]}  # built in


def _module_not_found(source: DataSource, module: str, paper_dir: Path) -> DataError:
    return source_error(
        source.loc,
        f"data.{source.name}.python",
        f"module {module!r} is neither in the paper folder ({paper_dir}) nor importable",
        f"add {module.replace('.', '/')}.py to the paper folder, or install the package "
        "that provides it",
    )


def _import_paper_module(file: Path, module: str, paper_dir: Path) -> ModuleType:
    """Import a module of the paper folder under a name unique to that folder (two
    papers may both have a ``data.py``), with the folder on ``sys.path`` meanwhile so
    its own sibling imports work."""
    folder_id = hashlib.sha256(str(paper_dir.resolve()).encode()).hexdigest()[:10]
    name = f"_repro_paper_{folder_id}_{module.replace('.', '_')}"
    locations = [str(file.parent)] if file.name == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=locations)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {file}")
    loaded = importlib.util.module_from_spec(spec)
    entry = str(paper_dir.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
    return loaded
