"""What a paper pins: its lockfile (requirements style or PEP 751 ``pylock.toml``) read
into exact :class:`Pin` s, and ``environment.requires`` read as PEP 508 requirements,
each with the line that wrote it.

``packaging`` is imported where a requirement or marker is parsed, never at import:
worker processes in a paper's isolated environment load this package without it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_repro.environment.versions import canonicalize_name, contains_version
from pytest_repro.errors import Problem, SpecError
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import EnvironmentSpec

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One exact pin of a lockfile: ``name`` (canonical) ``==`` ``version``."""

    name: str
    version: str
    operator: Literal["==", "==="] = "=="
    marker: str | None = None
    loc: Location

    def applies(self) -> bool:
        """False when its environment marker excludes this interpreter/platform."""
        from packaging.markers import Marker

        return self.marker is None or Marker(self.marker).evaluate()

    def matches(self, installed: str) -> bool:
        if self.operator == "===":
            return installed == self.version
        return contains_version(f"=={self.version}", installed)


#: Index options say where packages come from, not which versions: ignored when checking.
_IGNORED_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--no-index",
        "--trusted-host",
        "--pre",
        "--prefer-binary",
        "--only-binary",
        "--no-binary",
    }
)
_LOCK_FIX = (
    "a lockfile lists every package as `name==version` (optionally with --hash options); "
    "write one with `uv pip compile requirements.in -o requirements.lock` or `pip freeze`"
)


