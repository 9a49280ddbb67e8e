"""``run.config:``: the run's configuration defaults, with the provenance of each value.

:class:`ConfigDefaults` is what the other sections learn from it: the names a variant
may override and the values an arm of a comparison runs with when it overrides none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_repro.spec.claim_nodes import Variant
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, join
from pytest_repro.spec.keys import CONFIG_VALUE_KEYS
from pytest_repro.spec.schema import ConfigValue


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigDefaults:
    """The names and default values of ``run.config``."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """The names a variant may override."""
        return tuple(self.values)

    def resolve(self, variant: Variant) -> dict[str, Any]:
        """The whole config ``variant`` runs with."""
        return {**self.values, **variant.overrides}


def build_config(ctx: SpecContext, m: MapReader) -> Any:
    """``run.config`` of the run mapping ``m``: ``{}`` when absent, :data:`MISSING` when unusable."""
    node = m.mapping("config")
    if node is None or node is MISSING:
        return {} if node is None else MISSING
    out: dict[str, ConfigValue] = {}
    for key, child in node.value.items():
        line = (node.key_lines or {}).get(key, child.line)
        name = join("run.config", key)
        if not key or "{" in key or "}" in key:
            ctx.ck.problem(
                line, name, "config names cannot be empty or hold braces", "rename the key"
            )
            continue
        if (
            child.kind == "map"
            and "value" in child.value
            and set(child.value) <= set(CONFIG_VALUE_KEYS)
        ):
            cv = MapReader(ctx.ck, child, name, allowed=CONFIG_VALUE_KEYS)
            source = cv.string("source")
            why = cv.string("why")
            if source == "assumed" and why is None:
                cv.bad(
                    "why",
                    "an assumed value should say why it was chosen",
                    'add why: "..." (what the choice rests on)',
                )
            out[key] = ConfigValue(
                value=child.value["value"].plain(),
                source=source or None,
                why=why or None,
                alternatives=_alternatives(cv, source, child.value["value"].plain()),
                loc=ctx.loc(line),
            )
        elif (
            child.kind == "map"
            and ({"source", "why"} & set(child.value))
            and "value" not in child.value
        ):
            ctx.ck.problem(
                line,
                name,
                "has source:/why: but no value:",
                f"write {key}: {{value: ..., source: ...}}",
            )
        else:
            out[key] = ConfigValue(value=child.plain(), loc=ctx.loc(line))
    return out


def _alternatives(cv: MapReader, source: Any, value: Any) -> tuple[Any, ...]:
    """``alternatives: [...]`` of an assumed value: other guesses ``--repro-sensitivity``
    runs the claims with (each once, none equal to the value itself)."""
    node = cv.sequence("alternatives")
    if not node:
        return ()
    if source != "assumed":
        cv.bad(
            "alternatives",
            "alternatives are other guesses for a value the paper does not state",
            "mark the value source: assumed (with why:), or remove alternatives:",
        )
        return ()
    values = [child.plain() for child in node.value]
    if not values:
        cv.bad("alternatives", "is empty", "list at least one other value, or remove the key")
        return ()
    for i, alternative in enumerate(values):
        if alternative == value or values.index(alternative) != i:
            cv.bad(
                "alternatives",
                f"{alternative!r} is listed twice or equals the value itself",
                "list each other guess once",
            )
            return ()
    return tuple(values)


def config_defaults(config: Any) -> ConfigDefaults:
    """What variants and comparisons may rely on, from what :func:`build_config` returned."""
    if not isinstance(config, Mapping):
        return ConfigDefaults()
    return ConfigDefaults(values={key: cv.value for key, cv in config.items()})
