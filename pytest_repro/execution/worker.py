"""The worker side of run execution.

A worker is a long-lived process (``python -m pytest_repro.execution.worker FD``)
that reads one JSON task per line on stdin and writes one JSON result per line to
file descriptor ``FD``. Keeping it alive between runs means heavy imports (torch)
are paid once per worker, not once per run.

During a run the worker's stdout and stderr (file descriptors 1 and 2, so C
libraries and child processes too) go to ``run_dir/repro-output.log``; that file
survives a crash, so the parent can show the last lines of a run that died.

This module imports only the standard library at load time: it also runs in
isolated per-paper environments that may lack pytest and PyYAML.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from pytest_repro.execution import processes, startup
from pytest_repro.execution.context import RunContext
from pytest_repro.execution.datacache import DataCache
from pytest_repro.execution.evidence import after_run_evidence, reset_cuda_peak
from pytest_repro.execution.protocol import Ready, Reply, SanityTask, Task
from pytest_repro.vocab import RunStatus

OUTPUT_FILE = "repro-output.log"


def main(argv: list[str]) -> int:
    result_fd = int(argv[1])
    processes.watch_parent()
    processes.become_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when runs stop
    state = _WorkerState()
    _warm_up()
    with os.fdopen(result_fd, "w", encoding="utf-8", buffering=1) as results:
        ready: Ready = {"ready": True, "pid": os.getpid()}
        results.write(json.dumps(ready) + "\n")
        for line in sys.stdin:
            if not line.strip():
                continue
            task = json.loads(line)
            if task.get("type") == "exit":
                break
            reply = execute(task, state)
            results.write(json.dumps(reply, default=str) + "\n")
    return 0


class _WorkerState:
    """What a worker keeps between runs: which paper folder is on ``sys.path``."""

    def __init__(self) -> None:
        self.paper_dir: str | None = None
        self.upstream: tuple[str, ...] = ()
        #: data loaded by earlier runs, handed on when nothing would differ.
        self.data = DataCache()

    def enter_paper(self, paper_dir: str, upstream: tuple[str, ...] = ()) -> None:
        """Make ``paper_dir`` the import root, with none of its modules imported yet.

        Every run imports the paper's own modules afresh, so module-level state
        (a global drawn from the RNG at import, a cache) is created under this run's
        seed and never leaks from the previous run; two papers may both have
        ``train.py``. Third-party imports (torch, numpy) stay warm: they live outside
        the paper folder.
        """
        for folder in {self.paper_dir, paper_dir, *self.upstream, *upstream} - {None}:
            forget_modules_under(str(folder))
        for old in (self.paper_dir, *self.upstream):
            if old is not None and old != paper_dir and old not in upstream:
                with contextlib.suppress(ValueError):
                    sys.path.remove(old)
        for folder in (*reversed(upstream), paper_dir):  # the paper folder first, then upstream
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
            sys.path.insert(0, folder)
        importlib.invalidate_caches()
        self.paper_dir = paper_dir
        self.upstream = upstream


def forget_modules_under(folder: str) -> None:
    """Drop a folder's modules from ``sys.modules`` so the next import runs them again.

    Modules imported from the folder carry its path (as put on ``sys.path``, or resolved)
    as a prefix of ``__file__``; a prefix test keeps this cheap with torch's ~2000 modules.
    """
    roots = tuple({os.path.join(folder, ""), os.path.join(os.path.realpath(folder), "")})
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(roots):
            del sys.modules[name]


def _warm_up() -> None:
    """Import numpy once, before the first run starts, so it is not counted in any run's
    wall time. Torch is not imported here: a worker of a paper that never imports it must
    not hold libtorch (its memory would count against nothing and slow every start); a run
    that imports torch gets it seeded at that moment (:func:`_seed`)."""
    from pytest_repro import seeding

    with contextlib.suppress(Exception):
        seeding.seed_everything(0, torch=False)


def execute(task: Task, state: _WorkerState | None = None) -> Reply:
    """Run one task in a worker process, its output redirected to the run folder.

    A run's exception is data, not an error of the worker: nothing is raised.
    """
    reply, _ = _execute(task, state or _WorkerState(), redirect=True, in_process=False)
    ended = processes.end_strays()
    if ended:
        reply["evidence"]["strays_ended"] = ended
    return reply


def execute_in_process(task: Task, state: _WorkerState) -> tuple[Reply, BaseException | None]:
    """Run one task in pytest's own process (``--repro-inprocess``).

    Ctrl-C propagates, and the run's exception is returned beside the reply so that
    ``--pdb`` can stop in the paper's code.
    """
    return _execute(task, state, redirect=False, in_process=True)


def _execute(
    task: Task, state: _WorkerState, *, redirect: bool, in_process: bool
) -> tuple[Reply, BaseException | None]:
    run_dir = Path(task["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    evidence: dict[str, Any] = {"pid": os.getpid(), "python_executable": sys.executable}
    status: RunStatus = "ok"
    error: str | None = None
    tb: str | None = None
    caught: BaseException | None = None
    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    try:
        with _redirected(run_dir / OUTPUT_FILE, enabled=redirect):
            try:
                _prepare(task, state, evidence)
                reset_cuda_peak()
                if task.get("type") == "sanity":
                    _run_sanity(cast(SanityTask, task), evidence, state.data)
                elif task.get("entrypoint"):
                    _call_entrypoint(task, evidence, state.data)
                else:
                    _run_command(task, evidence)
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    status, error = "failed", f"the run called sys.exit({exc.code!r})"
                    tb = user_traceback(exc)
            except MemoryError as exc:
                status = "failed"
                limit = task.get("memory")
                error = "MemoryError" + (
                    f": the run exceeded its memory limit of {_size(limit)}" if limit else ""
                )
                tb = user_traceback(exc)
            except KeyboardInterrupt:
                if in_process:
                    raise
                status, error = "failed", "KeyboardInterrupt"
            except BaseException as exc:
                status, error = "failed", describe_exception(exc)
                try:
                    tb = user_traceback(exc)
                except Exception:  # a broken __str__ or __repr__ in the paper's exception
                    tb = f"{error} (its traceback could not be formatted)"
                caught = exc
            if tb:
                sys.stderr.write(tb)
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        startup.remove_hooks()
        os.environ.clear()
        os.environ.update(saved_environ)
        with contextlib.suppress(OSError):
            os.chdir(saved_cwd)
    evidence.update(after_run_evidence(task))
    reply: Reply = {
        "status": status,
        "error": error,
        "traceback": tb,
        "evidence": evidence,
        "started_at": started,
        "ended_at": time.time(),
    }
    return reply, caught


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, also for an exception whose ``__str__`` itself raises."""
    try:
        text = str(exc)
    except Exception as inner:
        text = f"<its message could not be shown: {type(inner).__name__} in __str__>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_traceback(exc: BaseException) -> str:
    """The traceback of a run's exception without pytest-repro's own frames: only the paper's code."""
    te = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    stack: traceback.TracebackException | None = te
    while stack is not None and id(stack) not in seen:
        seen.add(id(stack))
        frames = [
            f for f in stack.stack if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)
        ]
        stack.stack = traceback.StackSummary.from_list(frames)
        stack = stack.__cause__ or stack.__context__
    return "".join(te.format())