def is_pylock(path: Path | str) -> bool:
    """True for PEP 751 lockfiles: ``pylock.toml`` or ``pylock.<name>.toml``."""
    name = Path(path).name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def read_lockfile(
    path: Path, *, display: str | None = None, origin: Location | None = None
) -> tuple[Pin, ...]:
    """The pins of a lockfile: requirements style, or ``pylock.toml`` (PEP 751).

    Requirements style, one rule: every requirement line is an exact pin
    (``name==version`` or ``name===version``, extras and markers allowed, ``--hash``
    options allowed); blank lines and ``#`` comments are skipped and ``\\``
    continues a line; index options (``--index-url``, ``--extra-index-url``,
    ``--find-links``, ``--no-index``, ``--trusted-host``, ``--pre``, binary
    preferences) are ignored because they say where packages come from, not
    which; any other option (``-r``, ``-c``, ``-e``, ...) is an error because the
    lock would then depend on something other than this file.

    ``display`` is the path shown in errors (default: ``path``); ``origin`` is where
    paper.yaml names the lockfile, shown when the file cannot be read.
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            [
                Problem(
                    origin.path if origin else shown,
                    origin.line if origin else 0,
                    "environment.lockfile",
                    f"cannot read {shown}: {exc.strerror or exc}",
                    "create the lockfile next to paper.yaml (e.g. `uv pip freeze > "
                    f"{Path(shown).name}`), or remove `lockfile:`",
                )
            ]
        ) from None
    if is_pylock(path):
        return _read_pylock(text, shown)
    return _read_requirements(text, shown)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) of each line after joining ``\\`` continuations and
    dropping comments and blank lines."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(p.strip() for p in parts).strip()
        parts = []
        if joined:
            yield start, joined
    if parts:
        joined = " ".join(p.strip() for p in parts).strip()
        if joined:
            yield start, joined


def _read_requirements(text: str, shown: str) -> tuple[Pin, ...]:
    pins: list[Pin] = []
    seen: dict[str, int] = {}
    for line_no, line in _logical_lines(text):

        def fail(message: str, fix: str = _LOCK_FIX, line_no: int = line_no) -> SpecError:
            return SpecError([Problem(shown, line_no, "", message, fix)])

        if line.startswith("-"):
            option = re.split(r"[\s=]", line, maxsplit=1)[0]
            if option in _IGNORED_OPTIONS:
                continue
            raise fail(
                f"option {option} is not allowed in a lockfile: it makes the pins depend on "
                "something other than this file",
                "inline the pins here (each `name==version`); index options such as "
                "--index-url are allowed",
            )
        split = re.search(r"\s+(?=--?[A-Za-z])", line)
        requirement_text = line[: split.start()] if split else line
        options = line[split.end() :] if split else ""
        for option in re.findall(r"--?[A-Za-z][\w-]*", options):
            if option != "--hash":
                raise fail(f"option {option} is not allowed on a requirement line")
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(requirement_text)
        except InvalidRequirement as exc:
            raise fail(f"{requirement_text!r} is not a requirement: {exc}") from None
        specs = list(req.specifier)
        if (
            req.url
            or len(specs) != 1
            or specs[0].operator not in ("==", "===")
            or ("*" in specs[0].version)
        ):
            raise fail(f"{requirement_text!r} is not an exact pin")
        name = canonicalize_name(req.name)
        marker = str(req.marker) if req.marker else None
        if name in seen and marker is None:
            raise fail(
                f"{req.name} is pinned twice (first on line {seen[name]})",
                "keep one pin per package",
            )
        seen.setdefault(name, line_no)
        operator: Literal["==", "==="] = "===" if specs[0].operator == "===" else "=="
        pins.append(
            Pin(
                name=name,
                version=specs[0].version,
                operator=operator,
                marker=marker,
                loc=Location(shown, line_no),
            )
        )
    return tuple(pins)


def _read_pylock(text: str, shown: str) -> tuple[Pin, ...]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError:
            raise SpecError(
                [
                    Problem(
                        shown,
                        0,
                        "",
                        "reading pylock.toml on python 3.10 needs tomli",
                        "pip install tomli, or use a requirements-style lockfile",
                    )
                ]
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise SpecError(
            [
                Problem(
                    shown,
                    int(match.group(1)) if match else 0,
                    "",
                    f"not valid TOML: {exc}",
                    "fix the syntax, or regenerate it with `uv export --format pylock.toml`",
                )
            ]
        ) from None
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise SpecError(
            [
                Problem(
                    shown,
                    0,
                    "packages",
                    "a pylock.toml needs a [[packages]] array",
                    "regenerate it with `uv export --format pylock.toml -o pylock.toml`",
                )
            ]
        )
    headers = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*packages\s*\]\]\s*(#.*)?$", line)
    ]
    pins: list[Pin] = []
    for index, package in enumerate(packages):
        line_no = headers[index] if index < len(headers) else 0
        name = package.get("name") if isinstance(package, dict) else None
        version = package.get("version") if isinstance(package, dict) else None
        if not isinstance(name, str) or not isinstance(version, str):
            raise SpecError(
                [
                    Problem(
                        shown,
                        line_no,
                        f"packages[{index}]",
                        "each package needs a string `name` and `version`",
                        "pin every package to a version (a lock for directory or VCS sources "
                        "cannot be checked); regenerate with `uv export --format pylock.toml`",
                    )
                ]
            )
        marker = package.get("marker")
        pins.append(
            Pin(
                name=canonicalize_name(name),
                version=version,
                marker=marker if isinstance(marker, str) else None,
                loc=Location(shown, line_no),
            )
        )
    return tuple(pins)


def parse_requirements(spec: EnvironmentSpec) -> list[tuple[Requirement, Location | None]]:
    """``environment.requires`` as PEP 508 requirements, each with its YAML location."""
    if not spec.requires:
        return []
    from packaging.requirements import InvalidRequirement, Requirement

    parsed: list[tuple[Requirement, Location | None]] = []
    for index, text in enumerate(spec.requires):
        loc = spec.requires_locs[index] if index < len(spec.requires_locs) else spec.loc
        try:
            parsed.append((Requirement(text), loc))
        except InvalidRequirement as exc:
            raise SpecError(
                [
                    Problem(
                        loc.path if loc else "paper.yaml",
                        loc.line if loc else 0,
                        f"environment.requires[{index}]",
                        f"{text!r} is not a PEP 508 requirement: {exc}",
                        'write it as `name` plus a version specifier, e.g. "torch>=2.1"',
                    )
                ]
            ) from None
    return parsed


def lockfile_display(spec: EnvironmentSpec, paper_dir: Path) -> str:
    """How errors show the lockfile: next to paper.yaml as the user sees it."""
    assert spec.lockfile is not None
    if spec.loc is not None and not Path(spec.lockfile).is_absolute():
        return str(Path(spec.loc.path).parent / spec.lockfile)
    return str(paper_dir / spec.lockfile)
