"""``variants:`` and the config overrides a claim runs with.

A variant is a named set of overrides of ``run.config``; a claim (or an arm of a
comparison) names one, or gives its overrides inline as ``config: {...}``. Every
override must name a key ``run.config`` defines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_repro.spec.claim_nodes import Variant
from pytest_repro.spec.config_section import ConfigDefaults
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe, join, named_entries, suggest
from pytest_repro.spec.keys import VARIANT_REF_KEYS
from pytest_repro.spec.ynode import YNode


def build_variants(ctx: SpecContext, top: MapReader, config: ConfigDefaults) -> dict[str, Variant]:
    """The usable variants of the ``variants:`` block, by name."""
    out: dict[str, Variant] = {}
    for name, child, field, line in named_entries(ctx.ck, top, "variants"):
        overrides = read_overrides(ctx, config, child, field)
        if overrides is not MISSING:
            out[name] = Variant(name=name, overrides=overrides, loc=ctx.loc(line))
    return out


def read_overrides(ctx: SpecContext, config: ConfigDefaults, node: YNode, field: str) -> Any:
    """``{key: value}`` overrides of ``run.config`` at ``field``; :data:`MISSING` when unusable."""
    if node.kind != "map":
        return ctx.ck.problem(
            node.line,
            field,
            f"must be a mapping of config overrides, got {describe(node)}",
            "write {key: value}",
        )
    keys = config.keys
    out: dict[str, Any] = {}
    for key, child in node.value.items():
        line = (node.key_lines or {}).get(key, child.line)
        if key not in keys:
            ctx.ck.problem(
                line,
                join(field, key),
                f"overrides {key!r}, which run.config does not define{suggest(key, keys)}",
                f"add {key} with its default to run.config, or fix the name",
            )
            continue
        out[key] = child.plain()
    return out


def read_variant_ref(
    ctx: SpecContext,
    config: ConfigDefaults,
    node: YNode,
    field: str,
    variants: Mapping[str, Variant],
) -> Any:
    """A variant name, ``{variant: name}`` or ``{config: {...}}`` at ``field``, as a :class:`Variant`."""
    if node.kind == "scalar" and isinstance(node.value, str):
        if node.value in variants:
            return variants[node.value]
        return ctx.ck.problem(
            node.line,
            field,
            f"no variant named {node.value!r}{suggest(node.value, variants)}",
            f"define it under variants:, or use one of: {', '.join(variants) or '(none defined)'}",
        )
    if node.kind == "map":
        r = MapReader(ctx.ck, node, field, allowed=VARIANT_REF_KEYS)
        if r.has("variant") == r.has("config"):
            return ctx.ck.problem(
                node.line,
                field,
                "needs exactly one of variant: or config:",
                "e.g. {config: {init: he}}",
            )
        if r.has("variant"):
            child = r.raw("variant")
            assert child is not None
            return read_variant_ref(ctx, config, child, join(field, "variant"), variants)
        child = r.raw("config")
        assert child is not None
        overrides = read_overrides(ctx, config, child, join(field, "config"))
        if overrides is MISSING:
            return MISSING
        return Variant(overrides=overrides, loc=ctx.loc(node.line))
    return ctx.ck.problem(
        node.line, field, f"must be a variant name or {{config: ...}}, got {describe(node)}"
    )
