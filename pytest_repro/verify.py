"""``pytest-repro verify``: re-derive every number of a published results.md from recorded runs.

A report is rebuilt exactly as ``pytest-repro report`` builds it (the same writer, from
the ledger or a sealed bundle) and compared with the published text: the claims table
cell by cell, then every other line of every section but the header line (which says
when and with which settings the report was generated). Each difference is one line
naming the file, the claim and the cell::

    papers/p1/results.md: claim acc: Reproduced 0.912 ± 0.002 in the report, 0.900 ± 0.002
    from runs r-1, r-2, r-3 (rebuild it: pytest-repro report papers/p1/paper.yaml)

Nothing here trains or writes: a claim whose runs are not recorded is a mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_repro.config import ReproConfig, describe
from pytest_repro.errors import ReproError
from pytest_repro.ledger.store import RunStore
from pytest_repro.report.escape import terminal_line
from pytest_repro.results import ClaimResult

#: Cells of a Markdown table row, split at pipes that are not escaped.
_CELL = re.compile(r"(?<!\\)\|")
#: The line of results.md that records when and how it was generated.
_HEADER = "Paper id "
_ANCHOR = re.compile(r'<a id="[^"<>]*"></a>')
#: At most this many differences are listed per report.
MAX_PER_FILE = 20


class VerifyUsageError(ReproError, ValueError):
    """A path given to verify is not a results.md next to a paper.yaml."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """What verifying reports found: the ``reports`` checked, the table ``cells`` compared,
    the ``claims`` re-derived and one line per ``problems`` (empty: all verified)."""

    reports: tuple[str, ...]
    cells: int
    claims: int
    problems: tuple[str, ...]


def report_files(paths: Sequence[Path]) -> list[Path]:
    """The results.md files ``paths`` name: files, or every results.md under a folder."""
    found: list[Path] = []
    for path in paths or [Path("papers")]:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("results.md") if ".repro" not in p.parts))
        else:
            raise VerifyUsageError(
                f"{path} does not exist; give a results.md, a paper folder or papers/"
            )
    if not found:
        raise VerifyUsageError(
            f"no results.md under {', '.join(map(str, paths or [Path('papers')]))}; "
            "write the reports first (pytest papers, or pytest-repro report)"
        )
    for file in found:
        if not (file.parent / "paper.yaml").is_file():
            raise VerifyUsageError(
                f"{file}: no paper.yaml next to it; verify the results.md of a paper folder"
            )
    return found


def verify(files: Sequence[Path], store: RunStore, cfg: ReproConfig, root: Path) -> Verified:
    """Rebuild each report in ``files`` from ``store`` and compare it with the file."""
    from pytest_repro import __version__
    from pytest_repro.report import markdown, writers
    from pytest_repro.spec import load_spec

    problems: list[str] = []
    cells = claims_seen = 0
    shown: list[str] = []
    for file in files:
        name = _display(file, root)
        shown.append(name)
        spec_file = file.parent / "paper.yaml"
        try:
            published = file.read_text(encoding="utf-8")
            spec = load_spec(spec_file, display=_display(spec_file, root), metric_formats=None)
        except (OSError, UnicodeDecodeError, ReproError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(terminal_line(f"{name}: cannot be checked: {first}"))
            continue
        claims, records = writers.paper_report(spec, [], cfg, store)
        text = markdown.render(
            spec, claims, records, version=__version__, settings=describe(cfg), figures=True
        )
        fix = f"rebuild it: pytest-repro report {spec.display}"
        found, compared = compare(published, text, claims)
        claims_seen += len(claims)
        cells += compared
        for claim in claims:
            if claim.verdict == "skipped":
                found.insert(
                    0,
                    f"claim {claim.id}: no recorded run matches the current code and config "
                    f"({claim.error or claim.label}); verify against the ledger that made the "
                    f"report (--ledger or --ledger-file), or rerun: pytest {spec.display}",
                )
                fix = ""
        extra = len(found) - MAX_PER_FILE
        for line in found[:MAX_PER_FILE]:
            problems.append(terminal_line(f"{name}: {line}" + (f" ({fix})" if fix else "")))
        if extra > 0:
            problems.append(terminal_line(f"{name}: … and {extra} more differences"))
    return Verified(reports=tuple(shown), cells=cells, claims=claims_seen, problems=tuple(problems))


def compare(published: str, rebuilt: str, claims: Sequence[ClaimResult]) -> tuple[list[str], int]:
    """The differences between two texts of one results.md, and the table cells compared."""
    old, new = _sections(published), _sections(rebuilt)
    found: list[str] = []
    runs = {c.id: _runs(c) for c in claims}
    table_old, table_new = _table(old.get("## Claims", [])), _table(new.get("## Claims", []))
    columns = table_new[0] if table_new else []
    cells = 0
    if table_old[:1] != table_new[:1]:
        found.append(
            f"claims table: header {' | '.join(table_old[0]) if table_old else '(none)'} in the "
            f"report, {' | '.join(columns) or '(none)'} from the ledger"
        )
    for index, row in enumerate(table_new[1:]):
        claim = claims[index].id if index < len(claims) else row[0]
        mine = table_old[index + 1] if index + 1 < len(table_old) else None
        if mine is None:
            found.append(f"claim {claim}: missing from the report's claims table")
            continue
        if len(mine) != len(row):
            found.append(
                f"claim {claim}: {len(mine)} cells in the report's row, {len(row)} expected"
            )
        for column, (was, now) in enumerate(zip(mine, row, strict=False)):
            cells += 1
            if was != now:
                what = columns[column] if column < len(columns) else f"cell {column + 1}"
                found.append(
                    f"claim {claim}: {what} {was or '(empty)'} in the report, "
                    f"{now or '(empty)'} from {runs.get(claim, 'the ledger')}"
                )
    if len(table_old) > len(table_new):
        for row in table_old[len(table_new) :]:
            found.append(f"claims table: row {' | '.join(row)} is not a claim of the paper.yaml")
    for title in dict.fromkeys([*old, *new]):
        where = _where(title, runs)
        if title not in old or title not in new:
            side = "in the report only" if title in old else "missing from the report"
            found.append(f"{where}: section {title.lstrip('# ')!r} {side}")
            continue
        lines_old, lines_new = old[title], new[title]
        if title == "## Claims":  # the table is compared cell by cell above; the rest here
            lines_old = [line for line in lines_old if not line.startswith("|")]
            lines_new = [line for line in lines_new if not line.startswith("|")]
        for was, now in _line_pairs(lines_old, lines_new):
            source = runs.get(title[4:], "the ledger") if title.startswith("### ") else "the ledger"
            found.append(
                f"{where}: {was or '(no line)'!r} in the report, {now or '(no line)'!r} "
                f"from {source}"
            )
    return found, cells


def _sections(text: str) -> dict[str, list[str]]:
    """The lines of each ``##``/``###`` section (the title's text as key), header line out."""
    sections: dict[str, list[str]] = {}
    current = "# (top)"
    header_seen = False
    for line in text.splitlines():
        if line.startswith(("## ", "### ")):
            current = line
            sections.setdefault(current, [])
            continue
        if not line.strip() or _ANCHOR.fullmatch(line):
            continue
        if current == "# (top)" and not header_seen and line.startswith(_HEADER):
            header_seen = True  # when and with which settings: the one line that may differ
            continue
        sections.setdefault(current, []).append(line)
    return sections


def _table(lines: Sequence[str]) -> list[list[str]]:
    """The header and body rows of the first Markdown table in ``lines``, as cell texts."""
    rows = [line for line in lines if line.startswith("|")]
    cells = [[c.strip() for c in _CELL.split(row.strip())[1:-1]] for row in rows]
    return [row for row in cells if not all(set(c) <= {"-", " ", ":"} for c in row)]


def _line_pairs(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for index in range(max(len(old), len(new))):
        was = old[index] if index < len(old) else ""
        now = new[index] if index < len(new) else ""
        if was != now:
            pairs.append((was, now))
    return pairs


def _where(title: str, runs: dict[str, str]) -> str:
    if title.startswith("### ") and title[4:] in runs:
        return f"claim {title[4:]}"
    return title.lstrip("# ")


def _runs(claim: ClaimResult) -> str:
    if not claim.runs:
        return "no runs"
    ids = list(claim.runs)
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f"runs {shown}"


def _display(file: Path, root: Path) -> str:
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)
