"""``sanity:``: the checks to run before any claim, each a name or ``{name: {args}}``.

Only the checks this version can run are accepted (:data:`~pytest_repro.spec.keys.SANITY_CHECKS`),
each with the arguments of :data:`~pytest_repro.spec.keys.SANITY_ARGS`; the arguments a
check does not give take their defaults here, so a check's runs are keyed by every value
it uses. A check that trains the model itself (:data:`~pytest_repro.spec.keys.KIT_CHECKS`)
needs ``run.kit``; without one it is a problem at its line, never a pass. Running the
checks is :mod:`pytest_repro.sanity`'s job.
"""

from __future__ import annotations

from typing import Any

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, check_each, describe, suggest
from pytest_repro.spec.keys import KIT_CHECKS, SANITY_ARG_KINDS, SANITY_ARGS, SANITY_CHECKS
from pytest_repro.spec.schema import SanityCheck
from pytest_repro.spec.ynode import YNode


def build_sanity(ctx: SpecContext, top: MapReader) -> list[SanityCheck]:
    """Every known check of the ``sanity:`` list, in the order written, its defaults filled in."""
    node = top.sequence("sanity")
    if not isinstance(node, YNode):
        return []
    has_kit = _has_kit(top)

    def read(child: YNode, field: str, _i: int) -> SanityCheck | None:
        name: Any
        arg_node: YNode | None = None
        if child.kind == "scalar" and isinstance(child.value, str):
            name = child.value
        elif child.kind == "map" and len(child.value) == 1:
            name, arg_node = next(iter(child.value.items()))
            if arg_node is not None and arg_node.kind != "map":
                if arg_node.value is not None:
                    ctx.ck.problem(
                        arg_node.line,
                        field,
                        f"arguments of {name} must be a mapping",
                        f"write - {name}: {{key: value}}",
                    )
                    return None
                arg_node = None
        else:
            ctx.ck.problem(
                child.line,
                field,
                f"must be a check name or {{name: {{args}}}}, got {describe(child)}",
            )
            return None
        if name not in SANITY_CHECKS:
            ctx.ck.problem(
                child.line,
                field,
                f"unknown sanity check {name!r}{suggest(str(name), SANITY_CHECKS)}",
                f"available: {', '.join(SANITY_CHECKS)}",
            )
            return None
        if name in KIT_CHECKS and not has_kit:
            ctx.ck.problem(
                child.line,
                field,
                f"{name} trains the model itself and needs run.kit, which this paper does not give",
                "add kit: train:kit to run: (a function returning a SanityKit; see "
                "docs/paper-yaml.md, 'Sanity checks that see the model'), or remove the check",
            )
            return None
        if name == "finite" and arg_node is not None and not has_kit:
            ctx.ck.problem(
                arg_node.line,
                field,
                "finite's arguments set its run.kit part, and this paper gives no run.kit",
                "write - finite (it reads the metrics a short run logs), or add run.kit",
            )
            return None
        args = read_args(ctx, name, arg_node, field)
        if args is None:
            return None
        return SanityCheck(name=name, args=args, loc=ctx.loc(child.line))

    return check_each(ctx.ck, node, "sanity", read)


def read_args(ctx: SpecContext, name: str, node: YNode | None, field: str) -> dict[str, Any] | None:
    """The check's arguments with defaults filled in; None (and problems) when one is wrong."""
    defaults = SANITY_ARGS[name]
    out: dict[str, Any] = dict(defaults)
    if node is None:
        return out
    allowed = tuple(defaults)
    if not allowed:
        ctx.ck.problem(node.line, field, f"{name} takes no arguments", f"write - {name}")
        return None
    r = MapReader(ctx.ck, node, f"{field}.{name}", allowed=allowed)
    ok = all(k in allowed for k in node.value)
    for key in allowed:
        if not r.has(key):
            continue
        value = _read_arg(r, key, SANITY_ARG_KINDS[key])
        if value is MISSING:
            ok = False
        else:
            out[key] = value
    return out if ok else None


def _read_arg(r: MapReader, key: str, kind: str) -> Any:
    raw = r.raw(key)
    if raw is not None and raw.kind == "scalar" and raw.value is None:
        return None
    if kind == "count":
        return r.integer(key, minimum=1)
    if kind == "whole":
        return r.integer(key, minimum=0)
    if kind == "classes":
        return r.integer(key, minimum=2)
    if kind == "positive":
        return r.number(key, exclusive_minimum=0.0)
    if kind == "number":
        return r.number(key)
    if kind == "texts":
        value = r.strings(key)
        return value if value is MISSING else list(value)
    if kind == "key" and raw is not None and isinstance(raw.value, int):
        return r.integer(key, minimum=0)
    return r.string(key)


def _has_kit(top: MapReader) -> bool:
    run = top.raw("run")
    return bool(run is not None and run.kind == "map" and "kit" in run.value)
