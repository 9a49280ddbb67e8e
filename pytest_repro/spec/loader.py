"""``paper.yaml`` → :class:`~pytest_repro.spec.schema.PaperSpec`.

:func:`load_spec` never lets an exception from inside the loader escape: any
input, however malformed, ends in a :class:`~pytest_repro.errors.SpecError`
listing every problem with its line, or in a valid spec.
"""

from __future__ import annotations

import ast
import math
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from pytest_repro.errors import Problem, SpecError
from pytest_repro.spec.fields import (
    MISSING,
    Checker,
    MapReader,
    check_each,
    describe,
    join,
    parse_duration,
    parse_size,
    suggest,
)
from pytest_repro.spec.schema import (
    At,
    Claim,
    ConfigValue,
    DataSource,
    EnvironmentSpec,
    FileRef,
    HFRef,
    Location,
    MetricsSource,
    PaperMeta,
    PaperSpec,
    PaperValue,
    Resources,
    RunSpec,
    SanityCheck,
    SeedPlan,
    Substitution,
    Variant,
)
from pytest_repro.spec.yamlnodes import YamlSyntaxError, YNode, parse
from pytest_repro.vocab import METHOD_MIN_SEEDS, METHODS, STATISTICS

TOP_KEYS = (
    "paper",
    "run",
    "environment",
    "data",
    "substitutions",
    "sanity",
    "variants",
    "claims",
    "notes",
)
PAPER_KEYS = ("id", "title", "authors", "year", "url", "venue")
RUN_KEYS = ("entrypoint", "command", "metrics", "config", "timeout", "resources", "env")
CLAIM_KEYS = (
    "id",
    "text",
    "source",
    "kind",
    "metric",
    "at",
    "paper",
    "tolerance",
    "seeds",
    "variant",
    "config",
    "compare",
    "better",
    "margin",
    "expect",
    "hypothesis",
    "see",
    "interval",
    "statistic",
    "resolution",
    "unit",
    "disagreement",
    "notes",
)
#: Sanity checks this version can run. Others are rejected rather than silently ignored.
SANITY_CHECKS = ("determinism", "finite", "train_test_overlap")
RESERVED_PLACEHOLDERS = ("seed", "run_dir", "paper_dir")
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
MAX_SEED_VALUE = 2**32 - 1
#: The fewest seeds each interval method is valid with (docs/statistics.md).

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ENTRY = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def load_spec(path: Path, *, display: str | None = None) -> PaperSpec:
    """Read and validate ``path``. ``display`` is how the path is shown in messages.

    Raises :class:`SpecError` listing every problem found.
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            [Problem(shown, 0, "", f"is not UTF-8 text ({exc.reason})", "save the file as UTF-8")]
        ) from None
    except OSError as exc:
        raise SpecError([Problem(shown, 0, "", f"cannot be read: {exc.strerror}")]) from None
    return load_spec_text(text, path=path, display=shown)


def load_spec_text(text: str, *, path: Path, display: str | None = None) -> PaperSpec:
    """Validate YAML ``text`` as if it were the file at ``path``."""
    shown = display or str(path)
    ck = Checker(shown)
    try:
        root = parse(text)
    except YamlSyntaxError as exc:
        raise SpecError(
            [
                Problem(
                    shown, exc.line, "", f"is not valid YAML: {exc.message}", "fix the YAML syntax"
                )
            ]
        ) from None
    except RecursionError:
        raise SpecError([Problem(shown, 1, "", "nests too deeply to be a paper spec")]) from None
    if root is None:
        raise SpecError(
            [
                Problem(
                    shown,
                    1,
                    "",
                    "is empty",
                    "start from `pytest-repro new <id>` or docs/paper-yaml.md",
                )
            ]
        )
    if root.kind != "map":
        raise SpecError(
            [
                Problem(
                    shown,
                    root.line,
                    "",
                    f"must be a mapping with paper:, run: and claims:, got {describe(root)}",
                )
            ]
        )
    try:
        spec = _Builder(ck, path.resolve(), shown).build(root)
    except RecursionError:
        raise SpecError([Problem(shown, 1, "", "nests too deeply to be a paper spec")]) from None
    if ck.problems or spec is None:
        problems = sorted(ck.problems, key=lambda p: p.line) or [
            Problem(shown, 0, "", "could not be read")
        ]
        raise SpecError(problems)
    return spec


class _Builder:
    def __init__(self, ck: Checker, file: Path, display: str) -> None:
        self.ck = ck
        self.file = file
        self.folder = file.parent
        self.display = display
        self.config_keys: tuple[str, ...] = ()
        self.defaults: dict[str, Any] = {}

    # -- top level -----------------------------------------------------------------------
    def build(self, root: YNode) -> PaperSpec | None:
        top = MapReader(self.ck, root, "", allowed=TOP_KEYS, required=("paper", "run", "claims"))
        paper = self.paper(top)
        run = self.run(top)
        environment = self.environment(top)
        data = self.data(top)
        variants = self.variants(top)
        claims = self.claims(top, variants)
        substitutions = self.substitutions(top, claims)
        sanity = self.sanity(top)
        if paper is MISSING or paper is None or run is MISSING or run is None or self.ck.problems:
            return None
        return PaperSpec(
            file=self.file,
            display=self.display,
            paper=paper,
            run=run,
            environment=environment,
            data=tuple(data),
            substitutions=tuple(substitutions),
            sanity=tuple(sanity),
            variants=variants,
            claims=tuple(claims),
        )

    def paper(self, top: MapReader) -> PaperMeta | None:
        node = top.mapping("paper")
        if not node:
            return None
        m = MapReader(self.ck, node, "paper", allowed=PAPER_KEYS, required=("id", "title"))
        paper_id = m.string("id", allow_number=True)
        if isinstance(paper_id, str) and not _ID.match(paper_id):
            paper_id = m.bad(
                "id",
                f"{paper_id!r} has characters a test id cannot hold",
                "use letters, digits, '.', '_' and '-'",
            )
        title = m.string("title")
        authors = m.strings("authors")
        year = m.integer("year", minimum=1900)
        url = m.string("url")
        venue = m.string("venue")
        if (
            MISSING in (paper_id, title, authors, year, url, venue)
            or paper_id is None
            or title is None
        ):
            return None
        return PaperMeta(
            id=paper_id,
            title=title,
            authors=authors,
            year=year,
            url=url,
            venue=venue,
            loc=self.ck.loc(node.line),
        )

    # -- run -----------------------------------------------------------------------------
    def run(self, top: MapReader) -> RunSpec | None:
        node = top.mapping("run")
        if not node:
            return None
        m = MapReader(self.ck, node, "run", allowed=RUN_KEYS)
        config = self.config(m)
        entrypoint = m.string("entrypoint")
        command = self.command(m)
        if entrypoint is None and command is None and m.node.kind == "map":
            m.bad(
                "entrypoint",
                "run needs entrypoint: or command:",
                "add entrypoint: train:run (a function in train.py)",
            )
        if entrypoint and command:
            m.bad(
                "command",
                "give entrypoint: or command:, not both",
                "keep the one that starts your training",
            )
        if isinstance(entrypoint, str):
            self.check_entrypoint(m, entrypoint)
        metrics = self.metrics(m)
        if command and metrics is None and not m.has("metrics"):
            m.bad(
                "metrics",
                "a command: run must say where its metrics are",
                'add metrics: {jsonl: "{run_dir}/metrics.jsonl"}',
            )
        if entrypoint and m.has("metrics"):
            m.bad(
                "metrics",
                "only a command: run reads metrics from a file",
                "remove it; entrypoints log with ctx.log()",
            )
        timeout: Any = None
        if m.has("timeout"):
            raw = m.raw("timeout")
            timeout = parse_duration(raw.value if raw and raw.kind == "scalar" else None)
            if timeout is None:
                m.bad(
                    "timeout",
                    f"{describe(raw) if raw else ''} is not a duration",
                    "write e.g. 90s, 10m, 2h or 1h30m",
                )
        resources = self.resources(m)
        env = self.env(m)
        if MISSING in (entrypoint, command, metrics, resources, env, config):
            return None
        if isinstance(command, tuple):
            self.check_placeholders(m, command, metrics)
        return RunSpec(
            entrypoint=entrypoint,
            command=command,
            metrics=metrics,
            config=config,
            timeout=timeout,
            resources=resources,
            env=env,
            loc=self.ck.loc(node.line),
        )

    def config(self, m: MapReader) -> Any:
        node = m.mapping("config")
        if node is None or node is MISSING:
            return {} if node is None else MISSING
        out: dict[str, ConfigValue] = {}
        for key, child in node.value.items():
            line = (node.key_lines or {}).get(key, child.line)
            field = join("run.config", key)
            if not key or "{" in key or "}" in key:
                self.ck.problem(
                    line, field, "config names cannot be empty or hold braces", "rename the key"
                )
                continue
            if (
                child.kind == "map"
                and "value" in child.value
                and set(child.value) <= {"value", "source", "why"}
            ):
                cv = MapReader(self.ck, child, field, allowed=("value", "source", "why"))
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
                    loc=self.ck.loc(line),
                )
            elif (
                child.kind == "map"
                and ({"source", "why"} & set(child.value))
                and "value" not in child.value
            ):
                self.ck.problem(
                    line,
                    field,
                    "has source:/why: but no value:",
                    f"write {key}: {{value: ..., source: ...}}",
                )
            else:
                out[key] = ConfigValue(value=child.plain(), loc=self.ck.loc(line))
        self.config_keys = tuple(out)
        self.defaults = {key: cv.value for key, cv in out.items()}
        return out

    def command(self, m: MapReader) -> Any:
        node = m.raw("command")
        if node is None:
            return None
        if node.kind == "scalar" and isinstance(node.value, str):
            return m.bad(
                "command",
                "must be a list of arguments; it is never run through a shell",
                f"split it: command: {node.value.split()}",
            )
        argv = m.strings("command")
        if argv is MISSING:
            return MISSING
        if not argv:
            return m.bad(
                "command", "is empty", "give the program and its arguments: [python, train.py]"
            )
        return argv

    def check_placeholders(
        self, m: MapReader, argv: tuple[str, ...], metrics: MetricsSource | None
    ) -> None:
        known = (*RESERVED_PLACEHOLDERS, *self.config_keys)
        texts = [("command", a) for a in argv]
        if metrics is not None and metrics.path:
            texts.append(("metrics", metrics.path))
        for key, text in texts:
            try:
                fields = [
                    (name, conversion, spec)
                    for _, name, spec, conversion in string.Formatter().parse(text)
                    if name is not None
                ]
            except ValueError as exc:
                m.bad(
                    key,
                    f"{text!r}: {exc}",
                    "write placeholders as {name}; double braces {{ }} for literal ones",
                )
                continue
            for name, conversion, spec in fields:
                base = re.split(r"[.\[]", name, maxsplit=1)[0]
                if conversion or spec or base != name or not name:
                    m.bad(
                        key,
                        f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                        f"{':' + spec if spec else ''}}} in {text!r} is not a plain {{name}}",
                        "write {name} alone; format the value in run.config instead",
                    )
                elif base not in known:
                    m.bad(
                        key,
                        f"placeholder {{{name}}} is neither a run.config key nor one of "
                        f"{', '.join(RESERVED_PLACEHOLDERS)}{suggest(base, known)}",
                        "add it to run.config, or fix the name",
                    )

    def check_entrypoint(self, m: MapReader, entrypoint: str) -> None:
        if not _ENTRY.match(entrypoint):
            m.bad(
                "entrypoint",
                f"{entrypoint!r} is not module:function",
                "write e.g. entrypoint: train:run",
            )
            return
        module, function = entrypoint.split(":")
        rel = Path(*module.split("."))
        candidates = [self.folder / rel.with_suffix(".py"), self.folder / rel / "__init__.py"]
        source = next((p for p in candidates if p.is_file()), None)
        if source is None:
            import importlib.util

            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                m.bad(
                    "entrypoint",
                    f"no module {module!r}: {candidates[0].name} is not in {self._rel_folder()} "
                    "and it is not installed",
                    f"create {self._rel_folder()}/{candidates[0].name} with def {function}(ctx): ..., or fix the name",
                )
            return
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            m.bad(
                "entrypoint",
                f"{source.name} does not parse: {exc}",
                f"fix the syntax of {source.name}",
            )
            return
        defined = _top_level_names(tree)
        if function not in defined:
            functions = sorted(n for n, kind in defined.items() if kind == "def")
            m.bad(
                "entrypoint",
                f"{source.name} has no top-level {function!r}{suggest(function, functions)}",
                f"define def {function}(ctx): in {source.name}"
                + (f" (it defines: {', '.join(functions)})" if functions else ""),
            )

    def _rel_folder(self) -> str:
        return str(Path(self.display).parent)

    def metrics(self, m: MapReader) -> Any:
        node = m.mapping("metrics")
        if node is None or node is MISSING:
            return node
        r = MapReader(self.ck, node, "run.metrics", allowed=("jsonl", "csv", "regex"))
        given = [k for k in ("jsonl", "csv", "regex") if r.has(k)]
        if len(given) != 1:
            return self.ck.problem(
                node.line,
                "run.metrics",
                "needs exactly one of jsonl:, csv: or regex:",
                'e.g. metrics: {jsonl: "{run_dir}/metrics.jsonl"}',
            )
        fmt = given[0]
        text = r.string(fmt)
        if text is MISSING or text is None:
            return MISSING
        if fmt == "regex":
            try:
                pattern = re.compile(text)
            except re.error as exc:
                return r.bad("regex", f"does not compile: {exc}", "fix the regular expression")
            groups = set(pattern.groupindex)
            if not groups & {"epoch", "step"}:
                return r.bad(
                    "regex",
                    "needs a named group (?P<epoch>...) or (?P<step>...)",
                    "add one so claims can find their point",
                )
            if not groups - {"epoch", "step"}:
                return r.bad(
                    "regex",
                    "needs a named group per metric, e.g. (?P<test_acc>[0-9.]+)",
                    "add the metric's group",
                )
            return MetricsSource(format="regex", pattern=text, loc=self.ck.loc(node.line))
        if "{run_dir}" not in text:
            return r.bad(
                fmt,
                f"{text!r} does not contain {{run_dir}}: seeds running in parallel would share one file",
                f'write the file into the run\'s folder, e.g. {fmt}: "{{run_dir}}/metrics.{fmt}"',
            )
        return MetricsSource(
            format="jsonl" if fmt == "jsonl" else "csv", path=text, loc=self.ck.loc(node.line)
        )

    def resources(self, m: MapReader) -> Any:
        node = m.mapping("resources")
        if node is None:
            return Resources()
        if node is MISSING:
            return MISSING
        r = MapReader(self.ck, node, "run.resources", allowed=("gpus", "threads", "memory"))
        gpus = r.integer("gpus", default=0, minimum=0)
        threads = r.integer("threads", minimum=1)
        memory: Any = None
        if r.has("memory"):
            raw = r.raw("memory")
            memory = parse_size(raw.value if raw and raw.kind == "scalar" else None)
            if memory is None:
                memory = r.bad(
                    "memory",
                    f"{describe(raw) if raw else ''} is not a size",
                    "write e.g. 4GiB or 512MB",
                )
        if MISSING in (gpus, threads, memory):
            return MISSING
        return Resources(gpus=gpus, threads=threads, memory=memory, loc=self.ck.loc(node.line))

    def env(self, m: MapReader) -> Any:
        node = m.mapping("env")
        if node is None:
            return {}
        if node is MISSING:
            return MISSING
        out: dict[str, str] = {}
        for key, child in node.value.items():
            if child.kind != "scalar" or child.value is None or isinstance(child.value, bool):
                self.ck.problem(
                    child.line,
                    join("run.env", key),
                    f"must be text, got {describe(child)}",
                    'quote it: "1"',
                )
                continue
            out[key] = child.raw if child.raw is not None else str(child.value)
        return out

    # -- environment ---------------------------------------------------------------------
    def environment(self, top: MapReader) -> EnvironmentSpec:
        node = top.mapping("environment")
        if not node:
            return EnvironmentSpec()
        e = MapReader(
            self.ck,
            node,
            "environment",
            allowed=("python", "requires", "lockfile", "cuda", "deterministic"),
        )
        python = e.string("python", allow_number=True)
        cuda = e.string("cuda", allow_number=True)
        for key, spec in (("python", python), ("cuda", cuda)):
            if isinstance(spec, str):
                if re.match(r"^\d", spec):
                    spec = (
                        "==" + spec
                        if spec.count(".") >= 2
                        else f"~={spec}"
                        if "." in spec
                        else f"=={spec}"
                    )
                try:
                    SpecifierSet(spec)
                except InvalidSpecifier:
                    e.bad(
                        key,
                        f"{spec!r} is not a version specifier",
                        f'write e.g. {key}: ">=3.10,<3.13"',
                    )
        requires = e.strings("requires")
        req_locs: list[Location] = []
        req_node = e.raw("requires")
        if isinstance(requires, tuple):
            children = (
                req_node.value if req_node is not None and req_node.kind == "seq" else [req_node]
            )
            for i, (text, child) in enumerate(zip(requires, children, strict=False)):
                line = child.line if child is not None else node.line
                req_locs.append(self.ck.loc(line))
                try:
                    Requirement(text)
                except InvalidRequirement as exc:
                    self.ck.problem(
                        line,
                        f"environment.requires[{i}]",
                        f"{text!r} is not a PEP 508 requirement ({exc})",
                        'write e.g. "torch>=2.1" or "numpy==2.1.3"',
                    )
        lockfile = e.string("lockfile")
        if isinstance(lockfile, str) and not (self.folder / lockfile).is_file():
            e.bad(
                "lockfile",
                f"{lockfile} does not exist in {self._rel_folder()}",
                "create it (e.g. pip freeze > requirements.lock) or fix the path",
            )
        deterministic: Any = "off"
        raw = e.raw("deterministic")
        if raw is not None:
            if raw.kind == "scalar" and raw.value is True:
                deterministic = "on"
            elif raw.kind == "scalar" and raw.value is False:
                deterministic = "off"
            elif raw.kind == "scalar" and raw.value == "warn":
                deterministic = "warn"
            else:
                e.bad(
                    "deterministic",
                    f"{describe(raw)} is not true, false or warn",
                    "write deterministic: true",
                )
        if MISSING in (python, cuda, requires, lockfile):
            return EnvironmentSpec()
        return EnvironmentSpec(
            python=python,
            requires=requires,
            lockfile=lockfile,
            cuda=cuda,
            deterministic=deterministic,
            loc=self.ck.loc(node.line),
            requires_locs=tuple(req_locs),
        )

    # -- data ----------------------------------------------------------------------------
    def data(self, top: MapReader) -> list[DataSource]:
        node = top.mapping("data")
        if not node:
            return []
        out: list[DataSource] = []
        for name, child in node.value.items():
            field = join("data", name)
            if child.kind != "map":
                self.ck.problem(
                    child.line,
                    field,
                    f"must be a mapping, got {describe(child)}",
                    "write e.g. digits: {sklearn: load_digits}",
                )
                continue
            source = self.data_source(name, child, field)
            if source is not None:
                out.append(source)
        return out

    def data_source(self, name: str, node: YNode, field: str) -> DataSource | None:
        kinds = ("sklearn", "python", "files", "hf")
        d = MapReader(self.ck, node, field, allowed=(*kinds, "args", "fingerprint"))
        given = [k for k in kinds if d.has(k)]
        if len(given) != 1:
            self.ck.problem(
                node.line,
                field,
                f"needs exactly one source kind ({', '.join(kinds)}), got {', '.join(given) or 'none'}",
                "e.g. {sklearn: load_digits} or {python: data:make_dataset}",
            )
            return None
        kind = given[0]
        args_node = d.mapping("args")
        args = args_node.plain() if isinstance(args_node, YNode) else {}
        fingerprint = d.string("fingerprint")
        loc = self.ck.loc(node.line)
        if kind == "sklearn":
            target = d.string("sklearn")
            if isinstance(target, str) and not re.match(r"^(load|make|fetch)_\w+$", target):
                d.bad(
                    "sklearn",
                    f"{target!r} is not a scikit-learn loader",
                    "use e.g. load_digits, load_iris or make_moons",
                )
            if not isinstance(target, str):
                return None
            return DataSource(
                name=name,
                kind="sklearn",
                target=target,
                args=args,
                fingerprint=fingerprint,
                loc=loc,
            )
        if kind == "python":
            target = d.string("python")
            if isinstance(target, str) and not _ENTRY.match(target):
                d.bad(
                    "python",
                    f"{target!r} is not module:function",
                    "write e.g. python: data:make_dataset",
                )
            if not isinstance(target, str):
                return None
            return DataSource(
                name=name, kind="python", target=target, args=args, fingerprint=fingerprint, loc=loc
            )
        if kind == "files":
            files = self.files(d)
            if files is None:
                return None
            return DataSource(
                name=name, kind="files", files=files, args=args, fingerprint=fingerprint, loc=loc
            )
        hf = self.hf(d, field)
        if hf is None:
            return None
        return DataSource(name=name, kind="hf", hf=hf, args=args, fingerprint=fingerprint, loc=loc)

    def files(self, d: MapReader) -> tuple[FileRef, ...] | None:
        node = d.raw("files")
        if node is None:
            return None
        children = node.value if node.kind == "seq" else [node]
        if not children:
            d.bad(
                "files", "lists no files", "list them: files: [{path: data/train.csv, sha256: ...}]"
            )
            return None
        out: list[FileRef] = []
        for i, child in enumerate(children):
            field = join(d.field("files"), i)
            if child.kind == "scalar" and isinstance(child.value, str):
                out.append(FileRef(path=child.value, loc=self.ck.loc(child.line)))
                continue
            if child.kind != "map":
                self.ck.problem(
                    child.line, field, f"must be a path or {{path, sha256}}, got {describe(child)}"
                )
                continue
            f = MapReader(self.ck, child, field, allowed=("path", "sha256"), required=("path",))
            path = f.string("path")
            sha = f.string("sha256")
            if isinstance(sha, str) and not _SHA256.match(sha.lower()):
                f.bad("sha256", "is not a 64-digit hex sha256", "compute it with: sha256sum FILE")
            if isinstance(path, str) and sha is not MISSING:
                out.append(
                    FileRef(
                        path=path, sha256=sha.lower() if sha else None, loc=self.ck.loc(child.line)
                    )
                )
        return tuple(out) if out else None

    def hf(self, d: MapReader, field: str) -> HFRef | None:
        node = d.mapping("hf")
        if not isinstance(node, YNode):
            return None
        h = MapReader(
            self.ck,
            node,
            join(field, "hf"),
            allowed=("path", "name", "revision", "split", "data_files", "from_disk"),
            required=("path",),
        )
        path = h.string("path")
        name = h.string("name")
        revision = h.string("revision", allow_number=True)
        split = h.string("split")
        from_disk = h.boolean("from_disk", default=False)
        data_files = h.raw("data_files")
        if MISSING in (path, name, revision, split, from_disk) or path is None:
            return None
        return HFRef(
            path=path,
            name=name,
            revision=revision,
            split=split,
            data_files=data_files.plain() if data_files else None,
            from_disk=from_disk,
            loc=self.ck.loc(node.line),
        )

    # -- variants and claims -------------------------------------------------------------
    def overrides(self, node: YNode, field: str) -> Any:
        if node.kind != "map":
            return self.ck.problem(
                node.line,
                field,
                f"must be a mapping of config overrides, got {describe(node)}",
                "write {key: value}",
            )
        out: dict[str, Any] = {}
        for key, child in node.value.items():
            line = (node.key_lines or {}).get(key, child.line)
            if key not in self.config_keys:
                self.ck.problem(
                    line,
                    join(field, key),
                    f"overrides {key!r}, which run.config does not define{suggest(key, self.config_keys)}",
                    f"add {key} with its default to run.config, or fix the name",
                )
                continue
            out[key] = child.plain()
        return out

    def variants(self, top: MapReader) -> dict[str, Variant]:
        node = top.mapping("variants")
        if not node:
            return {}
        out: dict[str, Variant] = {}
        for name, child in node.value.items():
            field = join("variants", name)
            line = (node.key_lines or {}).get(name, child.line)
            if not _ID.match(name):
                self.ck.problem(
                    line,
                    field,
                    f"{name!r} is not a usable name",
                    "use letters, digits, '.', '_' and '-'",
                )
                continue
            overrides = self.overrides(child, field)
            if overrides is not MISSING:
                out[name] = Variant(name=name, overrides=overrides, loc=self.ck.loc(line))
        return out

    def variant_ref(self, node: YNode, field: str, variants: Mapping[str, Variant]) -> Any:
        if node.kind == "scalar" and isinstance(node.value, str):
            if node.value in variants:
                return variants[node.value]
            return self.ck.problem(
                node.line,
                field,
                f"no variant named {node.value!r}{suggest(node.value, variants)}",
                f"define it under variants:, or use one of: {', '.join(variants) or '(none defined)'}",
            )
        if node.kind == "map":
            r = MapReader(self.ck, node, field, allowed=("variant", "config"))
            if r.has("variant") == r.has("config"):
                return self.ck.problem(
                    node.line,
                    field,
                    "needs exactly one of variant: or config:",
                    "e.g. {config: {init: he}}",
                )
            if r.has("variant"):
                child = r.raw("variant")
                assert child is not None
                return self.variant_ref(child, join(field, "variant"), variants)
            child = r.raw("config")
            assert child is not None
            overrides = self.overrides(child, join(field, "config"))
            if overrides is MISSING:
                return MISSING
            return Variant(overrides=overrides, loc=self.ck.loc(node.line))
        return self.ck.problem(
            node.line, field, f"must be a variant name or {{config: ...}}, got {describe(node)}"
        )

    def claims(self, top: MapReader, variants: Mapping[str, Variant]) -> list[Claim]:
        node = top.sequence("claims")
        if not isinstance(node, YNode):
            return []
        if not node.value:
            self.ck.problem(node.line, "claims", "is empty", "add at least one claim")
            return []
        claims = check_each(
            self.ck, node, "claims", lambda child, field, _i: self.claim(child, field, variants)
        )
        seen: dict[str, Claim] = {}
        for claim in claims:
            if claim.id in seen:
                self.ck.problem(
                    claim.loc.line,
                    "claims",
                    f"claim id {claim.id!r} is used twice (also on line {seen[claim.id].loc.line})",
                    "give every claim its own id",
                )
            seen[claim.id] = claim
        return claims

    def claim(self, node: YNode, field: str, variants: Mapping[str, Variant]) -> Claim | None:
        if node.kind != "map":
            self.ck.problem(
                node.line,
                field,
                f"must be a mapping, got {describe(node)}",
                "start each claim with '- id: ...'",
            )
            return None
        before = len(self.ck.problems)
        id_node = node.value.get("id")
        if id_node is not None and id_node.kind == "scalar" and id_node.raw:
            field = f"claims[{id_node.raw}]"
        c = MapReader(
            self.ck,
            node,
            field,
            allowed=CLAIM_KEYS,
            required=("id", "text", "source", "metric", "at"),
            what="a claim",
        )
        claim_id = c.string("id", allow_number=True)
        if isinstance(claim_id, str) and not _ID.match(claim_id):
            c.bad(
                "id",
                f"{claim_id!r} has characters a test id cannot hold",
                "use letters, digits, '.', '_' and '-'",
            )
        text = c.string("text")
        source = c.string("source", allow_number=True)
        metric = c.string("metric")
        at = self.at(c)
        comparative = c.has("compare")
        kind = c.choice(
            "kind",
            ("absolute", "comparative"),
            default="comparative" if comparative else "absolute",
        )
        if kind == "comparative" and not comparative:
            c.bad(
                "kind",
                "a comparative claim needs compare: {a: ..., b: ...}",
                "add compare:, or drop kind:",
            )
        if kind == "absolute" and comparative:
            c.bad("kind", "compare: makes this claim comparative", "drop kind: absolute")
        better = c.choice("better", ("higher", "lower", "none"), default="higher")
        if comparative and better == "none":
            c.bad(
                "better",
                "a comparative claim needs a direction",
                "write better: higher or better: lower",
            )
        paper = self.paper_value(c)
        tolerance = c.number(
            "tolerance",
            exclusive_minimum=0.0,
            meaning=" (tolerance is a distance from the paper value)",
        )
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
        if c.has("margin") and not comparative:
            c.bad("margin", "only comparative claims have a margin", "remove it, or add compare:")
        seeds = self.seeds(c)
        variant: Any = None
        compare: Any = None
        if comparative:
            if c.has("variant") or c.has("config"):
                c.bad(
                    "compare",
                    "a comparative claim takes its configs from compare:, not variant:/config:",
                    "move them into the arms",
                )
            compare = self.compare(c, variants)
        else:
            if c.has("variant") and c.has("config"):
                c.bad("config", "give variant: or config:, not both", "keep one")
            elif c.has("variant"):
                vnode = c.raw("variant")
                assert vnode is not None
                variant = self.variant_ref(vnode, c.field("variant"), variants)
            elif c.has("config"):
                cnode = c.raw("config")
                assert cnode is not None
                overrides = self.overrides(cnode, c.field("config"))
                variant = (
                    MISSING
                    if overrides is MISSING
                    else Variant(overrides=overrides, loc=c.loc("config"))
                )
            else:
                variant = Variant(overrides={}, loc=c.loc("id"))
        expect = c.choice("expect", ("gap", "disagreement"))
        hypothesis = c.string("hypothesis")
        if expect in ("gap", "disagreement") and not hypothesis:
            c.bad(
                "hypothesis",
                f"expect: {expect} needs the hypothesis that explains it",
                'add hypothesis: "..." (why the reproduction differs)',
            )
        see = c.string("see")
        interval = c.choice("interval", METHODS)
        statistic = c.choice("statistic", STATISTICS, default="mean")
        resolution = c.number("resolution", exclusive_minimum=0.0)
        unit = c.string("unit")
        disagreement = c.number(
            "disagreement", exclusive_minimum=1.0, meaning=" (a multiple of the tolerance)"
        )
        c.string("notes")
        if isinstance(seeds, SeedPlan):
            fewest = seeds.stages[0] if seeds.stages else len(seeds.seeds)
            method = interval if isinstance(interval, str) else None
            needed = METHOD_MIN_SEEDS.get(method or "", 0)
            if statistic in ("median", "iqm"):
                needed = max(needed, METHOD_MIN_SEEDS["bca"])
            if fewest < needed:
                what = (
                    f"interval: {method}"
                    if method and method in METHOD_MIN_SEEDS
                    else f"statistic: {statistic}"
                )
                c.bad(
                    "interval" if method in METHOD_MIN_SEEDS else "statistic",
                    f"{what} needs at least {needed} seeds, but this claim "
                    + (f"looks first at {fewest}" if seeds.stages else f"runs {fewest}"),
                    "use the default (interval: auto, statistic: mean), valid at any number of seeds, "
                    f"or run {needed} seeds or more (docs/statistics.md)",
                )
            if method == "hierarchical" and comparative:
                c.bad(
                    "interval", "interval: hierarchical is for absolute claims", "use interval: t"
                )
        if len(self.ck.problems) > before:
            return None
        locs = {key: c.loc(key) for key in CLAIM_KEYS if c.has(key)}
        return Claim(
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
            loc=self.ck.loc(node.line),
            field_locs=locs,
        )

    def at(self, c: MapReader) -> Any:
        node = c.raw("at")
        if node is None:
            return None
        if node.kind != "map":
            what = describe(node)
            fix = (
                "write at: {epoch: N} or at: {step: N}, the point where the paper reports the value"
            )
            if (
                node.kind == "scalar"
                and isinstance(node.value, str)
                and node.value.lower() in ("final", "last", "end", "best")
            ):
                return c.bad(
                    "at",
                    f"{what} is not a point in training; claims are read where the paper reports them",
                    fix,
                )
            return c.bad("at", f"must name an epoch or a step, got {what}", fix)
        a = MapReader(self.ck, node, c.field("at"), allowed=("epoch", "step"))
        given = [k for k in ("epoch", "step") if a.has(k)]
        if len(given) != 1:
            return c.bad(
                "at",
                "needs exactly one of epoch: or step:",
                "write at: {epoch: N} or at: {step: N}",
            )
        axis: Literal["epoch", "step"] = "epoch" if given[0] == "epoch" else "step"
        value = a.integer(axis, minimum=0)
        if value is MISSING or value is None:
            return MISSING
        return At(axis=axis, value=value, loc=self.ck.loc(node.line))

    def paper_value(self, c: MapReader) -> Any:
        node = c.raw("paper")
        if node is None:
            return None
        if node.kind != "map":
            value = c.number("paper")
            if value is MISSING:
                return MISSING
            return PaperValue(value=value, loc=c.loc("paper"))
        p = MapReader(
            self.ck,
            node,
            c.field("paper"),
            allowed=("value", "sd", "se", "ci95", "seeds"),
            required=("value",),
        )
        value = p.number("value")
        kinds = [k for k in ("sd", "se", "ci95") if p.has(k)]
        if len(kinds) > 1:
            return p.bad(
                kinds[1], "give one spread: sd, se or ci95", "keep the one the paper reports"
            )
        spread: Any = None
        spread_kind: Any = None
        seeds = p.integer("seeds", minimum=2)
        if kinds:
            spread_kind = kinds[0]
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
        if MISSING in (value, spread, seeds) or value is None:
            return MISSING
        return PaperValue(
            value=value, spread=spread, spread_kind=spread_kind, seeds=seeds, loc=c.loc("paper")
        )

    def seeds(self, c: MapReader) -> Any:
        node = c.raw("seeds")
        loc = c.loc("seeds") if node is not None else c.loc("id")
        if node is None:
            return SeedPlan(seeds=tuple(range(DEFAULT_SEEDS)), loc=loc)
        if node.kind == "scalar":
            n = c.integer("seeds", minimum=1)
            if n is MISSING:
                return MISSING
            if n > MAX_SEEDS:
                return c.bad(
                    "seeds",
                    f"{n} seeds is more than {MAX_SEEDS}",
                    "a reproduction affords 3-10; check the number",
                )
            return SeedPlan(seeds=tuple(range(n)), loc=loc)
        if node.kind == "seq":
            values: list[int] = []
            for i, child in enumerate(node.value):
                if (
                    child.kind != "scalar"
                    or isinstance(child.value, bool)
                    or not isinstance(child.value, int)
                    or not 0 <= child.value <= MAX_SEED_VALUE
                ):
                    return self.ck.problem(
                        child.line,
                        join(c.field("seeds"), i),
                        f"must be a whole number from 0 to {MAX_SEED_VALUE}, got {describe(child)}",
                        "seeds are 32-bit; use pytest_repro.seeding.derive_seed to map larger ones",
                    )
                values.append(child.value)
            if not values:
                return c.bad("seeds", "is empty", "list at least one seed")
            if len(set(values)) != len(values):
                return c.bad(
                    "seeds",
                    "lists a seed twice",
                    "repeated seeds are not independent runs; list each once",
                )
            return SeedPlan(seeds=tuple(values), loc=loc)
        s = MapReader(
            self.ck,
            node,
            c.field("seeds"),
            allowed=("min", "max", "stages"),
            required=("min", "max"),
        )
        low = s.integer("min", minimum=2)
        high = s.integer("max", minimum=2)
        if MISSING in (low, high) or low is None or high is None:
            return MISSING
        if high <= low:
            return s.bad(
                "max", f"max ({high}) must be above min ({low})", "e.g. seeds: {min: 3, max: 10}"
            )
        if high > MAX_SEEDS:
            return s.bad(
                "max",
                f"{high} seeds is more than {MAX_SEEDS}",
                "a reproduction affords 3-10; check the number",
            )
        stages_node = s.raw("stages")
        if stages_node is not None:
            stages = s.strings("stages")
            try:
                parsed = tuple(int(x) for x in stages) if stages is not MISSING else None
            except ValueError:
                parsed = None
            if (
                not parsed
                or list(parsed) != sorted(set(parsed))
                or parsed[0] != low
                or parsed[-1] != high
            ):
                return s.bad(
                    "stages", "must rise strictly from min to max", f"e.g. stages: [{low}, {high}]"
                )
        else:
            middle = round(math.sqrt(low * high))
            parsed = (low, middle, high) if low < middle < high else (low, high)
        return SeedPlan(seeds=tuple(range(high)), stages=parsed, loc=loc)

    def compare(self, c: MapReader, variants: Mapping[str, Variant]) -> Any:
        node = c.raw("compare")
        assert node is not None
        if node.kind != "map":
            return c.bad(
                "compare",
                f"must be {{a: ..., b: ...}}, got {describe(node)}",
                "e.g. compare: {a: {config: {init: he}}, b: {config: {init: xavier}}}",
            )
        r = MapReader(self.ck, node, c.field("compare"), allowed=("a", "b"), required=("a", "b"))
        a_node, b_node = r.raw("a"), r.raw("b")
        if a_node is None or b_node is None:
            return MISSING
        a = self.variant_ref(a_node, r.field("a"), variants)
        b = self.variant_ref(b_node, r.field("b"), variants)
        if MISSING in (a, b):
            return MISSING
        if self._resolved(a) == self._resolved(b):
            return r.bad(
                "b",
                f"arm b ({b.describe()}) runs the same config as arm a ({a.describe()})",
                "give the arms different configs: the claim compares two settings",
            )
        return (a, b)

    def _resolved(self, variant: Variant) -> dict[str, Any]:
        return {**self.defaults, **variant.overrides}

    # -- substitutions and sanity --------------------------------------------------------
    def substitutions(self, top: MapReader, claims: list[Claim]) -> list[Substitution]:
        node = top.sequence("substitutions")
        if not isinstance(node, YNode):
            return []
        ids = [claim.id for claim in claims]

        def read(child: YNode, field: str, _i: int) -> Substitution | None:
            if child.kind != "map":
                self.ck.problem(
                    child.line, field, f"must be {{original, used, why}}, got {describe(child)}"
                )
                return None
            s = MapReader(
                self.ck,
                child,
                field,
                allowed=("original", "used", "why", "claims"),
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
                original=original, used=used, why=why, claims=affected, loc=self.ck.loc(child.line)
            )

        return check_each(self.ck, node, "substitutions", read)

    def sanity(self, top: MapReader) -> list[SanityCheck]:
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
                    self.ck.problem(
                        arg_node.line,
                        field,
                        f"arguments of {name} must be a mapping",
                        f"write - {name}: {{key: value}}",
                    )
                    return None
            else:
                self.ck.problem(
                    child.line,
                    field,
                    f"must be a check name or {{name: {{args}}}}, got {describe(child)}",
                )
                return None
            if name not in SANITY_CHECKS:
                self.ck.problem(
                    child.line,
                    field,
                    f"unknown sanity check {name!r}{suggest(str(name), SANITY_CHECKS)}",
                    f"available: {', '.join(SANITY_CHECKS)}",
                )
                return None
            return SanityCheck(name=name, args=args, loc=self.ck.loc(child.line))

        return check_each(self.ck, node, "sanity", read)


def _top_level_names(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[stmt.name] = "def"
        elif isinstance(stmt, ast.ClassDef):
            names[stmt.name] = "class"
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                names[(alias.asname or alias.name).split(".")[0]] = "import"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = "assign"
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
            names[stmt.target.id] = "assign"
    return names