def run_environment(task: Task) -> dict[str, str]:
    """The variables every run gets, then ``run.env`` (placeholders filled in) over them.

    A script with no ``--seed`` flag can read ``REPRO_SEED``; one with no step flag can
    read ``REPRO_MAX_STEPS`` (set only when there is a budget: smoke mode or a sanity run).
    """
    env = {
        "REPRO_SEED": str(task["seed"]),
        "REPRO_SMOKE": "1" if task.get("smoke") else "0",
        "REPRO_RUN_DIR": task["run_dir"],
        "REPRO_PAPER_DIR": task["paper_dir"],
        "REPRO_DEVICE": str(task.get("device", "cpu")),
        "REPRO_DETERMINISTIC": str(task.get("deterministic", "off")),
    }
    if task.get("max_steps") is not None:
        env["REPRO_MAX_STEPS"] = str(task["max_steps"])
    env.update({key: str(value) for key, value in dict(task.get("env") or {}).items()})
    return env


def _prepare(task: Task, state: _WorkerState, evidence: dict[str, Any]) -> None:

    os.environ.update(run_environment(task))
    cwd = task.get("cwd") or task["paper_dir"]
    os.chdir(cwd)
    evidence["cwd"] = cwd
    upstream = tuple(task.get("upstream_paths") or ())
    if upstream:  # a command's python finds the checkouts too
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [*upstream, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    state.enter_paper(task["paper_dir"], upstream)
    _seed(task, evidence)


def _seed(task: Task, evidence: dict[str, Any]) -> None:
    """Seed every generator now, torch when the run imports it if it is not loaded yet."""
    from pytest_repro import seeding

    seed, mode = int(task["seed"]), task.get("deterministic", "off")
    threads = int(task.get("threads") or 1)
    loaded = "torch" in sys.modules
    seeded = seeding.seed_everything(seed, deterministic=mode, torch=None if loaded else False)
    report = seeded.report.to_json()
    evidence["seeding"] = report
    evidence["threads"] = {
        "requested": threads,
        "torch": None,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    if loaded:
        torch = sys.modules["torch"]
        torch.set_num_threads(threads)
        evidence["threads"]["torch"] = torch.get_num_threads()
    elif importlib.util.find_spec("torch") is not None:

        def seeded_on_import(torch: Any, settings: dict[str, Any]) -> None:
            report["generators"] = [*report.get("generators", []), "torch (on import)"]
            report["settings"] = settings
            evidence["threads"]["torch"] = torch.get_num_threads()

        startup.seed_torch_on_import(seed, mode, threads=threads, on_seed=seeded_on_import)


def _function(text: str) -> Any:
    module_name, function_name = text.split(":")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AttributeError(
            f"module {module_name} ({getattr(module, '__file__', '?')}) has no function {function_name}"
        )
    return function


def _paper_function(task: Task, text: str) -> Any:
    """``module:function`` of the paper folder; a module from elsewhere only when trusted."""
    function = _function(text)
    module = sys.modules.get(text.split(":")[0])
    file = os.path.realpath(getattr(module, "__file__", None) or "")
    roots = tuple(
        os.path.join(os.path.realpath(folder), "")
        for folder in (task["paper_dir"], *(task.get("upstream_paths") or ()))
    )
    if not file.startswith(roots) and text not in (task.get("trusted") or ()):
        raise PermissionError(
            f"{text} is not code of the paper folder ({file or 'no file'}); "
            "list it under trusted: in paper.yaml if you trust it"
        )
    return function


def _call_entrypoint(task: Task, evidence: dict[str, Any], cache: DataCache) -> None:
    function = _paper_function(task, str(task["entrypoint"]))
    data_log: dict[str, Any] = {}
    warm: list[str] = []
    evidence["data_warm"] = warm
    ctx = _context(task, data_log, cache, warm)
    evidence["data"] = data_log
    try:
        function(ctx)
    finally:
        ctx.close()
    evidence["points_logged"] = ctx.logged


def _run_sanity(task: SanityTask, evidence: dict[str, Any], cache: DataCache) -> None:
    """Call ``run.kit`` and run the check on what it returns (torch is imported here, not before)."""
    from pytest_repro.sanity.torch_checks import answer

    data_log: dict[str, Any] = {}
    warm: list[str] = []
    evidence["data_warm"] = warm
    ctx = _context(task, data_log, cache, warm)
    evidence["data"] = data_log
    try:
        evidence["sanity"] = answer(task, _paper_function(task, task["kit"])(ctx), ctx.device)
    finally:
        ctx.close()


def _context(
    task: Task, data_log: dict[str, Any], cache: DataCache, warm_hits: list[str]
) -> RunContext:
    return RunContext(
        seed=int(task["seed"]),
        config=task["config"],
        run_dir=Path(task["run_dir"]),
        paper_dir=Path(task["paper_dir"]),
        device=task.get("device", "cpu"),
        smoke=bool(task.get("smoke")),
        max_steps=task.get("max_steps"),
        data_loader=_data_loader(task, data_log, cache, warm_hits),
    )


def _data_loader(task: Task, log: dict[str, Any], warm: DataCache, warm_hits: list[str]) -> Any:
    sources = {s["name"]: s for s in task.get("data_sources") or ()}
    cache: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name in cache:
            return cache[name]
        if name not in sources:
            known = ", ".join(sources) or "none"
            raise KeyError(
                f"ctx.data({name!r}): paper.yaml has no data source {name!r} (it has: {known})"
            )

        def fresh() -> tuple[Any, dict[str, Any]]:
            from pytest_repro import data
            from pytest_repro.spec.serial import data_source_from_json

            value, fingerprint = data.load(
                data_source_from_json(sources[name]), Path(task["paper_dir"])
            )
            return value, fingerprint.to_json()

        key = warm.key(sources[name], task["paper_dir"])
        value, fingerprint, hit = warm.load(key, fresh)
        log[name] = fingerprint
        if hit:  # recorded beside the data: handed on from an earlier run of this worker
            warm_hits.append(name)
        cache[name] = value
        return value

    return load


def _run_command(task: Task, evidence: dict[str, Any]) -> None:
    command = task["command"] or []
    argv = [str(a) for a in command]
    if argv and argv[0] in ("python", "python3"):
        # The run's interpreter (its venv under --repro-env=isolate), not whatever PATH finds first.
        argv[0] = sys.executable
    evidence["argv"] = argv
    if task.get("seed_startup") and argv and argv[0] == sys.executable:
        argv = startup.wrap(argv)
        evidence["seed_startup"] = True
    sys.stdout.flush()
    sys.stderr.flush()
    proc = subprocess.run(
        argv,
        cwd=task.get("cwd") or task["paper_dir"],
        stdin=subprocess.DEVNULL,
        check=False,
    )
    evidence["exit_code"] = proc.returncode
    if proc.returncode != 0:
        if proc.returncode < 0:
            raise RuntimeError(
                f"command {command[0]} was killed by {_signal_name(-proc.returncode)}"
            )
        raise RuntimeError(f"command {command[0]} exited with status {proc.returncode}")


@contextlib.contextmanager
def _redirected(path: Path, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _size(n: int) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} B"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
