"""``run:``: how one seed of the reproduction is started and where its metrics are read.

Covers the entrypoint or command (with its ``{placeholders}``), ``metrics``, ``timeout``,
``resources``, ``env`` and ``kit`` (the function the sanity checks that train call);
``config`` is read by :mod:`pytest_repro.spec.config_section` and the entrypoint is
checked by :mod:`pytest_repro.spec.entrypoint`.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

from pytest_repro.spec.config_section import ConfigDefaults, build_config, config_defaults
from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.entrypoint import check_entrypoint, top_level_names
from pytest_repro.spec.fields import (
    MISSING,
    MapReader,
    describe,
    join,
    parse_duration,
    parse_size,
    suggest,
)
from pytest_repro.spec.keys import (
    BUDGET_PLACEHOLDERS,
    ENTRYPOINT_PATTERN,
    RESERVED_PLACEHOLDERS,
    RESOURCES_KEYS,
    RUN_CWDS,
    RUN_KEYS,
)
from pytest_repro.spec.metrics_section import build_metrics
from pytest_repro.spec.schema import Resources, RunSpec, placeholder_names


def build_run(ctx: SpecContext, top: MapReader) -> tuple[RunSpec | None, ConfigDefaults]:
    """The ``run:`` block (None when absent or faulty) and the ``run.config`` it defines.

    The config defaults come back even when the run has a problem, so variants and claims
    are still checked against them.
    """
    node = top.mapping("run")
    if not node:
        return None, ConfigDefaults()
    m = MapReader(ctx.ck, node, "run", allowed=RUN_KEYS)
    config = build_config(ctx, m)
    defaults = config_defaults(config)
    entrypoint = m.string("entrypoint")
    command = _command(m)
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
        check_entrypoint(ctx, m, entrypoint)
    kit = _kit(ctx, m, entrypoint)
    metrics = build_metrics(ctx, m)
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
    timeout = _timeout(m)
    resources = _resources(ctx, m)
    env = _env(ctx, m)
    cwd = m.choice("cwd", RUN_CWDS, default="paper")
    seed_startup = m.boolean("seed_startup", default=False)
    seedless = m.boolean("seedless", default=False)
    if seed_startup is True and not (isinstance(command, tuple) and command[0] in PYTHONS):
        m.bad(
            "seed_startup",
            "seeds a python command at start-up; this run is not one",
            "remove it, or start the command with python",
        )
    if MISSING in (
        entrypoint,
        command,
        metrics,
        resources,
        env,
        config,
        kit,
        cwd,
        seed_startup,
        seedless,
    ):
        return None, defaults
    if isinstance(command, tuple):
        texts = [("command", a) for a in command]
        texts += [(join("run.env", k), v) for k, v in env.items()]
        if metrics is not None and metrics.path:
            texts.append(("metrics", metrics.path))
        _check_placeholders(m, texts, defaults.keys)
        if not seedless:
            _check_seed_reaches(m, texts, seed_startup=seed_startup)
    elif env:
        _check_placeholders(m, [(join("run.env", k), v) for k, v in env.items()], defaults.keys)
    return (
        RunSpec(
            entrypoint=entrypoint,
            command=command,
            metrics=metrics,
            config=config,
            timeout=timeout,
            resources=resources,
            env=env,
            kit=kit,
            cwd=cwd,
            seed_startup=seed_startup,
            seedless=bool(seedless),
            loc=ctx.loc(node.line),
        ),
        defaults,
    )


#: Programs that start the run's own interpreter (see ``execution/worker.py``).
PYTHONS = ("python", "python3")


def _kit(ctx: SpecContext, m: MapReader, entrypoint: Any) -> Any:
    """``run.kit``: ``module:function`` in the paper folder, checked like the entrypoint."""
    kit = m.string("kit")
    if not isinstance(kit, str):
        return kit
    if not isinstance(entrypoint, str):
        return m.bad(
            "kit",
            "needs entrypoint: (a command: run cannot hand its model to a check)",
            "train through entrypoint: train:run, or remove kit:",
        )
    if not ENTRYPOINT_PATTERN.match(kit):
        return m.bad("kit", f"{kit!r} is not module:function", "write e.g. kit: train:kit")
    module, function = kit.split(":")
    rel = Path(*module.split("."))
    candidates = [ctx.folder / rel.with_suffix(".py"), ctx.folder / rel / "__init__.py"]
    source = next((p for p in candidates if p.is_file()), None)
    if source is None:
        return m.bad(
            "kit",
            f"no module {module!r}: {candidates[0].name} is not in {ctx.shown_folder}",
            f"define def {function}(ctx): returning a SanityKit in {ctx.shown_folder}/{candidates[0].name}",
        )
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        return m.bad(
            "kit", f"{source.name} does not parse: {exc}", f"fix the syntax of {source.name}"
        )
    defined = top_level_names(tree)
    if defined.get(function) != "def":
        functions = sorted(n for n, how in defined.items() if how == "def")
        return m.bad(
            "kit",
            f"{source.name} has no top-level function {function!r}{suggest(function, functions)}",
            f"define def {function}(ctx): in {source.name}, returning pytest_repro.SanityKit(...)",
        )
    return kit


def _command(m: MapReader) -> Any:
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


def _check_seed_reaches(m: MapReader, texts: list[tuple[str, str]], *, seed_startup: bool) -> None:
    """A command must receive its seed; otherwise every seed runs the same thing.

    The seed reaches it through ``{seed}`` in its arguments or in ``run.env``, or through
    ``seed_startup: true``. The ``REPRO_SEED`` variable every run gets is not enough on its
    own: nothing here can tell whether the script reads it, so the spec says so with
    ``env: {MY_SEED: "{seed}"}`` or ``seed_startup``.
    """
    if seed_startup or any("seed" in placeholder_names(text) for _, text in texts):
        return
    m.bad(
        "command",
        "never receives the seed: without {seed} every seed runs the same command, and "
        "n copies of one run would pass for n seeds",
        'pass it: [python, train.py, --seed, "{seed}"]; or env: {SEED: "{seed}"} for a script '
        "that reads a variable; or seed_startup: true to seed python, numpy and torch "
        "before the script starts; or seedless: true for a command with no randomness",
    )


def _check_placeholders(
    m: MapReader, texts: list[tuple[str, str]], config_keys: tuple[str, ...]
) -> None:
    known = (*RESERVED_PLACEHOLDERS, *config_keys)
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
            elif base in BUDGET_PLACEHOLDERS and base not in config_keys:
                m.bad(
                    key,
                    f"{{{name}}} in {text!r} is the smoke budget in smoke mode and "
                    f"run.config.{name} otherwise, but run.config has no {name}",
                    f"add run.config.{name}: {{value: <the paper's budget>, source: ...}}",
                )
            elif base not in known:
                m.bad(
                    key,
                    f"placeholder {{{name}}} is neither a run.config key nor one of "
                    f"{', '.join(RESERVED_PLACEHOLDERS)}{suggest(base, known)}",
                    "add it to run.config, or fix the name",
                )


def _timeout(m: MapReader) -> Any:
    if not m.has("timeout"):
        return None
    raw = m.raw("timeout")
    timeout = parse_duration(raw.value if raw and raw.kind == "scalar" else None)
    if timeout is None:
        m.bad(
            "timeout",
            f"{describe(raw) if raw else ''} is not a duration",
            "write e.g. 90s, 10m, 2h or 1h30m",
        )
    return timeout


def _resources(ctx: SpecContext, m: MapReader) -> Any:
    node = m.mapping("resources")
    if node is None:
        return Resources()
    if node is MISSING:
        return MISSING
    r = MapReader(ctx.ck, node, "run.resources", allowed=RESOURCES_KEYS)
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
    gpu_memory: Any = None
    if r.has("gpu_memory"):
        raw = r.raw("gpu_memory")
        gpu_memory = parse_size(raw.value if raw and raw.kind == "scalar" else None)
        if gpu_memory is None or gpu_memory <= 0:
            gpu_memory = r.bad(
                "gpu_memory",
                f"{describe(raw) if raw else ''} is not a size",
                "write e.g. 20GiB",
            )
        elif gpus == 0:
            gpu_memory = r.bad(
                "gpu_memory",
                "is GPU memory per leased device, but the run leases no GPU",
                "add gpus: 1 (or more), or remove gpu_memory",
            )
    if MISSING in (gpus, threads, memory, gpu_memory):
        return MISSING
    return Resources(
        gpus=gpus, threads=threads, memory=memory, gpu_memory=gpu_memory, loc=ctx.loc(node.line)
    )


def _env(ctx: SpecContext, m: MapReader) -> Any:
    node = m.mapping("env")
    if node is None:
        return {}
    if node is MISSING:
        return MISSING
    out: dict[str, str] = {}
    for key, child in node.value.items():
        if child.kind != "scalar" or child.value is None or isinstance(child.value, bool):
            ctx.ck.problem(
                child.line,
                join("run.env", key),
                f"must be text, got {describe(child)}",
                'quote it: "1"',
            )
            continue
        out[key] = child.raw if child.raw is not None else str(child.value)
    return out
