"""The appendix of results.md: the recorded runs behind the numbers, and how to trace them.

For the runs a report cites: the code (git commit, paper code hash), the data (content
hashes, or identities when none were recorded), the environment of the runs (with what
differs between them), one row per run and the resolved configs. Everything here comes
from ledger records, which may have been imported from elsewhere, so all of it is escaped.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_repro.records import RunRecord
from pytest_repro.report.escape import md_code, md_text
from pytest_repro.results import ClaimResult

#: The environment facts shown per report, in this order.
ENV_FIELDS = (
    "python",
    "implementation",
    "platform",
    "machine",
    "cpu",
    "cpus",
    "gpus",
    "cuda",
    "cudnn",
)


def evidence(results: Sequence[ClaimResult], records: Mapping[str, RunRecord]) -> list[str]:
    """The appendix for the runs ``results`` cite that ``records`` holds."""
    used = []
    seen = set()
    for r in results:
        for rid in r.runs:
            if rid in records and rid not in seen:
                seen.add(rid)
                used.append(records[rid])
    lines = ["## Appendix: evidence", ""]
    if not used:
        return [*lines, "No recorded runs.", ""]
    commits = sorted(
        {str(rec.evidence.get("git", {}).get("commit", "unknown"))[:12] for rec in used}
    )
    dirty = any(rec.evidence.get("git", {}).get("paper_dirty") for rec in used)
    codes = sorted({str(rec.evidence.get("key", {}).get("code", ""))[:12] for rec in used})
    lines.append(
        f"- Code: git commit {md_text(', '.join(commits))}"
        + (" with uncommitted changes in the paper folder" if dirty else "")
        + f"; paper code hash {md_text(', '.join(codes))}."
    )
    lines += _data_lines(used)
    lines += _environment_lines(used)
    lines += [
        "",
        "### Runs",
        "",
        "| Run | Config | Seed | Status | Wall time | Started (UTC) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rec in sorted(used, key=lambda x: (x.variant, x.seed)):
        started = _dt.datetime.fromtimestamp(rec.started_at, _dt.timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        )
        lines.append(
            f"| {md_code(rec.run_id, cell=True)} | {md_code(rec.variant, cell=True)} "
            f"| {md_text(rec.seed)} | {md_text(rec.status)} | {rec.wall_time:.1f} s | {started} |"
        )
    lines.append("")
    configs: dict[str, Mapping[str, Any]] = {}
    for rec in used:
        configs.setdefault(rec.variant, rec.config)
    lines += ["### Resolved configs", ""]
    for key, config in configs.items():
        pairs = ", ".join(f"{k}={v!r}" for k, v in config.items())
        lines.append(f"- {md_code(key)}: {md_text(pairs)}")
    lines.append("")
    return lines


def _data_lines(used: Sequence[RunRecord]) -> list[str]:
    fingerprints: dict[str, set[str]] = {}
    for rec in used:
        for name, fp in dict(rec.evidence.get("data") or {}).items():
            value = fp.get("fingerprint") if isinstance(fp, Mapping) else str(fp)
            fingerprints.setdefault(str(name), set()).add(str(value)[:16])
    if not fingerprints:
        identities: dict[str, set[str]] = {}
        for rec in used:
            for name, ident in dict(rec.evidence.get("key", {}).get("data") or {}).items():
                identities.setdefault(str(name), set()).add(str(ident)[:16])
        return [
            f"- Data {md_code(n)}: identity {md_text(', '.join(sorted(v)))}."
            for n, v in identities.items()
        ]
    lines = []
    for name, values in fingerprints.items():
        note = " — **differs between runs**" if len(values) > 1 else ""
        lines.append(
            f"- Data {md_code(name)}: content sha256 {md_text(', '.join(sorted(values)))}{note}."
        )
    return lines


def _environment_lines(used: Sequence[RunRecord]) -> list[str]:
    envs = [dict(rec.evidence.get("environment") or {}) for rec in used]
    envs = [e for e in envs if e]
    if not envs:
        return ["- Environment: not recorded."]
    lines = ["- Environment of the runs:"]
    for key in ENV_FIELDS:
        values = {_short(e.get(key)) for e in envs}
        if values == {""}:
            continue
        mark = " — **differs between runs**" if len(values) > 1 else ""
        lines.append(f"  - {key}: {md_text(', '.join(sorted(values)))}{mark}")
    packages: dict[str, set[str]] = {}
    for env in envs:
        for name, version in dict(env.get("packages") or {}).items():
            packages.setdefault(str(name), set()).add(str(version))
    if packages:
        shown = ", ".join(
            md_text(f"{name} {'/'.join(sorted(v))}") + (" (**differs**)" if len(v) > 1 else "")
            for name, v in sorted(packages.items())
        )
        lines.append(f"  - packages: {shown}")
    threads = {str((rec.evidence.get("threads") or {}).get("requested")) for rec in used}
    lines.append(f"  - threads per run: {md_text(', '.join(sorted(threads)))}")
    return lines


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_short(v) for v in value) or "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
