"""``data:``: the named data sources a run loads (scikit-learn, a Python function, files, Hugging Face).

Only the form is checked here, and that a ``python`` source names code of the paper
folder or a target ``trusted:`` lists (:func:`~pytest_repro.spec.entrypoint.check_paper_code`);
loading and fingerprinting the data is :mod:`pytest_repro.data`'s job.
"""

from __future__ import annotations

import re

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.entrypoint import check_paper_code
from pytest_repro.spec.fields import MISSING, MapReader, describe, join
from pytest_repro.spec.keys import (
    DATA_KEYS,
    ENTRYPOINT_PATTERN,
    FILE_KEYS,
    HF_KEYS,
    SHA256_PATTERN,
)
from pytest_repro.spec.schema import DataSource, FileRef, HFRef
from pytest_repro.spec.ynode import YNode
from pytest_repro.vocab import DATA_KINDS


def build_data(ctx: SpecContext, top: MapReader) -> list[DataSource]:
    """Every usable source of the ``data:`` block, in the order written."""
    node = top.mapping("data")
    if not node:
        return []
    out: list[DataSource] = []
    for name, child in node.value.items():
        field = join("data", name)
        if child.kind != "map":
            ctx.ck.problem(
                child.line,
                field,
                f"must be a mapping, got {describe(child)}",
                "write e.g. digits: {sklearn: load_digits}",
            )
            continue
        source = _data_source(ctx, name, child, field)
        if source is not None:
            out.append(source)
    return out


def _data_source(ctx: SpecContext, name: str, node: YNode, field: str) -> DataSource | None:
    d = MapReader(ctx.ck, node, field, allowed=DATA_KEYS)
    given = [k for k in DATA_KINDS if d.has(k)]
    if len(given) != 1:
        ctx.ck.problem(
            node.line,
            field,
            f"needs exactly one source kind ({', '.join(DATA_KINDS)}), got {', '.join(given) or 'none'}",
            "e.g. {sklearn: load_digits} or {python: data:make_dataset}",
        )
        return None
    kind = given[0]
    args_node = d.mapping("args")
    args = args_node.plain() if isinstance(args_node, YNode) else {}
    fingerprint = d.string("fingerprint")
    loc = ctx.loc(node.line)
    if kind == "sklearn":
        target = d.string("sklearn")
        if isinstance(target, str) and not re.match(r"^(load|make|fetch)_\w+$", target):
            d.bad(
                "sklearn",
                f"{target!r} is not a scikit-learn loader",
                "use e.g. load_digits, load_iris or make_moons",
            )
        if not isinstance(target, str):
            return None
        return DataSource(
            name=name, kind="sklearn", target=target, args=args, fingerprint=fingerprint, loc=loc
        )
    if kind == "python":
        target = d.string("python")
        if isinstance(target, str) and not ENTRYPOINT_PATTERN.match(target):
            d.bad(
                "python",
                f"{target!r} is not module:function",
                "write e.g. python: data:make_dataset",
            )
            return None
        if not isinstance(target, str):
            return None
        if not check_paper_code(ctx, d, "python", target, example="def {function}(**args):"):
            return None
        return DataSource(
            name=name,
            kind="python",
            target=target,
            trusted=target in ctx.trusted,
            args=args,
            fingerprint=fingerprint,
            loc=loc,
        )
    if kind == "files":
        files = _files(ctx, d)
        if files is None:
            return None
        return DataSource(
            name=name, kind="files", files=files, args=args, fingerprint=fingerprint, loc=loc
        )
    hf = _hf(ctx, d, field)
    if hf is None:
        return None
    return DataSource(name=name, kind="hf", hf=hf, args=args, fingerprint=fingerprint, loc=loc)


def _files(ctx: SpecContext, d: MapReader) -> tuple[FileRef, ...] | None:
    node = d.raw("files")
    if node is None:
        return None
    children = node.value if node.kind == "seq" else [node]
    if not children:
        d.bad("files", "lists no files", "list them: files: [{path: data/train.csv, sha256: ...}]")
        return None
    out: list[FileRef] = []
    for i, child in enumerate(children):
        field = join(d.field("files"), i)
        if child.kind == "scalar" and isinstance(child.value, str):
            out.append(FileRef(path=child.value, loc=ctx.loc(child.line)))
            continue
        if child.kind != "map":
            ctx.ck.problem(
                child.line, field, f"must be a path or {{path, sha256}}, got {describe(child)}"
            )
            continue
        f = MapReader(ctx.ck, child, field, allowed=FILE_KEYS, required=("path",))
        path = f.string("path")
        sha = f.string("sha256")
        if isinstance(sha, str) and not SHA256_PATTERN.match(sha.lower()):
            f.bad("sha256", "is not a 64-digit hex sha256", "compute it with: sha256sum FILE")
        if isinstance(path, str) and sha is not MISSING:
            out.append(
                FileRef(path=path, sha256=sha.lower() if sha else None, loc=ctx.loc(child.line))
            )
    return tuple(out) if out else None


def _hf(ctx: SpecContext, d: MapReader, field: str) -> HFRef | None:
    node = d.mapping("hf")
    if not isinstance(node, YNode):
        return None
    h = MapReader(ctx.ck, node, join(field, "hf"), allowed=HF_KEYS, required=("path",))
    path = h.string("path")
    name = h.string("name")
    revision = h.string("revision", allow_number=True)
    split = h.string("split")
    from_disk = h.boolean("from_disk", default=False)
    data_files = h.raw("data_files")
    if MISSING in (path, name, revision, split, from_disk) or path is None:
        return None
    return HFRef(
        path=path,
        name=name,
        revision=revision,
        split=split,
        data_files=data_files.plain() if data_files else None,
        from_disk=from_disk,
        loc=ctx.loc(node.line),
    )
