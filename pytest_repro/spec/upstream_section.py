"""``upstream:``: the authors' own code, as an installed package or a checkout.

Reproductions usually run the authors' released code. Naming it here makes it part of
what a run is: a package's exact version and installed files, or a checkout's files
(followed through symlinks), enter the cache key, so upgrading the package or editing the
checkout invalidates its runs; its identity (version, commit, dirty state) is recorded
with every run and in ``results.md``::

    upstream:
      umap:
        package: umap-learn        # pip's name
        version: "0.5.12"          # exactly this version
        repo: https://github.com/lmcinnes/umap
        license: BSD-3-Clause
      grokking:
        path: ../vendor/grokking   # a checkout you place there (relative to this folder)
        repo: https://github.com/openai/grok
        commit: 1b6e2f3            # checked against the checkout's HEAD
        license: MIT

A checkout is put on ``sys.path`` (and ``PYTHONPATH`` for commands) after the paper
folder, and its modules may be named by ``run.entrypoint``.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe, join
from pytest_repro.spec.keys import UPSTREAM_KEYS
from pytest_repro.spec.schema import Upstream

#: A distribution name as the package index spells it (PEP 508).
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
#: An exact version (PEP 440, public part): ``0.5.12``, ``2.1.0rc1``, ``1!2.0``.
_VERSION = re.compile(
    r"^([0-9]+!)?[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$"
)
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")


def build_upstream(ctx: SpecContext, top: MapReader) -> tuple[Upstream, ...]:
    """The usable entries of ``upstream:``, in the order written."""
    node = top.mapping("upstream")
    if not node:
        return ()
    out: list[Upstream] = []
    for name, child in node.value.items():
        field = join("upstream", name)
        if child.kind != "map":
            ctx.ck.problem(
                child.line,
                field,
                f"must be a mapping, got {describe(child)}",
                'write e.g. umap: {package: umap-learn, version: "0.5.12"}',
            )
            continue
        entry = _entry(ctx, str(name), MapReader(ctx.ck, child, field, allowed=UPSTREAM_KEYS))
        if isinstance(entry, Upstream):
            out.append(entry)
    return tuple(out)


def _entry(ctx: SpecContext, name: str, m: MapReader) -> Any:
    package = m.string("package")
    version = m.string("version", allow_number=True)
    path = m.string("path")
    repo = m.string("repo")
    commit = m.string("commit", allow_number=True)
    license_ = m.string("license")
    if MISSING in (package, version, path, repo, commit, license_):
        return None
    if (package is None) == (path is None):
        m.bad(
            "package" if package else "path",
            "needs exactly one of package: (an installed release) or path: (a checkout)",
            'write package: umap-learn with version: "0.5.12", or path: ../vendor/code',
        )
        return None
    if package is not None:
        if not _PACKAGE.match(package):
            return m.bad("package", f"{package!r} is not a package name", "write pip's name")
        if version is None:
            return m.bad(
                "version",
                f"is required: the runs use exactly one release of {package}",
                f'add version: "<the version the paper used>" (pip show {package})',
            )
        if not _VERSION.match(version):
            return m.bad(
                "version",
                f"{version!r} is not one exact version",
                'write the release exactly, e.g. version: "0.5.12" (quoted)',
            )
    else:
        if version is not None:
            return m.bad("version", "belongs to a package:, not a checkout", "remove it")
        folder = (ctx.folder / path).resolve()
        if not folder.is_dir():
            shown = f"{ctx.shown_folder}/{path}"
            fetch = f"git clone {repo} {shown}" if repo else f"place the code at {shown}"
            if commit:
                fetch += f" && git -C {shown} checkout {commit}"
            return m.bad("path", f"no checkout at {shown}", fetch)
    if commit is not None and not _COMMIT.match(commit):
        return m.bad(
            "commit", f"{commit!r} is not a git commit", "write its hash (7-40 hex digits)"
        )
    return Upstream(
        name=name,
        package=package,
        version=version,
        path=path,
        repo=repo,
        commit=commit,
        license=license_,
        loc=ctx.loc(m.node.line),
    )


__all__ = ["build_upstream"]
