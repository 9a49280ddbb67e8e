"""``sanity:``: the checks to run before any claim, each a name or ``{name: {args}}``.

Only the checks this version can run are accepted (:data:`~pytest_repro.spec.keys.SANITY_CHECKS`);
running them is :mod:`pytest_repro.sanity`'s job.
"""

from __future__ import annotations

from typing import Any

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MapReader, check_each, describe, suggest
from pytest_repro.spec.keys import SANITY_CHECKS
from pytest_repro.spec.schema import SanityCheck
from pytest_repro.spec.yamlnodes import YNode


def build_sanity(ctx: SpecContext, top: MapReader) -> list[SanityCheck]:
    """Every known check of the ``sanity:`` list, in the order written."""
    node = top.sequence("sanity")
    if not isinstance(node, YNode):
        return []

    def read(child: YNode, field: str, _i: int) -> SanityCheck | None:
        name: Any
        args: dict[str, Any] = {}
        if child.kind == "scalar" and isinstance(child.value, str):
            name = child.value
        elif child.kind == "map" and len(child.value) == 1:
            name, arg_node = next(iter(child.value.items()))
            if arg_node.kind == "map":
                args = arg_node.plain()
            elif arg_node.value is not None:
                ctx.ck.problem(
                    arg_node.line,
                    field,
                    f"arguments of {name} must be a mapping",
                    f"write - {name}: {{key: value}}",
                )
                return None
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
        return SanityCheck(name=name, args=args, loc=ctx.loc(child.line))

    return check_each(ctx.ck, node, "sanity", read)
