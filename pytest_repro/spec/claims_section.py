"""``claims:``: what the paper says, where, and how a reproduction is held to it.

Each claim is absolute (a value within a tolerance of the paper's) or comparative (arm
``a`` beats arm ``b``); it is read at an epoch or step, never at "the last value".
Seeds are read by :mod:`pytest_repro.spec.seeds_section`, variants and overrides by
:mod:`pytest_repro.spec.variants_section`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pytest_repro.spec.config_section import ConfigDefaults
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.curve_claims import read_curve_claim, refuse_curve_keys
from pytest_repro.spec.fields import MISSING, MapReader, check_each, describe, join
from pytest_repro.spec.keys import (
    ABOUT_CHOICES,
    CI_METHODS,
    CLAIM_KEYS,
    COMPARE_KEYS,
    ID_PATTERN,
    PAPER_VALUE_KEYS,
    REQUIRED_CLAIM_KEYS,
    VARIANT_REF_KEYS,
    in_claim_order,
)
from pytest_repro.spec.schema import At, Claim, PaperValue, SeedPlan, Variant
from pytest_repro.spec.seeds_section import check_seeds_suffice, check_welch_seeds, read_seeds
from pytest_repro.spec.sweeps_section import Grid
from pytest_repro.spec.tolerance import read_tolerance
from pytest_repro.spec.variants_section import read_overrides, read_variant_ref
from pytest_repro.spec.ynode import YNode
from pytest_repro.vocab import (
    AXES,
    BETTER,
    CLAIM_KINDS,
    EXPECTATIONS,
    METHODS,
    SPREAD_KINDS,
    STATISTICS,
    SWEEP_KINDS,
    Axis,
)


def build_claims(
    ctx: SpecContext,
    top: MapReader,
    config: ConfigDefaults,
    variants: Mapping[str, Variant],
    sweeps: Mapping[str, Grid] | None = None,
) -> list[Claim]:
    """Every valid claim of the ``claims:`` block; each id may be used once."""
    node = top.sequence("claims")
    if not isinstance(node, YNode):
        return []
    if not node.value:
        ctx.ck.problem(node.line, "claims", "is empty", "add at least one claim")
        return []
    claims = check_each(
        ctx.ck,
        node,
        "claims",
        lambda child, field, _i: _claim(ctx, config, child, field, variants, sweeps or {}),
    )
    seen: dict[str, Claim] = {}
    for claim in claims:
        if claim.id in seen:
            ctx.ck.problem(
                claim.loc.line,
                "claims",
                f"claim id {claim.id!r} is used twice (also on line {seen[claim.id].loc.line})",
                "give every claim its own id",
            )
        seen[claim.id] = claim
    return claims


def _claim(
    ctx: SpecContext,
    config: ConfigDefaults,
    node: YNode,
    field: str,
    variants: Mapping[str, Variant],
    sweeps: Mapping[str, Grid],
) -> Claim | None:
    if node.kind != "map":
        ctx.ck.problem(
            node.line,
            field,
            f"must be a mapping, got {describe(node)}",
            "start each claim with '- id: ...'",
        )
        return None
    before = len(ctx.ck.problems)
    id_node = node.value.get("id")
    if id_node is not None and id_node.kind == "scalar" and id_node.raw:
        field = f"claims[{id_node.raw}]"
    c = MapReader(
        ctx.ck,
        node,
        field,
        allowed=CLAIM_KEYS,
        required=REQUIRED_CLAIM_KEYS,
        what="a claim",
    )
    claim_id = c.string("id", allow_number=True)
    if isinstance(claim_id, str) and not ID_PATTERN.match(claim_id):
        c.bad(
            "id",
            f"{claim_id!r} has characters a test id cannot hold",
            "use letters, digits, '.', '_' and '-'",
        )
    text = c.string("text")
    source = c.string("source", allow_number=True)
    metric = c.string("metric")
    if isinstance(metric, str) and " - " in metric:
        terms = [t.strip() for t in metric.split(" - ")]
        if len(terms) != 2 or not all(terms):
            metric = c.bad(
                "metric",
                f"{metric!r}: a difference is two metrics of one run, a - b",
                "write e.g. metric: train_acc - val_acc",
            )
    at = _at(ctx, c)
    comparative = c.has("compare")
    kind = c.choice("kind", CLAIM_KINDS, default="comparative" if comparative else "absolute")
    if kind == "comparative" and not comparative:
        c.bad(
            "kind",
            "a comparative claim needs compare: {a: ..., b: ...}",
            "add compare:, or drop kind:",
        )
    if kind == "absolute" and comparative:
        c.bad("kind", "compare: makes this claim comparative", "drop kind: absolute")
    curve_kind = kind in SWEEP_KINDS
    better = c.choice("better", BETTER, default="higher")
    if comparative and better == "none":
        c.bad(
            "better",
            "a comparative claim needs a direction",
            "write better: higher or better: lower",
        )
    paper: Any = None
    tolerance: Any = None
    tolerance_relative: float | None = None
    if not curve_kind:
        refuse_curve_keys(c, kind if isinstance(kind, str) else "absolute")
        paper = _paper_value(ctx, c)
        tolerance, tolerance_relative = read_tolerance(c, paper)
    if kind == "absolute" and not comparative:
        if not c.has("paper"):
            c.bad("paper", "is required but missing", "give the paper's value: paper: 0.94")
        if not c.has("tolerance"):
            c.bad(
                "tolerance",
                "is required but missing",
                "give the absolute distance that still counts as a match: tolerance: 0.01",
            )
    if comparative and c.has("paper") and not c.has("tolerance"):
        c.bad(
            "tolerance",
            "is required when a comparative claim gives paper:",
            "add tolerance: for the improvement",
        )
    margin = c.number("margin", default=0.0, minimum=0.0)
    if c.has("margin") and not comparative and not curve_kind:
        c.bad("margin", "only comparative claims have a margin", "remove it, or add compare:")
    seeds = read_seeds(ctx, c)
    variant: Any = None
    compare: Any = None
    arm_at: tuple[At, At] | None = None
    if comparative:
        if c.has("variant") or c.has("config"):
            c.bad(
                "compare",
                "a comparative claim takes its configs from compare:, not variant:/config:",
                "move them into the arms",
            )
        compared = _compare(ctx, config, c, variants, at)
        if isinstance(compared, tuple):
            a_arm, b_arm, at_a, at_b = compared
            compare = (a_arm, b_arm)
            if (at_a is not None or at_b is not None) and isinstance(at, At):
                arm_at = (at_a or at, at_b or at)
        else:
            compare = compared
    else:
        variant = _variant(ctx, config, c, variants)
    curve: Any = None
    if curve_kind:
        curve = read_curve_claim(ctx, config, c, kind, variant, sweeps, seeds)
    expect = c.choice("expect", EXPECTATIONS)
    hypothesis = c.string("hypothesis")
    if expect in EXPECTATIONS and not hypothesis:
        c.bad(
            "hypothesis",
            f"expect: {expect} needs the hypothesis that explains it",
            'add hypothesis: "..." (why the reproduction differs)',
        )
    if expect == "shortfall" and not comparative and better == "none":
        c.bad(
            "expect",
            "shortfall is the short side of the paper, and better: none has no side",
            "write better: higher or better: lower, or expect: gap",
        )
    see = c.string("see")
    interval = c.choice("interval", METHODS)
    statistic = c.choice("statistic", STATISTICS, default="mean")
    resolution = c.number("resolution", exclusive_minimum=0.0)
    unit = c.string("unit")
    if c.has("test_examples") and unit != "fraction":
        c.bad(
            "test_examples",
            "the binomial error of N test examples is for a share in [0, 1]",
            "add unit: fraction (the metric is an accuracy in [0, 1]), or remove test_examples",
        )
    disagreement = c.number(
        "disagreement", exclusive_minimum=1.0, meaning=" (a multiple of the tolerance)"
    )
    c.string("notes")
    failed_below = c.number("failed_below")
    about = c.choice("about", ABOUT_CHOICES, default="mean")
    deterministic = c.boolean("deterministic", default=False)
    test_examples = c.integer("test_examples", minimum=1)
    skewed_seeds = c.boolean("skewed_seeds", default=False)
    if c.has("test_examples") and not deterministic:
        c.bad(
            "test_examples",
            "is used only by a deterministic claim",
            "add deterministic: true, or remove test_examples",
        )
    if comparative and (
        shaped := [k for k in ("about", "failed_below", "skewed_seeds") if c.has(k)]
    ):
        c.bad(
            shaped[0],
            "failed and skewed seeds are handled for absolute claims only",
            "remove it from this comparative claim",
        )
    if interval == "hierarchical" and isinstance(at, At) and not at.point:
        c.bad(
            "interval",
            f"hierarchical intervals read per-example outcomes at one epoch or step, not at {at}",
            "use interval: auto, or read the claim at: {epoch: N}",
        )
    if isinstance(seeds, SeedPlan) and not curve_kind:
        check_seeds_suffice(c, seeds, interval, statistic, comparative=comparative)
        if comparative:
            # Both arms run the claim's seeds, so the comparison is paired today.
            check_welch_seeds(c, seeds, paired=True)
    if len(ctx.ck.problems) > before:
        return None
    lines = {key: c.line(key) for key in in_claim_order(c.items)}
    sweep, rule = curve if isinstance(curve, tuple) else (None, None)
    return Claim(
        sweep=sweep,
        curve=rule,
        failed_below=failed_below,
        about=about,
        deterministic=bool(deterministic),
        test_examples=test_examples,
        skewed_seeds=bool(skewed_seeds),
        tolerance_relative=tolerance_relative,
        id=claim_id,
        text=text,
        source=source,
        kind=kind,
        metric=metric,
        at=at,
        paper=paper,
        tolerance=tolerance,
        seeds=seeds,
        variant=variant,
        compare=compare,
        arm_at=arm_at,
        better=better,
        margin=margin,
        expect=expect,
        hypothesis=hypothesis,
        see=see,
        interval=interval,
        statistic=statistic,
        resolution=resolution,
        unit=unit,
        disagreement=disagreement,
        loc=ctx.loc(node.line),
        field_lines=lines,
    )


def _variant(
    ctx: SpecContext, config: ConfigDefaults, c: MapReader, variants: Mapping[str, Variant]
) -> Any:
    """What an absolute claim runs: a named ``variant:``, inline ``config:``, or the defaults."""
    if c.has("variant") and c.has("config"):
        c.bad("config", "give variant: or config:, not both", "keep one")
        return None
    if c.has("variant"):
        vnode = c.raw("variant")
        assert vnode is not None
        return read_variant_ref(ctx, config, vnode, c.field("variant"), variants)
    if c.has("config"):
        cnode = c.raw("config")
        assert cnode is not None
        overrides = read_overrides(ctx, config, cnode, c.field("config"))
        if overrides is MISSING:
            return MISSING
        return Variant(overrides=overrides, loc=c.loc("config"))
    return Variant(overrides={}, loc=c.loc("id"))


def _at(ctx: SpecContext, c: MapReader) -> Any:
    node = c.raw("at")
    if node is None:
        return None
    if node.kind != "map":
        what = describe(node)
        fix = "write at: {epoch: N} or at: {step: N}, the point where the paper reports the value"
        if node.kind == "scalar" and node.value == "final":
            return At(axis="step", value=None, final=True, loc=ctx.loc(node.line))
        if (
            node.kind == "scalar"
            and isinstance(node.value, str)
            and node.value.lower() in ("last", "end", "best", "final")
        ):
            return c.bad(
                "at",
                f"{what} is not a point in training; claims are read where the paper reports them",
                fix + "; or at: final when the paper reports the value at the end of training",
            )
        return c.bad("at", f"must name an epoch or a step, got {what}", fix)
    if "first" in node.value:
        return _first(ctx, c, node)
    a = MapReader(ctx.ck, node, c.field("at"), allowed=(*AXES, "first"))
    given = [k for k in AXES if a.has(k)]
    if len(given) != 1:
        return c.bad(
            "at",
            "needs exactly one of epoch:, step:, or first:",
            "write at: {epoch: N} or at: {step: N}",
        )
    axis: Axis = "epoch" if given[0] == "epoch" else "step"
    value = a.integer(axis, minimum=0)
    if value is MISSING or value is None:
        return MISSING
    return At(axis=axis, value=value, loc=ctx.loc(node.line))


def _first(ctx: SpecContext, c: MapReader, node: YNode) -> Any:
    """``at: {first: {metric: val_acc, above: 0.99}}``: when a metric first crosses a value."""
    outer = MapReader(ctx.ck, node, c.field("at"), allowed=("first",))
    inner = outer.mapping("first")
    if not inner:
        return MISSING
    f = MapReader(
        ctx.ck,
        inner,
        join(c.field("at"), "first"),
        allowed=("metric", "above", "below"),
        required=("metric",),
    )
    metric = f.string("metric")
    above = f.number("above")
    below = f.number("below")
    if MISSING in (metric, above, below) or metric is None:
        return MISSING
    if (above is None) == (below is None):
        return f.bad(
            "above",
            "needs exactly one of above: (the first point at or above) or below:",
            "write at: {first: {metric: val_acc, above: 0.99}}",
        )
    axis = c.raw("metric")
    if axis is None or axis.value not in AXES:
        return c.bad(
            "metric",
            "of a claim read at: {first: ...} is the axis it reports: step or epoch",
            "write metric: step (the step at which the metric first crosses the value)",
        )
    return At(
        axis="epoch" if axis.value == "epoch" else "step",
        value=None,
        first_metric=metric,
        threshold=float(above if above is not None else below),
        above=above is not None,
        loc=ctx.loc(node.line),
    )


def _paper_value(ctx: SpecContext, c: MapReader) -> Any:
    node = c.raw("paper")
    if node is None:
        return None
    if node.kind != "map":
        value = c.number("paper")
        if value is MISSING:
            return MISSING
        return PaperValue(value=value, loc=c.loc("paper"))
    p = MapReader(ctx.ck, node, c.field("paper"), allowed=PAPER_VALUE_KEYS, required=("value",))
    value = p.number("value")
    kinds = [k for k in SPREAD_KINDS if p.has(k)]
    if len(kinds) > 1:
        return p.bad(kinds[1], "give one spread: sd, se or ci95", "keep the one the paper reports")
    spread: Any = None
    spread_kind: Any = None
    ci_method: Any = "t"
    seeds = p.integer("seeds", minimum=2)
    if kinds:
        spread_kind = kinds[0]
        ci_node = p.raw("ci95")
        if spread_kind == "ci95" and ci_node is not None and ci_node.kind == "map":
            ci = MapReader(
                ctx.ck, ci_node, p.field("ci95"), allowed=("value", "method"), required=("value",)
            )
            spread = ci.number("value", minimum=0.0)
            ci_method = ci.choice("method", CI_METHODS, default="t")
        else:
            spread = p.number(spread_kind, minimum=0.0)
        if not p.has("seeds"):
            p.bad(
                "seeds",
                f"a paper {spread_kind} needs the number of runs it was computed over",
                "add seeds: M (M >= 2)",
            )
    elif p.has("seeds"):
        p.bad(
            "seeds",
            "paper seeds only matter with a spread",
            "add sd:, se: or ci95:, or remove seeds:",
        )
    if MISSING in (value, spread, seeds, ci_method) or value is None:
        return MISSING
    return PaperValue(
        value=value,
        spread=spread,
        spread_kind=spread_kind,
        seeds=seeds,
        ci_method=ci_method,
        loc=c.loc("paper"),
    )


def _compare(
    ctx: SpecContext,
    config: ConfigDefaults,
    c: MapReader,
    variants: Mapping[str, Variant],
    at: Any,
) -> Any:
    node = c.raw("compare")
    assert node is not None
    if node.kind != "map":
        return c.bad(
            "compare",
            f"must be {{a: ..., b: ...}}, got {describe(node)}",
            "e.g. compare: {a: {config: {init: he}}, b: {config: {init: xavier}}}",
        )
    r = MapReader(ctx.ck, node, c.field("compare"), allowed=COMPARE_KEYS, required=COMPARE_KEYS)
    a_node, b_node = r.raw("a"), r.raw("b")
    if a_node is None or b_node is None:
        return MISSING
    a_node, at_a = _arm_at(ctx, a_node, r.field("a"))
    b_node, at_b = _arm_at(ctx, b_node, r.field("b"))
    a = read_variant_ref(ctx, config, a_node, r.field("a"), variants)
    b = read_variant_ref(ctx, config, b_node, r.field("b"), variants)
    if MISSING in (a, b, at_a, at_b):
        return MISSING
    point_a, point_b = at_a or at, at_b or at
    same_point = (
        (point_a.axis, point_a.value) == (point_b.axis, point_b.value)
        if isinstance(point_a, At) and isinstance(point_b, At)
        else point_a is point_b
    )
    if config.resolve(a) == config.resolve(b) and same_point:
        return r.bad(
            "b",
            f"arm b ({b.describe()}) runs the same config as arm a ({a.describe()})",
            "give the arms different configs (or read them at different points with at:)",
        )
    return (a, b, at_a, at_b)


def _arm_at(ctx: SpecContext, node: YNode, field: str) -> tuple[YNode, Any]:
    """An arm ``{variant: x, at: {epoch: 30}}``: the arm without its ``at`` (for
    :func:`read_variant_ref`) and the point it is read at (None: the claim's ``at``)."""
    if node.kind != "map" or "at" not in node.value:
        return node, None
    arm = MapReader(ctx.ck, node, field, allowed=(*VARIANT_REF_KEYS, "at"))
    at = _at(ctx, arm)
    if isinstance(at, At) and not at.point:
        at = arm.bad(
            "at", "an arm is read at one epoch or step", "write at: {epoch: N} or at: {step: N}"
        )
    rest = {k: v for k, v in node.value.items() if k != "at"}
    lines = {k: v for k, v in (node.key_lines or {}).items() if k != "at"}
    return dataclasses.replace(node, value=rest, key_lines=lines), at
