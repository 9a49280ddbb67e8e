"""``pytest-repro``: scaffold a paper, rebuild reports from the ledger, share the ledger.

    pytest-repro new 2011.14439 --title "Scaling Down Deep Learning"
    pytest-repro report                      # results.md for every paper, from recorded runs
    pytest-repro report papers/2011.14439 --json results.json
    pytest-repro ledger export -o runs.jsonl  # a sealed bundle
    pytest-repro ledger import runs.jsonl
    pytest-repro ledger prune
    pytest-repro verify papers/                # every number of every results.md, re-derived
    pytest-repro verify papers/p1/results.md --ledger-file runs.jsonl
    pytest-repro history papers/p1::acc        # a claim's verdict per recorded code version
    pytest-repro extract paper.pdf --out papers/p1           # papers/p1/paper.md
    pytest-repro extract src/ --into papers/p1/paper.yaml    # also a draft of the spec
    pytest-repro audit papers/p1               # the spec against paper.md: gaps_filled.md

Nothing here trains: ``report``, ``verify`` and ``history`` use only recorded runs;
``extract`` and ``audit`` read text (no network, no language model); they are defined in
:mod:`pytest_repro.extract.cli`.
Exit status: 0 done (verified), 1 a mismatch or a report left unwritten, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pytest_repro.config import ReproConfig
from pytest_repro.errors import ReproError, ReproWarning, SpecError
from pytest_repro.extract.cli import add_extract_commands
from pytest_repro.report.escape import terminal_line
from pytest_repro.spec.discovery import display_name, spec_files

if TYPE_CHECKING:
    from pytest_repro.ledger import SQLiteLedger
    from pytest_repro.ledger.bundle import Bundle
    from pytest_repro.ledger.store import RunStore

from pytest_repro.templates import PAPER_TEMPLATE, README_TEMPLATE, TRAIN_TEMPLATE


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ReproWarning)
            code = int(args.handler(args, out))
        for warning in caught:
            print(f"pytest-repro: note: {warning.message}", file=sys.stderr)
        return code
    except BrokenPipeError:  # `pytest-repro ledger export | head`
        sys.stderr.close()
        return 0
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ReproError as exc:
        print(f"pytest-repro: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-repro", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    new = sub.add_parser(
        "new", help="scaffold papers/<id>/ with paper.yaml, train.py and README.md"
    )
    new.add_argument("id", help="the paper id (the arXiv id where there is one)")
    new.add_argument("--title", default="TITLE OF THE PAPER")
    new.add_argument(
        "--dir", default="papers", type=Path, help="where paper folders live (default papers)"
    )
    new.add_argument(
        "--upstream",
        metavar="WHAT",
        help="the authors' code: a checkout's folder, or an installed package[==version]; "
        "writes its upstream: block and a train.py adapter that calls it",
    )
    new.set_defaults(handler=_new)

    report = sub.add_parser(
        "report",
        help=(
            "rebuild results.md (and JSON) from the ledger, running nothing; a paper whose "
            "claims are not all recorded is not written (exit status 1)"
        ),
    )
    report.add_argument(
        "paths", nargs="*", type=Path, help="paper.yaml files or folders (default: papers/)"
    )
    report.add_argument("--json", type=Path, help="also write the JSON results document here")
    report.add_argument(
        "--html",
        type=Path,
        help="also write one self-contained HTML page (verdicts, figures, evidence) here",
    )
    _ledger_arg(report)
    report.set_defaults(handler=_report)

    ledger = sub.add_parser("ledger", help="export, import or prune recorded runs")
    lsub = ledger.add_subparsers(required=True, metavar="ACTION")
    export = lsub.add_parser("export", help="write runs as JSON lines")
    export.add_argument(
        "-o", "--output", type=Path, help="file to write (default: standard output)"
    )
    export.add_argument("--paper", help="only runs of this paper.yaml path")
    _ledger_arg(export)
    export.set_defaults(handler=_export)
    imp = lsub.add_parser("import", help="add runs from a JSON-lines file")
    imp.add_argument("file", type=Path)
    _ledger_arg(imp)
    imp.set_defaults(handler=_import)
    imp.add_argument("--seal", help="refuse the bundle unless its seal is this (sha256:…)")
    prune = lsub.add_parser(
        "prune", help="drop failed and superseded runs (never the newest ok run of a key)"
    )
    _ledger_arg(prune)
    prune.set_defaults(handler=_prune)

    check = sub.add_parser(
        "verify",
        help="re-derive every number of results.md from recorded runs and check the ledger's "
        "hash chain; exit 1 on any mismatch",
    )
    check.add_argument(
        "paths", nargs="*", type=Path, help="results.md files or folders (default: papers/)"
    )
    check.add_argument(
        "--ledger-file",
        type=Path,
        metavar="BUNDLE",
        help="verify against a bundle written by `pytest-repro ledger export` instead",
    )
    check.add_argument("--seal", help="with --ledger-file: the seal the bundle must have")
    _ledger_arg(check)
    check.set_defaults(handler=_verify)

    history = sub.add_parser(
        "history", help="a claim's verdict and estimate per recorded code version, newest first"
    )
    history.add_argument("claim", help="PAPER::CLAIM, e.g. papers/p1::acc")
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _ledger_arg(history)
    history.set_defaults(handler=_history)

    add_extract_commands(sub)
    return parser


def _ledger_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        type=Path,
        default=Path(".repro/ledger.sqlite"),
        help="the ledger (default .repro/ledger.sqlite)",
    )


def _new(args: argparse.Namespace, out: TextIO) -> int:
    folder = args.dir / args.id
    if (folder / "paper.yaml").exists():
        raise ReproError(f"{folder / 'paper.yaml'} already exists; edit it instead")
    folder.mkdir(parents=True, exist_ok=True)
    values = {"id": args.id, "title": args.title, "folder": folder.as_posix()}
    spec = PAPER_TEMPLATE.format(**values)
    train = TRAIN_TEMPLATE.format(**values)
    if args.upstream:
        from pytest_repro import scaffold

        found = scaffold.inspect(args.upstream, folder)
        spec = spec.replace("\nrun:\n", "\n" + scaffold.upstream_yaml(found) + "\nrun:\n", 1)
        train = scaffold.adapter(found, args.id)
    (folder / "paper.yaml").write_text(spec, encoding="utf-8")
    (folder / "train.py").write_text(train, encoding="utf-8")
    (folder / "README.md").write_text(README_TEMPLATE.format(**values), encoding="utf-8")
    print(f"created {folder}/paper.yaml, train.py and README.md", file=out)
    print(
        f"next: write the claims and the training, then run: pytest {folder} --repro-smoke",
        file=out,
    )
    return 0


def _open(path: Path, *, create: bool = False) -> SQLiteLedger:
    from pytest_repro.ledger import SQLiteLedger

    if not create and not path.exists():
        raise ReproError(
            f"no ledger at {path}; run the papers first (pytest papers/<id>) or pass --ledger"
        )
    return SQLiteLedger(path)


def _report(args: argparse.Namespace, out: TextIO) -> int:
    """Rebuild results.md of every paper from the ledger; exit 1 when one was left unwritten.

    The same writer as a pytest session, with the same rule: a paper whose claims are not
    all recorded is not written (its old results.md stays as it was). The summary table
    and ``--json`` still cover every paper.
    """
    from pytest_repro.report import writers
    from pytest_repro.report.terminal import summary_table
    from pytest_repro.spec import load_spec

    root = Path.cwd()
    cfg = ReproConfig(rootdir=root, workdir=args.ledger.parent, ledger=args.ledger, cache="read")
    store = _open(args.ledger)
    results = []
    papers = []
    histories: dict[tuple[str, str], Any] = {}
    try:
        for file in spec_files(args.paths):
            spec = load_spec(file, display=display_name(file, root), metric_formats=None)
            claims, records = writers.paper_report(spec, [], cfg, store)
            results.extend(claims)
            papers.append((spec, claims, records))
            if args.html:  # the page shows each claim's verdict per recorded code version
                from pytest_repro.history import claim_history

                for claim in spec.claims:
                    histories[(spec.display, claim.id)] = claim_history(spec, claim, store, cfg)
        written, notes = writers.write_results_md(cfg, store, results)
    finally:
        store.close()
    if args.html:
        problem = _write_html(args.html, papers, histories)
        if problem:
            notes.append(problem)
        else:
            print(f"wrote {args.html}", file=out)
    for path in written:
        print(f"wrote {path}", file=out)
    for note in notes:
        print(note, file=out)
    if args.json:
        writers.write_json(args.json, results)
        print(f"wrote {args.json}", file=out)
    for line in summary_table(results):
        print(line, file=out)
    return 1 if notes else 0


def _write_html(
    target: Path, papers: list[Any], histories: Mapping[tuple[str, str], Any]
) -> str | None:
    """Write the standalone page; the one line that says why not, or None."""
    import datetime as dt

    from pytest_repro import __version__
    from pytest_repro.report import writers
    from pytest_repro.report.standalone import page

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        text = page(papers, version=__version__, generated=now, histories=histories)
        writers.atomic_write(target, text)
    except OSError as exc:
        return writers.write_failure(target, exc, "give a writable path for --html")
    return None


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_repro.ledger.bundle import export_bundle

    store = _open(args.ledger)
    try:
        audit = store.audit()
        if audit.problems:  # sealing it would vouch for runs changed outside pytest-repro
            for problem in audit.problems:
                print(terminal_line(f"pytest-repro: {problem}"), file=sys.stderr)
            print("pytest-repro: not exported: the ledger's chain does not hold", file=sys.stderr)
            return 1
        head, stamps = audit.head, store.chain_stamps()
        records = store.records(paper_path=args.paper)
        if args.output:
            with args.output.open("w", encoding="utf-8") as handle:
                count, seal = export_bundle(
                    records, handle, source=str(args.ledger), source_head=head, stamps=stamps
                )
            print(f"exported {count} runs to {args.output}, sealed {seal}", file=sys.stderr)
        else:
            count, seal = export_bundle(
                records, out, source=str(args.ledger), source_head=head, stamps=stamps
            )
            print(f"exported {count} runs, sealed {seal}", file=sys.stderr)
    finally:
        store.close()
    return 0


def _bundle(path: Path, seal: str | None) -> tuple[Bundle, list[str]]:
    """The checked bundle at ``path`` and one line per problem (empty: sound)."""
    from pytest_repro.ledger.bundle import read_bundle

    try:
        bundle = read_bundle(path)
    except OSError as exc:
        raise ReproError(
            f"cannot read {path} ({exc.strerror or exc}); give the path of a bundle written "
            "by `pytest-repro ledger export`"
        ) from None
    fix = "export it again from the ledger that recorded the runs"
    problems = [terminal_line(f"{path}: {p}; {fix}") for p in bundle.problems]
    if seal is not None and bundle.seal != seal:
        problems.append(terminal_line(f"{path}: its seal is {bundle.seal}, not {seal}; {fix}"))
    return bundle, problems


def _import(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_repro.ledger import import_jsonl
    from pytest_repro.ledger.bundle import import_bundle, is_bundle

    if is_bundle(args.file):
        bundle, problems = _bundle(args.file, args.seal)
        if problems:
            for line in problems:
                print(line, file=out)
            print(f"refused {args.file}: nothing imported", file=out)
            return 1
        store = _open(args.ledger, create=True)
        try:
            report = import_bundle(store, bundle)
        finally:
            store.close()
        print(
            f"added {len(report.added)} runs, {len(report.already_present)} already present "
            f"(seal {bundle.seal} checked)",
            file=out,
        )
        return 0
    if args.seal is not None:
        raise ReproError(f"{args.file} is not a sealed bundle; --seal needs one")
    try:
        handle = args.file.open(encoding="utf-8")
    except OSError as exc:
        raise ReproError(
            f"cannot read {args.file} ({exc.strerror or exc}); give the path of a JSON-lines "
            "file written by `pytest-repro ledger export`"
        ) from None
    with handle:
        store = _open(args.ledger, create=True)
        try:
            report = import_jsonl(store, handle)
        except UnicodeDecodeError as exc:
            raise ReproError(f"{args.file} is not UTF-8 text ({exc.reason})") from None
        finally:
            store.close()
    print(
        f"added {len(report.added)} runs, {len(report.already_present)} already present", file=out
    )
    for invalid in report.invalid:
        print(f"  {args.file}:{invalid.line}: {invalid.reason}", file=out)
    return 1 if report.invalid else 0


def _prune(args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args.ledger)
    try:
        removed = store.prune()
    finally:
        store.close()
    print(f"removed {removed} runs", file=out)
    return 0


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_repro import verify

    root = Path.cwd()
    files = verify.report_files(args.paths)
    problems: list[str] = []
    if args.ledger_file is not None:
        from pytest_repro.ledger.memory import MemoryStore

        bundle, problems = _bundle(args.ledger_file, args.seal)
        store: RunStore = MemoryStore(bundle.records)
        source = f"{args.ledger_file} (seal {bundle.seal})"
        workdir = root / ".repro"
    else:
        if args.seal is not None:
            raise ReproError("--seal checks a bundle; give it with --ledger-file BUNDLE")
        ledger = _open(args.ledger)
        audit = ledger.audit()
        problems = [
            terminal_line(
                f"{args.ledger}: {p}; the runs it holds cannot be trusted: restore the ledger "
                "from a copy, or rerun the claims that cite the run"
            )
            for p in audit.problems
        ]
        store, source, workdir = (
            ledger,
            f"{args.ledger} (chain head {audit.head[:16]})",
            args.ledger.parent,
        )
    cfg = ReproConfig(rootdir=root, workdir=workdir, ledger=args.ledger, cache="read")
    try:
        found = verify.verify(files, store, cfg, root)
    finally:
        store.close()
    problems.extend(found.problems)
    for line in problems:
        print(line, file=out)
    verdict = "MISMATCH" if problems else "verified"
    from pytest_repro.report.format import plural

    print(
        f"{verdict}: {plural(len(found.reports), 'report')}, {plural(found.claims, 'claim')}, "
        f"{plural(found.cells, 'table cell')} re-derived from {terminal_line(source)}"
        + (f"; {plural(len(problems), 'problem')}" if problems else ""),
        file=out,
    )
    return 1 if problems else 0


def _history(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_repro import history
    from pytest_repro.spec import load_spec

    root = Path.cwd()
    file, claim_id = history.parse_target(args.claim)
    spec = load_spec(file, display=display_name(file, root), metric_formats=None)
    claim = history.find_claim(spec, claim_id)
    cfg = ReproConfig(rootdir=root, workdir=args.ledger.parent, ledger=args.ledger, cache="read")
    store = _open(args.ledger)
    try:
        versions = history.claim_history(spec, claim, store, cfg)
    finally:
        store.close()
    if args.json:
        document = {
            "paper": spec.display,
            "claim": claim.id,
            "versions": [v.to_json() for v in versions],
        }
        print(json.dumps(json_safe(document), indent=2, allow_nan=False), file=out)
        return 0
    name = terminal_line(f"{spec.display}::{claim.id}")
    if not versions:
        print(f"{name}: no recorded runs of this claim; run: pytest {name}", file=out)
        return 0
    print(f"{name}: {len(versions)} recorded code versions, newest first", file=out)
    for line in history.table(versions):
        print(line, file=out)
    return 0


def json_safe(value: object) -> object:
    from pytest_repro.report.writers import json_safe as safe

    return safe(value)


__all__ = ["main"]
