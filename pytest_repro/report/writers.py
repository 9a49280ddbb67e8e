"""Writing reports: results.md per paper, the JSON document, GitHub Actions output.

:func:`write_results_md` is the one writer of results.md, for a pytest session and for
``pytest-repro report`` alike: a paper's report is written only when every claim has a
result, from this session or from recorded runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.config import ReproConfig, describe
from pytest_repro.errors import ReproError
from pytest_repro.report.escape import (
    md_code,
    md_text,
    plain,
    terminal_line,
    workflow_message,
    workflow_property,
)
from pytest_repro.report.model import claim_view
from pytest_repro.results import JSON_VERSION, ClaimResult
from pytest_repro.spec import load_spec
from pytest_repro.spec.schema import Claim, PaperSpec

if TYPE_CHECKING:
    from pytest_repro.ledger.store import RunStore
    from pytest_repro.records import RunRecord
    from pytest_repro.report.problems import SpecProblems


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
    """Results grouped by their paper.yaml (as shown to the user), in first-seen order."""
    grouped: dict[str, list[ClaimResult]] = {}
    for result in results:
        grouped.setdefault(result.path, []).append(result)
    return grouped


def complete(
    spec: PaperSpec,
    ran: Sequence[ClaimResult],
    evaluate_recorded: Callable[[PaperSpec, Claim], ClaimResult],
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
    store: RunStore | None,
    extra_records: Iterable[RunRecord] = (),
) -> tuple[list[ClaimResult], dict[str, RunRecord]]:
    """The complete claim list of one paper and the records its report cites.

    ``extra_records``: runs not in ``store`` (this session's, under ``--repro-cache=off``).
    """
    from pytest_repro.evaluate import Evaluator
    from pytest_repro.execution.plan import Planner
    from pytest_repro.report.recorded import RecordIndex

    extra = tuple(extra_records)
    index = RecordIndex(store.records(paper_path=spec.display) if store is not None else ())
    index.add(extra)
    evaluator = Evaluator(cfg, Planner(cfg, report_only=True), index.obtain)
    claims = complete(spec, ran, evaluator.evaluate)
    records = fetch_records(store, [rid for r in claims for rid in r.runs])
    for record in extra:
        records.setdefault(record.run_id, record)
    return claims, records


def write_results_md(
    cfg: ReproConfig,
    store: RunStore | None,
    results: Sequence[ClaimResult],
    extra_records: Iterable[RunRecord] = (),
) -> tuple[list[Path], list[str]]:
    """``results.md`` next to each paper.yaml that ``results`` has claims of.

    A paper's report is written only when every claim has a result, from ``results`` or
    from recorded runs (``store`` and ``extra_records``): a partial session (``-k``, a
    skipped GPU claim, ``--repro-cache=off``) or a ledger that lacks some runs never
    replaces a complete report with a partial one. Returns the files written and, for each
    paper left alone, a note saying why.
    """
    from pytest_repro import __version__
    from pytest_repro.report import markdown

    extra = tuple(extra_records)
    written, notes = [], []
    for path, ran in by_paper(results).items():
        try:
            spec = load_spec(cfg.rootdir / path, display=path, metric_formats=None)
        except (ReproError, OSError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            notes.append(terminal_line(f"repro: results.md of {path} not written: {reason}"))
            continue
        claims, records = paper_report(spec, ran, cfg, store, extra)
        missing = missing_claims(claims)
        target = spec.folder / "results.md"
        if missing:
            notes.append(
                terminal_line(
                    f"repro: {target} not written: no result for {', '.join(missing)} "
                    f"(run them: pytest {spec.display})"
                )
            )
            continue
        text = markdown.render(spec, claims, records, version=__version__, settings=describe(cfg))
        atomic_write(target, text)
        written.append(target)
    return written, notes


def fetch_records(store: RunStore | None, run_ids: Sequence[str]) -> dict[str, RunRecord]:
    """The records of ``run_ids`` that ``store`` holds."""
    if store is None:
        return {}
    out = {}
    for rid in dict.fromkeys(run_ids):
        record = store.by_id(rid)
        if record is not None:
            out[rid] = record
    return out


# -- the JSON document ------------------------------------------------------------------------
#: The keys every claim of the JSON document starts with, in this order.
CLAIM_KEYS = (
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


def json_document(
    results: Sequence[ClaimResult],
    cfg: ReproConfig | None = None,
    spec_problems: Sequence[SpecProblems] = (),
) -> dict[str, Any]:
    """The ``--repro-json`` document. A paper.yaml that could not be read appears with its
    ``problems`` and no claims, so a consumer sees it rather than nothing."""
    from pytest_repro import __version__

    papers: list[dict[str, Any]] = []
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
    papers.extend(problems.to_json() for problems in spec_problems)
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
    ordered = {key: data.pop(key) for key in CLAIM_KEYS}
    for key in ("paper_id", "paper_title", "path"):
        data.pop(key, None)
    ordered.update(data)
    return ordered


def write_json(
    path: Path,
    results: Sequence[ClaimResult],
    cfg: ReproConfig | None = None,
    spec_problems: Sequence[SpecProblems] = (),
) -> None:
    """Write :func:`json_document` to ``path``."""
    document = json_document(results, cfg, spec_problems)
    atomic_write(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def read_json(path: Path) -> list[ClaimResult]:
    """The claim results of a JSON document written by :func:`write_json`."""
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


# -- GitHub Actions ---------------------------------------------------------------------------
def write_github(path: Path, results: Sequence[ClaimResult]) -> None:
    """Append a Markdown verdict table to the GitHub Actions step summary."""
    lines = [
        "## Reproduction verdicts",
        "",
        "| Claim | Paper | Reproduced | Verdict |",
        "| --- | --- | --- | --- |",
    ]
    for v in map(claim_view, results):
        lines.append(
            f"| {md_code(v.name, cell=True)} | {md_text(v.paper)} | {md_text(v.measured)} "
            f"| {md_text(v.label)} |"
        )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")


def github_annotations(results: Sequence[ClaimResult]) -> list[str]:
    """``::error file=...,line=...,title=...::`` lines pointing claims at their YAML line.

    The level is the verdict's (:data:`pytest_repro.vocab.VERDICTS`); a claim whose verdict
    the spec expects gets none.
    """
    out = []
    for v in map(claim_view, results):
        level = v.meaning.github
        if level is None or v.expected:
            continue
        where = f"file={workflow_property(v.result.path)},line={workflow_property(v.result.line)}"
        title = workflow_property(f"claim {v.id}")
        out.append(plain(f"::{level} {where},title={title}::{workflow_message(v.label)}"))
    return out
