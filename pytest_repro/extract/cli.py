"""``pytest-repro extract`` and ``pytest-repro audit``: from a paper's text to its workspace.

    pytest-repro extract paper.pdf --out papers/p1           # papers/p1/paper.md
    pytest-repro extract src/ --into papers/p1/paper.yaml    # also a draft of the spec
    pytest-repro audit papers/p1               # the spec against paper.md: gaps_filled.md

Both read text only (no network, no language model). :func:`add_extract_commands` adds
them to the ``pytest-repro`` parser; the readers and writers are imported when a command
runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from pytest_repro.errors import ReproError
from pytest_repro.report.escape import terminal_line
from pytest_repro.spec.discovery import display_name, spec_files


def add_extract_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``extract`` and ``audit`` to ``sub``, the ``pytest-repro`` sub-command parsers."""
    extract = sub.add_parser(
        "extract",
        help="read a paper's text (LaTeX file or folder, HTML page, PDF) into paper.md: "
        "hyperparameters, datasets and reported results, each with where it is said",
    )
    extract.add_argument("paper", type=Path, help="a .tex file or folder, an .html page or a .pdf")
    extract.add_argument(
        "--out",
        type=Path,
        metavar="FOLDER",
        help="the paper folder to write paper.md into (default: print it)",
    )
    extract.add_argument(
        "--into",
        type=Path,
        metavar="PAPER_YAML",
        help="also draft the spec: write this paper.yaml when it does not exist, else write "
        "the proposals to paper.proposed.yaml beside it (paper.yaml is never changed); "
        "paper.md goes to its folder unless --out says otherwise",
    )
    extract.set_defaults(handler=_extract)

    audit = sub.add_parser(
        "audit",
        help="hold each paper's spec against its paper.md: assumed and unsourced values, "
        "what the paper never states, numbers that differ, results no claim covers; "
        "writes gaps_filled.md (and inventory.md)",
    )
    audit.add_argument(
        "paths", nargs="*", type=Path, help="paper folders or paper.yaml files (default: papers/)"
    )
    audit.add_argument("--strict", action="store_true", help="exit 1 when a gap is found")
    audit.set_defaults(handler=_audit)


def _extract(args: argparse.Namespace, out: TextIO) -> int:
    """Read the paper; write paper.md (and the draft); exit 1 when nothing could be read."""
    from pytest_repro.extract import paper_md, read_paper

    extract = read_paper(args.paper)
    for problem in extract.problems:
        print(terminal_line(f"pytest-repro: could not read everything: {problem}"), file=sys.stderr)
    found = len(extract.hyperparameters) + len(extract.results) + len(extract.datasets)
    if not found and not extract.sections:
        print(
            terminal_line(f"pytest-repro: nothing was read from {args.paper}; nothing written"),
            file=sys.stderr,
        )
        return 1
    text = paper_md.render(extract)
    folder = args.out or (args.into.parent if args.into else None)
    if folder is None:
        out.write(text)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "paper.md", text, out)
    print(
        terminal_line(
            f"read {len(extract.hyperparameters)} hyperparameter statements, "
            f"{len(extract.datasets)} dataset mentions, {len(extract.results)} reported results "
            f"from {len(extract.tables)} tables"
            + (" (a partial extract: see above)" if extract.partial else "")
        ),
        file=sys.stderr if folder is None else out,
    )
    if args.into:
        _draft(args.into, extract, out)
    return 0


def _write(path: Path, text: str, out: TextIO) -> None:
    from pytest_repro.report.writers import atomic_write

    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ReproError(f"cannot write {path} ({exc.strerror or exc})") from None
    print(terminal_line(f"wrote {path}"), file=out)


def _draft(target: Path, extract: Any, out: TextIO) -> None:
    from pytest_repro.extract import draft
    from pytest_repro.extract.audit import config_kind
    from pytest_repro.spec import load_spec

    if target.name != "paper.yaml":
        raise ReproError(f"--into {target}: give the path of a paper.yaml")
    if not target.exists():
        _write(target, draft.full_draft(extract, target.parent.name), out)
        print(f"next: check every value against the paper, then: pytest {target.parent}", file=out)
        return
    spec = load_spec(target, display=display_name(target, Path.cwd()), metric_formats=None)
    have = {k for name in spec.run.config if (k := config_kind(name))}
    values = [c.paper.value for c in spec.claims if c.paper is not None]
    uncovered = [
        r
        for r in extract.results
        if not any(
            abs(v - r.value) < 1e-9 or (r.percent and abs(v * 100 - r.value) < 1e-6) for v in values
        )
    ]
    proposed = target.with_name("paper.proposed.yaml")
    _write(proposed, draft.proposal(extract, have, uncovered, str(target)), out)
    print(f"{target} was not changed: copy from {proposed.name} what you keep", file=out)


def _audit(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_repro.extract import audit as auditing
    from pytest_repro.extract import inventory_md, paper_md
    from pytest_repro.spec import load_spec

    root = Path.cwd()
    files = spec_files(args.paths)
    if not files:
        raise ReproError("no paper.yaml found; give a paper folder, e.g. papers/<id>")
    gaps = 0
    for file in files:
        spec = load_spec(file, display=display_name(file, root), metric_formats=None)
        inventory = inventory_md.render(spec)
        if inventory is not None:
            _write(file.parent / "inventory.md", inventory, out)
        md = file.parent / "paper.md"
        if not md.exists():
            print(
                terminal_line(
                    f"{spec.display}: no paper.md beside it; write it with: "
                    f"pytest-repro extract PAPER --out {file.parent}"
                ),
                file=out,
            )
            continue
        result = auditing.audit(spec, paper_md.load(md))
        for line in auditing.table_lines(result):
            print(terminal_line(line), file=out)
        _write(
            file.parent / "gaps_filled.md", auditing.gaps_filled_md(result, spec.paper.title), out
        )
        gaps += len(result.gaps)
    return 1 if args.strict and gaps else 0


__all__ = ["add_extract_commands"]
