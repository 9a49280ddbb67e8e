"""``pytest-repro history CLAIM``: a claim's verdict and estimate per recorded code version.

The claim's recorded runs are grouped by the paper code they ran (the code hash of their
cache key; the git commit and its dirty flag come from their evidence). Each group is
evaluated as the report evaluates the claim — the same planner, statistics and labels,
for the claim as the paper.yaml states it now — newest first, so a lab sees when a change
of code moved a published number::

    pytest-repro history papers/p1::acc
    date (UTC)        commit        code          runs  reproduced       verdict
    2026-01-03 10:12  4f1c2e9a0b1d  9d0e…         3     0.905 ± 0.001    [matched within 1.0 pp]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.config import ReproConfig
from pytest_repro.errors import ReproError
from pytest_repro.execution.plan import RunRequest
from pytest_repro.ledger.store import RunStore
from pytest_repro.records import RunRecord, dumps
from pytest_repro.report.escape import plain
from pytest_repro.results import ClaimResult
from pytest_repro.spec.claim_nodes import Claim
from pytest_repro.spec.schema import PaperSpec

#: Cache-key fields left out when matching a claim's runs within one code version.
_IGNORED = ("environment", "code")


class HistoryUsageError(ReproError, ValueError):
    """The claim given to history is not ``PAPER::CLAIM`` of an existing paper.yaml."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """One recorded code version of a claim: the ``code`` hash, git ``commit`` (with
    ``dirty``), when its newest run started (``date``), and the claim's ``result``."""

    code: str
    commit: str
    dirty: bool
    date: float
    runs: int
    result: ClaimResult

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "code": self.code,
            "commit": self.commit,
            "dirty": self.dirty,
            "date": when(self.date),
            "runs": list(r.runs),
            "n": r.n,
            "estimate": r.estimate,
            "interval": list(r.interval) if r.interval is not None else None,
            "verdict": r.verdict,
            "label": r.label,
        }


def parse_target(text: str) -> tuple[Path, str]:
    """``papers/p1::acc`` or ``papers/p1/paper.yaml::acc`` -> (the paper.yaml, the claim id)."""
    path, sep, claim = text.rpartition("::")
    if not sep or not path or not claim:
        raise HistoryUsageError(
            f"{text!r} is not PAPER::CLAIM; write it as papers/<id>::<claim> "
            "(or papers/<id>/paper.yaml::<claim>)"
        )
    file = Path(path)
    if file.is_dir():
        file = file / "paper.yaml"
    if not file.is_file():
        raise HistoryUsageError(f"{file} does not exist; give a paper folder or its paper.yaml")
    return file, claim


def find_claim(spec: PaperSpec, claim_id: str) -> Claim:
    for claim in spec.claims:
        if claim.id == claim_id:
            return claim
    known = ", ".join(c.id for c in spec.claims) or "none"
    raise HistoryUsageError(f"{spec.display} has no claim {claim_id!r}; its claims: {known}")


def claim_history(
    spec: PaperSpec, claim: Claim, store: RunStore, cfg: ReproConfig
) -> list[Version]:
    """The claim evaluated once per recorded code version of its paper, newest first."""
    from pytest_repro.evaluate import Evaluator, NotRecorded
    from pytest_repro.execution.plan import Planner

    groups: dict[str, list[RunRecord]] = {}
    for record in store.records(paper_path=spec.display, statuses=("ok",)):
        key = record.evidence.get("key")
        if record.smoke or not isinstance(key, Mapping):
            continue
        groups.setdefault(str(key.get("code", "")), []).append(record)
    planner = Planner(cfg, report_only=True)
    versions = []
    for code, records in groups.items():
        best: dict[str, RunRecord] = {}
        for record in records:  # start order: the newest of a key wins
            best[_match(record.evidence["key"])] = record

        def obtain(
            requests: Sequence[RunRequest], best: dict[str, RunRecord] = best
        ) -> list[RunRecord]:
            found = []
            for request in requests:
                record = best.get(_match(request.key_fields))
                if record is None:
                    raise NotRecorded(f"no run of seed {request.seed} at this code version")
                found.append(record)
            return found

        result = Evaluator(cfg, planner, obtain).evaluate(spec, claim)
        if result.verdict == "skipped":
            continue  # this code version never ran the claim as it is stated now
        used = [r for r in records if r.run_id in set(result.runs)] or records
        git = [r.evidence.get("git") or {} for r in used]
        commits = sorted({str(g.get("commit") or "unknown")[:12] for g in git})
        versions.append(
            Version(
                code=code,
                commit=", ".join(commits),
                dirty=any(bool(g.get("paper_dirty")) for g in git),
                date=max(r.started_at for r in used),
                runs=len(used),
                result=result,
            )
        )
    return sorted(versions, key=lambda v: v.date, reverse=True)


def _match(key_fields: Mapping[str, Any]) -> str:
    return dumps({k: v for k, v in key_fields.items() if k not in _IGNORED})


def table(versions: Sequence[Version]) -> list[str]:
    """The plain-text table of ``versions``; every cell shown inert (:func:`plain`)."""
    from pytest_repro.report.model import claim_view

    rows = [("date (UTC)", "commit", "code", "runs", "reproduced", "verdict")]
    for v in versions:
        view = claim_view(v.result)
        commit = v.commit + (" +dirty" if v.dirty else "")
        rows.append((when(v.date), commit, v.code[:12], str(v.runs), view.measured, view.label))
    cells = [[plain(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]


def when(timestamp: float) -> str:
    """``2026-01-03 10:12``: a run's start in UTC, to the minute."""
    return _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
