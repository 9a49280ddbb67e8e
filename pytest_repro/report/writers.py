"""Writing reports: results.md per paper and the JSON document (the GitHub Actions
output is :mod:`pytest_repro.report.github`).

:func:`write_results_md` is the one writer of results.md, for a pytest session and for
``pytest-repro report`` alike: a paper's report is written only when every claim has a
result, from this session or from recorded runs, and an existing report is never replaced
by one in which a claim ended in an error.

Every writer is total in what it is given: any text (lone surrogates, NUL, control
characters) is written as valid UTF-8 (:func:`~pytest_repro.report.escape.utf8_text`).
What the file system refuses is an :class:`OSError` for the caller, who reports it in one
line (:func:`write_failure`) and goes on with the other reports.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.config import ReproConfig, describe
from pytest_repro.errors import ReproError
from pytest_repro.report.escape import terminal_line, utf8_text

# The GitHub Actions writers live in their own module; the reporter reaches them here.
from pytest_repro.report.github import github_annotations as github_annotations
from pytest_repro.report.github import write_github as write_github
from pytest_repro.report.model import claim_view
from pytest_repro.results import JSON_VERSION, ClaimResult
from pytest_repro.spec import load_spec
from pytest_repro.spec.claim_nodes import Claim
from pytest_repro.spec.schema import PaperSpec

if TYPE_CHECKING:
    from pytest_repro.ledger.store import RunStore
    from pytest_repro.records import RunRecord
    from pytest_repro.report.problems import SpecProblems
    from pytest_repro.verdict_cache import VerdictCache


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 via a temporary file and rename, so a reader never sees half
    a report. Lone surrogates are written as their escapes (``\\udcff``); the file keeps
    the mode of the one it replaces (a new one gets ``0o644``).

    Raises :class:`OSError` when the folder cannot be created or written, or ``path`` is
    a folder; nothing is left behind then.
    """
    data = utf8_text(text).encode("utf-8")
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: The fix of a failure that is not the file system's.
BUG = "this is a bug in pytest-repro; please report it with the command you ran"


def write_failure(what: object, exc: BaseException, fix: str) -> str:
    """The one line that says a report was not written: the file, what failed, the fix.

    >>> write_failure("papers/p1/results.md", PermissionError(13, "Permission denied"), "x")
    'repro: papers/p1/results.md not written: PermissionError: Permission denied; x'
    """
    if isinstance(exc, OSError) and exc.strerror:
        why = exc.strerror
    else:
        why = str(exc).splitlines()[0] if str(exc) else "no details"
    return terminal_line(f"repro: {what} not written: {type(exc).__name__}: {why}; {fix}")


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
    verdicts: VerdictCache | None = None,
) -> tuple[list[Path], list[str]]:
    """``results.md`` next to each paper.yaml that ``results`` has claims of.

    A paper's report is written only when every claim has a result, from ``results`` or
    from recorded runs (``store`` and ``extra_records``): a partial session (``-k``, a
    skipped GPU claim, ``--repro-cache=off``) or a ledger that lacks some runs never
    replaces a complete report with a partial one. A report in which a claim ended in an
    error (a run folder that could not be created, a crash) is written only where there
    is none yet: it never replaces an existing report. A report that would differ from the
    existing one only in its generation time is not rewritten: the file keeps its bytes
    and modification time (:func:`~pytest_repro.report.markdown.same_report`), so a rerun
    with unchanged numbers and evidence leaves nothing to commit. With ``verdicts`` (the
    session's :class:`~pytest_repro.verdict_cache.VerdictCache`), a report whose inputs
    (spec, results, cited runs, settings, code) and files on disk are exactly those it
    was last written with is not even rendered. A paper whose report
    cannot be written does not keep the others from being written. Returns the files
    written (or found up to date) and, for each paper left alone, a one-line note saying why.
    """
    written, notes = [], []
    extra = tuple(extra_records)
    for path, ran in by_paper(results).items():
        target = (cfg.rootdir / path).parent / "results.md"
        try:
            note = _write_paper(cfg, store, path, ran, extra, target, verdicts)
        except OSError as exc:
            notes.append(
                write_failure(target, exc, "make its folder writable, or pass --repro-results=off")
            )
        except Exception as exc:  # a bug in a report must not cost the other papers theirs
            notes.append(write_failure(target, exc, BUG))
        else:
            if note is None:
                written.append(target)
            else:
                notes.append(note)
    return written, notes


