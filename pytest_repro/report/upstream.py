"""The "Upstream code" section of results.md: the authors' code the runs used.

What the spec declares (package and pinned version, or checkout, with repository, commit
and licence) beside what the recorded runs saw (the installed version, the checkout's
commit and whether it had uncommitted changes, the hash of its files). Everything is
escaped: specs and records are hostile text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_repro.records import RunRecord
from pytest_repro.report.escape import md_code, md_text
from pytest_repro.spec.schema import PaperSpec, Upstream


def upstream_section(spec: PaperSpec, records: Iterable[RunRecord]) -> list[str]:
    """The section's lines; none when the paper names no upstream code."""
    if not spec.upstream:
        return []
    seen: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        ids = record.evidence.get("upstream")
        if isinstance(ids, dict):
            for name, identity in ids.items():
                if isinstance(identity, dict):
                    seen.setdefault(str(name), []).append(identity)
    lines = ["## Upstream code", ""]
    for upstream in spec.upstream:
        lines.append(f"- {_declared(upstream)}")
        lines.append(f"  {_recorded(seen.get(upstream.name, []))}")
    return [*lines, ""]


def _declared(u: Upstream) -> str:
    if u.package:
        what = f"{md_text(u.name)}: package {md_code(f'{u.package}=={u.version}')}"
    else:
        what = f"{md_text(u.name)}: checkout {md_code(u.path or '')}"
    if u.repo:
        what += f" from {md_code(u.repo)}"
    if u.commit:
        what += f" at commit {md_code(u.commit)}"
    if u.license:
        what += f", licence {md_text(u.license)}"
    return what + "."


def _recorded(identities: list[dict[str, Any]]) -> str:
    if not identities:
        return "No recorded run names it."

    def values(key: str) -> list[str]:
        return sorted({str(i[key]) for i in identities if i.get(key) is not None})

    parts = []
    if values("version"):
        parts.append(f"installed {md_text(', '.join(values('version')))}")
    heads = [h[:12] for h in values("head")]
    if heads:
        parts.append(f"commit {md_text(', '.join(heads))}")
    if any(i.get("dirty") for i in identities):
        parts.append("**with uncommitted changes**")
    elif heads:
        parts.append("clean")
    files = [f[:12] for f in values("files_sha256")]
    if files:
        parts.append(f"files sha256 {md_text(', '.join(files))}")
    return f"The runs used it: {'; '.join(parts)}."


__all__ = ["upstream_section"]
