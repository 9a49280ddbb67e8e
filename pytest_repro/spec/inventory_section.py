"""``inventory:``: what exists besides the paper, and what does not.

    inventory:
      code:
        - url: https://github.com/example/sparse-res
          commit: 1b6e2f3
          license: MIT
          upstream: sparse_res      # the upstream: entry that runs this code
        - {url: https://github.com/someone/port, official: false}
      checkpoints:
        - {name: cifar10-80pct, url: https://example.org/ckpt.pt, sha256: <64 hex>}
      missing: [the ablation's training script, SVHN preprocessing]

Rendered to ``inventory.md`` by ``pytest-repro audit`` and summed up in ``results.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, check_each, describe, suggest
from pytest_repro.spec.inventory_nodes import Checkpoint, CodeRelease, Inventory
from pytest_repro.spec.keys import (
    CHECKPOINT_KEYS,
    CODE_RELEASE_KEYS,
    INVENTORY_KEYS,
    SHA256_PATTERN,
)
from pytest_repro.spec.schema import Upstream
from pytest_repro.spec.ynode import YNode

T = TypeVar("T")
_COMMIT = re.compile(r"\A[0-9a-f]{7,40}\Z")


def build_inventory(
    ctx: SpecContext, top: MapReader, upstream: Sequence[Upstream]
) -> Inventory | None:
    """The ``inventory:`` block, or None where the spec has none."""
    node = top.mapping("inventory")
    if not isinstance(node, YNode):
        return None
    r = MapReader(ctx.ck, node, "inventory", allowed=INVENTORY_KEYS)
    names = [u.name for u in upstream]
    code = _entries(ctx, r, "code", lambda c, f: _code(ctx, c, f, names))
    checkpoints = _entries(ctx, r, "checkpoints", lambda c, f: _checkpoint(ctx, c, f))
    missing = r.strings("missing")
    notes = r.string("notes")
    return Inventory(
        code=tuple(code),
        checkpoints=tuple(checkpoints),
        missing=missing if isinstance(missing, tuple) else (),
        notes=notes if isinstance(notes, str) else None,
        loc=ctx.loc(top.line("inventory")),
    )


def _entries(
    ctx: SpecContext, r: MapReader, key: str, read: Callable[[YNode, str], T | None]
) -> list[T]:
    """A list of mappings; a single mapping is taken as a list of one."""
    node = r.raw(key)
    if node is None:
        return []
    if node.kind == "map":
        got = read(node, r.field(key))
        return [got] if got is not None and got is not MISSING else []
    if node.kind != "seq":
        r.bad(key, f"must be a list of mappings, got {describe(node)}", f"write {key}: [{{...}}]")
        return []
    return check_each(ctx.ck, node, r.field(key), lambda c, f, _i: read(c, f))


def _code(ctx: SpecContext, node: YNode, field: str, names: list[str]) -> CodeRelease | None:
    if node.kind != "map":
        ctx.ck.problem(node.line, field, f"must be {{url, commit, license}}, got {describe(node)}")
        return None
    c = MapReader(ctx.ck, node, field, allowed=CODE_RELEASE_KEYS, required=("url",))
    url, commit, license_ = (
        c.string("url"),
        c.string("commit", allow_number=True),
        c.string("license"),
    )
    official, upstream, notes = (
        c.boolean("official", default=True),
        c.string("upstream"),
        c.string("notes"),
    )
    if isinstance(commit, str) and not _COMMIT.match(commit):
        c.bad("commit", f"{commit!r} is not a git commit", "give 7 to 40 lowercase hex digits")
        commit = MISSING
    if isinstance(upstream, str) and upstream not in names:
        known = ", ".join(names) or "none is declared"
        c.bad(
            "upstream",
            f"no upstream entry {upstream!r}{suggest(upstream, names)}",
            f"name an entry of upstream: ({known})",
        )
        upstream = MISSING
    if not isinstance(url, str) or MISSING in (commit, license_, official, upstream, notes):
        return None
    return CodeRelease(
        url=url,
        commit=commit,
        license=license_,
        official=bool(official),
        upstream=upstream,
        notes=notes,
        loc=ctx.loc(node.line),
    )


def _checkpoint(ctx: SpecContext, node: YNode, field: str) -> Checkpoint | None:
    if node.kind != "map":
        ctx.ck.problem(node.line, field, f"must be {{name, url, sha256}}, got {describe(node)}")
        return None
    c = MapReader(ctx.ck, node, field, allowed=CHECKPOINT_KEYS, required=("name",))
    name, url, sha256, notes = (
        c.string("name"),
        c.string("url"),
        c.string("sha256"),
        c.string("notes"),
    )
    if isinstance(sha256, str) and not SHA256_PATTERN.match(sha256):
        c.bad("sha256", "is not a SHA-256 digest", "give 64 lowercase hex digits (sha256sum FILE)")
        sha256 = MISSING
    if not isinstance(name, str) or MISSING in (url, sha256, notes):
        return None
    return Checkpoint(name=name, url=url, sha256=sha256, notes=notes, loc=ctx.loc(node.line))