def _write_paper(
    cfg: ReproConfig,
    store: RunStore | None,
    path: str,
    ran: Sequence[ClaimResult],
    extra: Sequence[RunRecord],
    target: Path,
    verdicts: VerdictCache | None = None,
) -> str | None:
    """Write one paper's results.md to ``target``; returns, when it was left alone, why."""
    try:
        spec = load_spec(cfg.rootdir / path, display=path, metric_formats=None)
    except (ReproError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return terminal_line(f"repro: results.md of {path} not written: {reason}")
    claims, records = paper_report(spec, ran, cfg, store, extra)
    missing = missing_claims(claims)
    if missing:
        return terminal_line(
            f"repro: {target} not written: no result for {', '.join(missing)} "
            f"(run them: pytest {spec.display})"
        )
    errors = [c.id for c in claims if c.verdict == "error"]
    if errors and target.exists():
        return terminal_line(
            f"repro: {target} kept: {', '.join(errors)} ended in an error, and a report with "
            f"errors never replaces one (fix the error and rerun: pytest {spec.display}; "
            "or delete the file to write this one)"
        )
    settings = describe(cfg)
    key = None
    if verdicts is not None:
        key = verdicts.report_key(spec, claims, records, settings=settings)
        if key is not None and verdicts.report_current(target, key):
            return None  # rendered from these very inputs, and the files are as written
    from pytest_repro import __version__
    from pytest_repro.report import markdown

    text = markdown.render(
        spec, claims, records, version=__version__, settings=settings, figures=True
    )
    try:
        figures = write_figures(target.parent / "figures", claims, records)
    except OSError as exc:
        return write_failure(target.parent / "figures", exc, "check the paper folder is writable")
    if not _unchanged(target, text):
        atomic_write(target, text)
    if verdicts is not None and key is not None:
        verdicts.keep_report(target, key, figures)
    return None


def write_figures(
    folder: Path, claims: Sequence[ClaimResult], records: Mapping[str, RunRecord]
) -> list[Path]:
    """``figures/<claim-id>.svg`` for each claim with recorded series: the learning curves
    that results.md links when rendered with ``figures=True``. A figure whose bytes would
    not change is not rewritten: it keeps its modification time. Returns the figure files, written or up to date."""
    from pytest_repro.report.figures import figure_file, figure_name
    from pytest_repro.report.sweep_figure import sweep_figure_file

    out = []
    for claim in claims:
        text = sweep_figure_file(claim) if claim.sweep else figure_file(claim, records)
        if not text:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / figure_name(claim.id)
        try:
            same = path.read_bytes() == utf8_text(text).encode("utf-8")
        except OSError:
            same = False
        if not same:
            atomic_write(path, text)
        out.append(path)
    if folder.is_dir():  # a claim that left the spec, or lost its runs, leaves no stale figure
        for stale in set(folder.glob("*.svg")) - set(out):
            if generated_figure(stale):  # never a figure the paper keeps there itself
                stale.unlink(missing_ok=True)
    return out


def generated_figure(path: Path) -> bool:
    """Whether ``path`` is a learning-curve figure this writer made."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return "<title>learning curve of " in handle.read(4096)
    except OSError:
        return False


def _unchanged(target: Path, text: str) -> bool:
    """Whether the results.md at ``target`` already says ``text`` but for its generation
    time (a missing or unreadable file never does)."""
    from pytest_repro.report.markdown import same_report

    try:
        old = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return same_report(old, utf8_text(text))


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
    """One claim of the document: :data:`CLAIM_KEYS`, the rest of the result, then the
    words every report shows (``paper_text``, ``delta_text``) and ``expected``."""
    data = result.to_json()
    ordered = {key: data.pop(key) for key in CLAIM_KEYS}
    for key in ("paper_id", "paper_title", "path"):
        data.pop(key, None)
    ordered.update(data)
    view = claim_view(result)
    ordered.update(paper_text=view.paper, delta_text=view.delta_text, expected=view.expected)
    return ordered


def write_json(
    path: Path,
    results: Sequence[ClaimResult],
    cfg: ReproConfig | None = None,
    spec_problems: Sequence[SpecProblems] = (),
) -> None:
    """Write :func:`json_document` to ``path``: valid JSON whatever the results hold (lone
    surrogates as their escapes ``\\udcff``, a non-finite number as ``null``)."""
    document = json_document(results, cfg, spec_problems)
    text = json.dumps(json_safe(document), indent=2, allow_nan=False, default=str)
    atomic_write(path, text + "\n")


def json_path_problem(path: Path | None) -> str | None:
    """Why ``--repro-json=path`` can never be written, found before anything runs (the
    path is a folder); None when it may be. A folder that cannot be created or written is
    found when the document is written, as a one-line note."""
    if path is not None and path.is_dir():
        return (
            f"--repro-json={path}: is a folder; give the path of a file in it, "
            f"e.g. --repro-json={path / 'repro.json'}"
        )
    return None


def json_safe(value: Any) -> Any:
    """``value`` with every string (keys too) encodable as UTF-8 (:func:`utf8_text`) and
    every non-finite float as None, which strict JSON readers accept."""
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {(utf8_text(k) if isinstance(k, str) else k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


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
