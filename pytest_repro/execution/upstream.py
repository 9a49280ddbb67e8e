"""The identity of a paper's upstream code, for the cache key and the evidence.

A package (``upstream.<name>.package``) is identified by its installed version, which must
be the pinned one, and by the sha256 of its installed files' manifest (``RECORD``, which
lists every file with its own hash), or of the files themselves where a distribution has
no manifest. A checkout (``upstream.<name>.path``) by the sha256 of its files, followed
through symlinks (a link to a file hashes the file; a link to a folder is walked), and by
its git commit and dirty state, which are recorded, not keyed: the files already are.

:func:`identities` raises :class:`~pytest_repro.errors.ReproError` with the fix when the
code is not what the spec names: a package missing or at another version, a checkout
whose HEAD is not the declared ``commit``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pytest_repro.errors import ReproError
from pytest_repro.execution import treehash
from pytest_repro.execution.evidence import git
from pytest_repro.spec.schema import PaperSpec, Upstream

#: Not code of a checkout: version control, caches, what runs write.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "wandb"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def identities(spec: PaperSpec) -> dict[str, dict[str, Any]]:
    """``{name: identity}`` of every ``upstream:`` entry; the cache key holds all of it
    except the evidence-only fields (see :func:`key_part`)."""
    return {u.name: identity(u, spec) for u in spec.upstream}


def key_part(ids: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What of the identities changes a run's result: versions and file hashes."""
    keep = ("kind", "package", "version", "files_sha256")
    return {name: {k: v for k, v in i.items() if k in keep} for name, i in ids.items()}


def identity(upstream: Upstream, spec: PaperSpec) -> dict[str, Any]:
    where = f"{spec.display}:{upstream.loc.line}: upstream.{upstream.name}"
    base: dict[str, Any] = {
        "kind": upstream.kind,
        "repo": upstream.repo,
        "commit": upstream.commit,
        "license": upstream.license,
    }
    if upstream.package:
        return {**base, **_package(upstream, where)}
    folder = upstream.folder(spec.folder)
    assert folder is not None
    return {**base, **_checkout(upstream, folder, where)}


def _package(upstream: Upstream, where: str) -> dict[str, Any]:
    from importlib import metadata

    name = str(upstream.package)
    pin = f"pip install {name}=={upstream.version}"
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise ReproError(f"{where}: {name} is not installed; {pin}") from None
    installed = dist.version
    if installed != upstream.version:
        raise ReproError(
            f"{where}: {name} {installed} is installed, but the paper runs {upstream.version}; "
            f"{pin}, or change version: after checking the claims still hold"
        )
    digest = hashlib.sha256()
    record = dist.read_text("RECORD")
    if record is not None:
        digest.update(record.encode())
    else:  # no manifest: hash what the distribution says it installed
        for file in sorted(dist.files or [], key=str):
            path = Path(str(dist.locate_file(file)))
            digest.update(str(file).encode() + b"\0")
            if path.is_file():
                digest.update(path.read_bytes())
    return {"package": name, "version": installed, "files_sha256": digest.hexdigest()}


def _checkout(upstream: Upstream, folder: Path, where: str) -> dict[str, Any]:
    if not folder.is_dir():
        raise ReproError(f"{where}: no checkout at {folder}; place the code there")
    git = _git(folder)
    head = git.get("head")
    if upstream.commit and head and not head.startswith(upstream.commit.lower()):
        raise ReproError(
            f"{where}: the checkout at {folder} is at commit {head[:12]}, but the paper "
            f"names {upstream.commit}; git -C {folder} checkout {upstream.commit}, or "
            "update commit: to the code you mean to run"
        )
    return {"path": str(folder), "files_sha256": tree_sha256(folder), **git}


def tree_sha256(folder: Path) -> str:
    """sha256 over a checkout's files (version control and caches left out), through symlinks."""
    files = treehash.walk(
        folder,
        keep_dir=lambda d: d not in _SKIP_DIRS,
        keep_file=lambda name, _rel: not name.endswith(_SKIP_SUFFIXES),
    )
    return treehash.sha256_files(folder, files)


def _git(folder: Path) -> dict[str, Any]:
    head = git(folder, "rev-parse", "HEAD")
    if head is None:
        return {"git": False}
    status = git(folder, "status", "--porcelain", "--untracked-files=normal") or ""
    changed = status.splitlines()
    return {"head": head, "dirty": bool(changed), "changed": changed[:20]}


__all__ = ["identities", "identity", "key_part", "tree_sha256"]
