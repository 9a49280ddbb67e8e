"""``trusted:``: the installed callables a paper allows its spec to name outside its folder.

``run.entrypoint`` and ``data.<name>.python`` name code the plugin calls in pytest's own
process or in its workers. By default that code must be a module of the paper folder, so
reading a ``paper.yaml`` alone cannot reach ``os:system``; a paper that needs a function of
an installed package lists it here, exactly as the spec names it::

    trusted: [mnist1d.data:make_dataset]

Each entry is ``module:function`` and its module must be installed. The module is looked
up, never imported: loading a spec must not run code.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MapReader, check_each, describe
from pytest_repro.spec.keys import ENTRYPOINT_PATTERN
from pytest_repro.spec.ynode import YNode


def build_trusted(ctx: SpecContext, top: MapReader) -> tuple[str, ...]:
    """The entries of ``trusted:`` that are ``module:function`` of an installed module."""
    node = top.sequence("trusted")
    if not isinstance(node, YNode):
        return ()

    def read(child: YNode, field: str, _i: int) -> str | None:
        value = child.value if child.kind == "scalar" else None
        if not isinstance(value, str) or not ENTRYPOINT_PATTERN.match(value):
            ctx.ck.problem(
                child.line,
                field,
                f"{describe(child)} is not module:function",
                "write e.g. trusted: [mnist1d.data:make_dataset]",
            )
            return None
        module = value.split(":")[0]
        if not installed(module):
            ctx.ck.problem(
                child.line,
                field,
                f"trusts {value!r}, but no module {module!r} is installed",
                f"install the package that provides {module}, or remove the entry",
            )
            return None
        return value

    return tuple(dict.fromkeys(check_each(ctx.ck, node, "trusted", read)))


def installed(module: str) -> bool:
    """Whether ``module`` (dotted) can be imported, found without importing it or its parents.

    :func:`importlib.util.find_spec` imports the parent packages of a dotted name, which
    runs their code; this walks the packages' search locations instead.
    """
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    name = top
    for part in rest:
        if spec is None or not spec.submodule_search_locations:
            return False
        name = f"{name}.{part}"
        spec = importlib.machinery.PathFinder.find_spec(name, list(spec.submodule_search_locations))
    return spec is not None
