"""Writing the session's reports: results.md per paper, the JSON document, GitHub summary."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.config import ReproConfig, describe
from pytest_repro.results import JSON_VERSION, ClaimResult
from pytest_repro.spec import load_spec
from pytest_repro.spec.schema import PaperSpec

if TYPE_CHECKING:
    from pytest_repro.records import RunRecord
    from pytest_repro.session import ReproSession


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def by_paper(results: Iterable[ClaimResult]) -> dict[str, list[ClaimResult]]:
    grouped: dict[str, list[ClaimResult]] = {}
    for result in results:
        grouped.setdefault(result.path, []).append(result)
    return grouped


def complete(
    spec: PaperSpec, ran: Sequence[ClaimResult], evaluate_recorded: Callable[..., ClaimResult]
) -> list[ClaimResult]:
    """Every claim of ``spec`` in spec order: this session's result, else one from recorded runs.

    A claim skipped in this session (a GPU claim on a CPU machine) also falls back to its
    recorded runs, so a session that could not run a claim does not erase its evidence.
    """
    mine = {r.id: r for r in ran}
    out = []
    for claim in spec.claims:
        result = mine.get(claim.id)
        if result is None or result.verdict == "skipped":
            recorded = evaluate_recorded(spec, claim)
            if result is None or recorded.verdict != "skipped":
                result = recorded
        out.append(result)
    return out


def missing_claims(claims: Sequence[ClaimResult]) -> list[str]:
    """Claims without a result: a report that lacks them would be partial."""
    return [c.id for c in claims if c.verdict == "skipped"]


def paper_report(
    spec: PaperSpec,
    ran: Sequence[ClaimResult],
    cfg: ReproConfig,
    store: Any,
    extra_records: Iterable[RunRecord] = (),
) -> tuple[list[ClaimResult], dict[str, RunRecord]]:
    """The complete claim list of one paper and the records its report cites."""
    from pytest_repro.evaluate import Evaluator
    from pytest_repro.execution.plan import Planner
    from pytest_repro.report.recorded import RecordIndex

    index = RecordIndex(store.records(paper_path=spec.display) if store is not None else ())
    index.add(extra_records)
    evaluator = Evaluator(cfg, Planner(cfg, report_only=True), index.obtain)
    claims = complete(spec, ran, evaluator.evaluate)
    records = fetch_records(store, [rid for r in claims for rid in r.runs])
    for record in extra_records:
        records.setdefault(record.run_id, record)
    return claims, records


def write_results_md(
    session: ReproSession, results: Sequence[ClaimResult]
) -> tuple[list[Path], list[str]]:
    """``results.md`` next to each paper.yaml that had claims in this session.

    A paper's report is written only when every claim has a result, from this session or
    from recorded runs: a partial session (``-k``, a skipped GPU claim, ``--repro-cache=off``)
    never replaces a complete report with a partial one. Returns the files written and a
    note for each paper left alone.
    """
    from pytest_repro import __version__
    from pytest_repro.report import markdown

    cfg = session.cfg
    memo = list(session.memo_records())
    written, notes = [], []
    for path, ran in by_paper(results).items():
        try:
            spec = load_spec(cfg.rootdir / path, display=path)
        except Exception:
            continue
        claims, records = paper_report(spec, ran, cfg, session.store(), memo)
        missing = missing_claims(claims)
        if missing:
            notes.append(
                f"repro: {spec.folder / 'results.md'} not written: no result for {', '.join(missing)} "
                f"(run them: pytest {spec.display})"
            )
            continue
        text = markdown.render(spec, claims, records, version=__version__, settings=describe(cfg))
        target = spec.folder / "results.md"
        atomic_write(target, text)
        written.append(target)
    return written, notes


def fetch_records(store: Any, run_ids: Sequence[str]) -> dict[str, RunRecord]:
    if store is None:
        return {}
    out = {}
    for rid in dict.fromkeys(run_ids):
        record = store.by_id(rid)
        if record is not None:
            out[rid] = record
    return out


def json_document(
    results: Sequence[ClaimResult],
    cfg: ReproConfig | None = None,
    spec_errors: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The ``--repro-json`` document. A paper.yaml that could not be read appears with its
    ``problems`` and no claims, so a consumer sees it rather than nothing."""
    from pytest_repro import __version__

    papers = []
    for path, claims in by_paper(results).items():
        first = claims[0]
        papers.append(
            {
                "id": first.paper_id,
                "title": first.paper_title,
                "path": path,
                "claims": [_claim_json(c) for c in claims],
            }
        )
    for error in spec_errors:
        broken: dict[str, Any] = {"id": None, "title": None, "path": error["path"]}
        broken["problems"] = list(error["problems"])
        broken["claims"] = []
        papers.append(broken)
    document: dict[str, Any] = {
        "version": JSON_VERSION,
        "generator": f"pytest-repro {__version__}",
        "papers": papers,
    }
    if cfg is not None:
        document["settings"] = describe(cfg)
    return document


def _claim_json(result: ClaimResult) -> dict[str, Any]:
    data = result.to_json()
    ordered = {
        key: data.pop(key)
        for key in (
            "id",
            "kind",
            "metric",
            "at",
            "paper",
            "tolerance",
            "n",
            "seeds",
            "values",
            "estimate",
            "interval",
            "confidence",
            "delta",
            "verdict",
            "label",
            "method",
            "hypothesis",
            "runs",
        )
    }
    for key in ("paper_id", "paper_title", "path"):
        data.pop(key, None)
    ordered.update(data)
    return ordered


def write_json(
    path: Path,
    results: Sequence[ClaimResult],
    cfg: ReproConfig | None = None,
    spec_errors: Sequence[Mapping[str, Any]] = (),
) -> None:
    document = json_document(results, cfg, spec_errors)
    atomic_write(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def read_json(path: Path) -> list[ClaimResult]:
    document = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for paper in document.get("papers", []):
        for claim in paper.get("claims", []):
            out.append(
                ClaimResult.from_json(
                    {
                        **claim,
                        "paper_id": paper["id"],
                        "paper_title": paper.get("title", ""),
                        "path": paper["path"],
                    }
                )
            )
    return out


def write_github(path: Path, results: Sequence[ClaimResult]) -> None:
    """Append a Markdown verdict table to the GitHub Actions step summary."""
    from pytest_repro.report.terminal import measured_text, paper_text

    lines = [
        "## Reproduction verdicts",
        "",
        "| Claim | Paper | Reproduced | Verdict |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| `{r.paper_id}::{r.id}` | {paper_text(r)} | {measured_text(r)} | {r.label} |"
        )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")


def github_annotations(results: Sequence[ClaimResult]) -> list[str]:
    """``::error file=...,line=...::`` lines pointing failed claims at their YAML line."""
    out = []
    level: Mapping[str, str] = {
        "gap": "error",
        "disagreement": "error",
        "error": "error",
        "inconclusive": "warning",
    }
    for r in results:
        kind = level.get(r.verdict)
        if kind is None or (r.expect == r.verdict):
            continue
        message = r.label.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        out.append(f"::{kind} file={r.path},line={r.line},title=claim {r.id}::{message}")
    return out
