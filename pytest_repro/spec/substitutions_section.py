"""``substitutions:``: what the reproduction uses instead of what the paper used, and why.

Each entry may name the claims it affects; those must be claim ids of this file.
"""

from __future__ import annotations

from pytest_repro.spec.claim_nodes import Claim
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, check_each, describe, suggest
from pytest_repro.spec.keys import SUBSTITUTION_KEYS
from pytest_repro.spec.schema import Substitution
from pytest_repro.spec.ynode import YNode


def build_substitutions(
    ctx: SpecContext, top: MapReader, claims: list[Claim]
) -> list[Substitution]:
    """Every usable entry of the ``substitutions:`` list."""
    node = top.sequence("substitutions")
    if not isinstance(node, YNode):
        return []
    ids = [claim.id for claim in claims]

    def read(child: YNode, field: str, _i: int) -> Substitution | None:
        if child.kind != "map":
            ctx.ck.problem(
                child.line, field, f"must be {{original, used, why}}, got {describe(child)}"
            )
            return None
        s = MapReader(
            ctx.ck,
            child,
            field,
            allowed=SUBSTITUTION_KEYS,
            required=("original", "used", "why"),
        )
        original, used, why = s.string("original"), s.string("used"), s.string("why")
        affected = s.strings("claims")
        if isinstance(affected, tuple) and ids:
            for claim_id in affected:
                if claim_id not in ids:
                    s.bad(
                        "claims",
                        f"no claim {claim_id!r}{suggest(claim_id, ids)}",
                        f"use claim ids: {', '.join(ids)}",
                    )
        if not all(isinstance(v, str) for v in (original, used, why)) or affected is MISSING:
            return None
        return Substitution(
            original=original, used=used, why=why, claims=affected, loc=ctx.loc(child.line)
        )

    return check_each(ctx.ck, node, "substitutions", read)
