"""Version and name rules shared by lockfiles, drift checks and isolated environments:
PEP 503 name normalisation and PEP 440 specifier matching.

``packaging`` is imported only when a specifier is matched: this module is loaded in
worker processes whose environment may not have it.
"""

from __future__ import annotations

import re

from pytest_repro.errors import Problem, SpecError
from pytest_repro.spec.node import Location


def canonicalize_name(name: str) -> str:
    """PEP 503 normalised distribution name (what ``packaging.utils.canonicalize_name`` does).

    >>> canonicalize_name("Scikit_Learn")
    'scikit-learn'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def contains_version(specifier: str, version: str, loc: Location | None = None) -> bool:
    """Whether ``version`` satisfies the PEP 440 ``specifier`` (pre-releases included).

    A version that is not PEP 440 matches only an exact pin (``==``/``===``) written the
    same way. Raises :class:`SpecError` at ``loc`` (default: ``paper.yaml``) when
    ``specifier`` is not a version specifier.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec_set = SpecifierSet(specifier)
    except InvalidSpecifier:
        raise SpecError(
            [
                Problem(
                    loc.path if loc else "paper.yaml",
                    loc.line if loc else 0,
                    "environment",
                    f"{specifier!r} is not a version specifier",
                    'write a PEP 440 specifier such as ">=3.10,<3.13"',
                )
            ]
        ) from None
    try:
        return spec_set.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return any(s.operator in ("==", "===") and s.version == version for s in spec_set)
