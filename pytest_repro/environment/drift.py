"""Drift: how the installed environment differs from the paper's ``environment:`` section
(python, ``requires``, ``lockfile``, ``cuda``), and the expected-versus-installed table
that shows it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pytest_repro.environment.fingerprint import cached_fingerprint, installed_version
from pytest_repro.environment.lockfile import (
    Pin,
    lockfile_display,
    parse_requirements,
    read_lockfile,
)
from pytest_repro.environment.versions import canonicalize_name, contains_version
from pytest_repro.errors import ReproWarning
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import EnvironmentSpec

DriftKind = Literal["python", "requires", "lockfile", "cuda"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """One difference between what the paper pins and what is installed.

    ``installed`` is None when the package (or CUDA) is missing.
    """

    name: str
    expected: str
    installed: str | None
    kind: DriftKind
    loc: Location | None = None

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}{self.name}: expected {self.expected}, installed {self.installed or 'none'}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["loc"] = str(self.loc) if self.loc else None
        return data


def check_environment(
    spec: EnvironmentSpec,
    paper_dir: Path,
    *,
    fp: Mapping[str, Any] | None = None,
    gpus: int | None = None,
) -> list[Drift]:
    """Compare the installed environment with the paper's ``environment:`` section.

    Checks the python version against ``python``, each ``requires`` entry (a missing
    package is a drift; entries whose marker excludes this platform are skipped),
    each pin of ``lockfile``, and ``cuda``. ``fp`` is the fingerprint to check
    (default: this process's); a package it does not list is looked up in this
    interpreter. ``gpus`` is the run's GPU count: with 0 — or None and no GPU in
    ``fp`` — no CUDA is involved, the ``cuda`` pin is skipped and a
    :class:`ReproWarning` says so.
    """
    requirements = parse_requirements(spec)
    pins: tuple[Pin, ...] = ()
    if spec.lockfile is not None:
        pins = read_lockfile(
            paper_dir / spec.lockfile,
            display=lockfile_display(spec, paper_dir),
            origin=spec.loc,
        )
    if fp is None:
        fp = cached_fingerprint([r.name for r, _ in requirements] + [p.name for p in pins])
    packages = dict(fp.get("packages", {}))

    def version_of(name: str) -> str | None:
        key = canonicalize_name(name)
        if key in packages:
            found = packages[key]
            return None if found is None else str(found)
        return installed_version(name)

    drifts: list[Drift] = []
    if spec.python is not None and not contains_version(spec.python, str(fp["python"]), spec.loc):
        drifts.append(
            Drift(
                name="python",
                expected=spec.python,
                installed=str(fp["python"]),
                kind="python",
                loc=spec.loc,
            )
        )
    for req, loc in requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        installed = version_of(req.name)
        expected = str(req.specifier) or "installed"
        if installed is None or not contains_version(str(req.specifier), installed, loc):
            drifts.append(
                Drift(
                    name=req.name, expected=expected, installed=installed, kind="requires", loc=loc
                )
            )
    for pin in pins:
        if not pin.applies():
            continue
        installed = version_of(pin.name)
        if installed is None or not pin.matches(installed):
            drifts.append(
                Drift(
                    name=pin.name,
                    expected=f"{pin.operator}{pin.version}",
                    installed=installed,
                    kind="lockfile",
                    loc=pin.loc,
                )
            )
    if spec.cuda is not None:
        drift = _check_cuda(spec, fp, gpus)
        if drift is not None:
            drifts.append(drift)
    return drifts


def _check_cuda(spec: EnvironmentSpec, fp: Mapping[str, Any], gpus: int | None) -> Drift | None:
    assert spec.cuda is not None
    involved = gpus > 0 if gpus is not None else bool(fp.get("gpus"))
    where = f"{spec.loc}: " if spec.loc else ""
    if not involved:
        warnings.warn(
            ReproWarning(
                f"{where}environment.cuda: {spec.cuda!r} not checked: this run uses no CUDA GPU"
            ),
            stacklevel=3,
        )
        return None
    cuda = fp.get("cuda") or {}
    version: str | None
    if cuda.get("source") == "torch":
        version = cuda.get("runtime")
        shown = version if version is not None else "none (torch is a CPU build)"
    else:
        version = cuda.get("driver_cuda")
        shown = f"{version} (driver's highest)" if version is not None else None
    if version is None or not contains_version(spec.cuda, version, spec.loc):
        return Drift(name="cuda", expected=spec.cuda, installed=shown, kind="cuda", loc=spec.loc)
    return None


def format_drift_table(drifts: Sequence[Drift]) -> str:
    """An aligned expected-vs-installed table, for error messages and reports::

    where                       kind      name   expected  installed
    papers/x/paper.yaml:12      requires  torch  >=2.1     2.0.1
    papers/x/requirements.lock:3  lockfile  numpy  ==1.26.4  2.4.6
    """
    if not drifts:
        return "no drift: the installed environment matches the pins"
    header = ("where", "kind", "name", "expected", "installed")
    rows = [
        (str(d.loc) if d.loc else "-", d.kind, d.name, d.expected, d.installed or "missing")
        for d in drifts
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)
