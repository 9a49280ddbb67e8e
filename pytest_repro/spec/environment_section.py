"""``environment:``: the Python, packages, lockfile and CUDA a paper asks for, and determinism.

Versions and requirements are checked for form here (PEP 440 specifiers, PEP 508
requirements); whether the running environment meets them is
:mod:`pytest_repro.environment`'s job.
"""

from __future__ import annotations

import re

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader, describe
from pytest_repro.spec.keys import ENVIRONMENT_KEYS
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import EnvironmentSpec
from pytest_repro.vocab import Deterministic


def build_environment(ctx: SpecContext, top: MapReader) -> EnvironmentSpec:
    """The ``environment:`` block; the empty spec when absent or faulty."""
    node = top.mapping("environment")
    if not node:
        return EnvironmentSpec()
    e = MapReader(ctx.ck, node, "environment", allowed=ENVIRONMENT_KEYS)
    python = e.string("python", allow_number=True)
    cuda = e.string("cuda", allow_number=True)
    for key, spec in (("python", python), ("cuda", cuda)):
        if isinstance(spec, str):
            _check_version(e, key, spec)
    requires = e.strings("requires")
    req_locs: list[Location] = []
    req_node = e.raw("requires")
    if isinstance(requires, tuple) and requires:
        from packaging.requirements import InvalidRequirement, Requirement

        children = req_node.value if req_node is not None and req_node.kind == "seq" else [req_node]
        for i, (text, child) in enumerate(zip(requires, children, strict=False)):
            line = child.line if child is not None else node.line
            req_locs.append(ctx.loc(line))
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                ctx.ck.problem(
                    line,
                    f"environment.requires[{i}]",
                    f"{text!r} is not a PEP 508 requirement ({exc})",
                    'write e.g. "torch>=2.1" or "numpy==2.1.3"',
                )
    lockfile = e.string("lockfile")
    if isinstance(lockfile, str) and not (ctx.folder / lockfile).is_file():
        e.bad(
            "lockfile",
            f"{lockfile} does not exist in {ctx.shown_folder}",
            "create it (e.g. pip freeze > requirements.lock) or fix the path",
        )
    deterministic = _deterministic(e)
    if MISSING in (python, cuda, requires, lockfile):
        return EnvironmentSpec()
    return EnvironmentSpec(
        python=python,
        requires=requires,
        lockfile=lockfile,
        cuda=cuda,
        deterministic=deterministic,
        loc=ctx.loc(node.line),
        requires_locs=tuple(req_locs),
    )


def _check_version(e: MapReader, key: str, spec: str) -> None:
    """A bare version (``3.11``) is read as ``~=3.11``; anything else must be a specifier."""
    if re.match(r"^\d", spec):
        spec = "==" + spec if spec.count(".") >= 2 else f"~={spec}" if "." in spec else f"=={spec}"
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        e.bad(key, f"{spec!r} is not a version specifier", f'write e.g. {key}: ">=3.10,<3.13"')


def _deterministic(e: MapReader) -> Deterministic:
    raw = e.raw("deterministic")
    if raw is None:
        return "off"
    if raw.kind == "scalar" and raw.value is True:
        return "on"
    if raw.kind == "scalar" and raw.value is False:
        return "off"
    if raw.kind == "scalar" and raw.value == "warn":
        return "warn"
    e.bad(
        "deterministic", f"{describe(raw)} is not true, false or warn", "write deterministic: true"
    )
    return "off"
