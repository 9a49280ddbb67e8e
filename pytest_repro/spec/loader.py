"""``paper.yaml`` → :class:`~pytest_repro.spec.schema.PaperSpec`.

:func:`load_spec` never lets an exception from inside the loader escape: any
input, however malformed, ends in a :class:`~pytest_repro.errors.SpecError`
listing every problem with its line, or in a valid spec.

Each block of the file has its own builder (``spec/*_section.py``); this module
reads the YAML, runs them in order on one :class:`~pytest_repro.spec.context.SpecContext`
and raises what they found.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytest_repro.errors import Problem, SpecError
from pytest_repro.pause import collector_paused
from pytest_repro.spec.claims_section import build_claims
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.data_section import build_data
from pytest_repro.spec.environment_section import build_environment
from pytest_repro.spec.fields import MISSING, Checker, MapReader, describe
from pytest_repro.spec.inventory_section import build_inventory
from pytest_repro.spec.keys import CLAIM_KEYS, PAPER_KEYS, REQUIRED_TOP_KEYS, RUN_KEYS, TOP_KEYS
from pytest_repro.spec.paper_section import build_paper
from pytest_repro.spec.parse_cache import TreeCache
from pytest_repro.spec.run_section import build_run
from pytest_repro.spec.sanity_section import build_sanity
from pytest_repro.spec.schema import PaperSpec
from pytest_repro.spec.substitutions_section import build_substitutions
from pytest_repro.spec.sweeps_section import build_sweeps
from pytest_repro.spec.trusted_section import build_trusted
from pytest_repro.spec.upstream_section import build_upstream
from pytest_repro.spec.variants_section import build_variants
from pytest_repro.spec.ynode import YamlSyntaxError, YNode

__all__ = ["CLAIM_KEYS", "PAPER_KEYS", "RUN_KEYS", "TOP_KEYS", "load_spec", "load_spec_text"]


def load_spec(
    path: Path,
    *,
    display: str | None = None,
    metric_formats: tuple[str, ...] | None = (),
    trees: TreeCache | None = None,
) -> PaperSpec:
    """Read and validate ``path``. ``display`` is how the path is shown in messages;
    ``metric_formats`` are the ``run.metrics`` formats plugins add (path templates, like
    ``jsonl``); None accepts any format name, for readers of recorded runs that cannot
    know which plugins ran them. ``trees``: where parsed YAML is kept across sessions
    (:mod:`pytest_repro.spec.parse_cache`); the spec is validated afresh either way.

    Raises :class:`SpecError` listing every problem found::

        spec = load_spec(Path("papers/2011.14439/paper.yaml"))
        print([claim.id for claim in spec.claims])
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            [Problem(shown, 0, "", f"is not UTF-8 text ({exc.reason})", "save the file as UTF-8")]
        ) from None
    except OSError as exc:
        raise SpecError([Problem(shown, 0, "", f"cannot be read: {exc.strerror}")]) from None
    try:  # the folder's files are checked at load (the entrypoint's module): its mtime too
        resolved = path.resolve()
        key = (f"{resolved}:{resolved.parent.stat().st_mtime_ns}", shown, text)
    except OSError:
        key = (str(path), shown, text)
    known = _LOADED.get(key)
    if known is not None and (metric_formats is None or known[0] == metric_formats):
        return known[1]
    spec = load_spec_text(
        text, path=path, display=shown, metric_formats=metric_formats, trees=trees
    )
    if len(_LOADED) >= _KEEP:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = (metric_formats, spec)
    return spec


#: Specs loaded in this process, by resolved path (with its folder's mtime), display and
#: text: a paper read at collection is not parsed again to write its report. A spec is
#: immutable; a changed file, or a file added to or removed from its folder, is a new key.
#: An entry validated against plugin formats also answers a lookup that accepts any (None).
_LOADED: dict[tuple[str, str, str], tuple[tuple[str, ...] | None, PaperSpec]] = {}
_KEEP = 64


def load_spec_text(
    text: str,
    *,
    path: Path,
    display: str | None = None,
    metric_formats: tuple[str, ...] | None = (),
    trees: TreeCache | None = None,
) -> PaperSpec:
    """Validate YAML ``text`` as if it were the file at ``path`` (``trees``: as for
    :func:`load_spec`)."""
    shown = display or str(path)
    ck = Checker(shown)
    try:
        if trees is None:
            from pytest_repro.spec.yamlnodes import parse

            root = parse(text)
        else:
            root = trees.parse(text, path.resolve())
    except YamlSyntaxError as exc:
        raise SpecError(
            [
                Problem(
                    shown, exc.line, "", f"is not valid YAML: {exc.message}", "fix the YAML syntax"
                )
            ]
        ) from None
    except RecursionError:
        raise SpecError([Problem(shown, 1, "", "nests too deeply to be a paper spec")]) from None
    if root is None:
        raise SpecError(
            [
                Problem(
                    shown,
                    1,
                    "",
                    "is empty",
                    "start from `pytest-repro new <id>` or docs/paper-yaml.md",
                )
            ]
        )
    if root.kind != "map":
        raise SpecError(
            [
                Problem(
                    shown,
                    root.line,
                    "",
                    f"must be a mapping with paper:, run: and claims:, got {describe(root)}",
                )
            ]
        )
    try:
        context = SpecContext(
            ck=ck, file=path.resolve(), display=shown, metric_formats=metric_formats
        )
        with collector_paused():  # a thousand claims are tens of thousands of objects
            spec = _build(context, root)
    except RecursionError:
        raise SpecError([Problem(shown, 1, "", "nests too deeply to be a paper spec")]) from None
    if ck.problems or spec is None:
        problems = sorted(ck.problems, key=lambda p: p.line) or [
            Problem(shown, 0, "", "could not be read")
        ]
        raise SpecError(problems)
    return spec


def _build(ctx: SpecContext, root: YNode) -> PaperSpec | None:
    """Run every section builder, in the order their problems are recorded."""
    top = MapReader(ctx.ck, root, "", allowed=TOP_KEYS, required=REQUIRED_TOP_KEYS)
    paper = build_paper(ctx, top)
    # run: and data: may name code outside the folder only when trusted: lists it.
    ctx = dataclasses.replace(ctx, trusted=build_trusted(ctx, top))
    upstream = build_upstream(ctx, top)
    folders = tuple(f for u in upstream if (f := u.folder(ctx.folder)) is not None)
    ctx = dataclasses.replace(ctx, upstream_folders=folders)
    run, config = build_run(ctx, top)
    environment = build_environment(ctx, top)
    data = build_data(ctx, top)
    variants = build_variants(ctx, top, config)
    sweeps = build_sweeps(ctx, top, config)
    claims = build_claims(ctx, top, config, variants, sweeps)
    substitutions = build_substitutions(ctx, top, claims)
    inventory = build_inventory(ctx, top, upstream)
    sanity = build_sanity(ctx, top)
    notes = top.string("notes")
    if paper is MISSING or paper is None or run is MISSING or run is None or ctx.ck.problems:
        return None
    return PaperSpec(
        file=ctx.file,
        display=ctx.display,
        paper=paper,
        trusted=ctx.trusted,
        upstream=upstream,
        notes=notes if isinstance(notes, str) else None,
        run=run,
        environment=environment,
        data=tuple(data),
        substitutions=tuple(substitutions),
        inventory=inventory,
        sanity=tuple(sanity),
        variants=variants,
        claims=tuple(claims),
    )
