"""Start-up seeding for ``python`` commands (``run.seed_startup: true``).

Research scripts often have no ``--seed`` flag and seed nothing, or seed only some of
their generators. With ``seed_startup``, the worker starts such a command as::

    python [interpreter options] -m pytest_repro.execution.startup train.py --lr 0.1

which seeds python's ``random``, numpy's global state and torch (when installed) from
``REPRO_SEED`` (torch when the script imports it, so a numpy script does not pay for
torch), applies ``REPRO_DETERMINISTIC``, and then runs the script exactly as
``python train.py --lr 0.1`` would: same ``sys.argv``, same ``sys.path[0]``, run as
``__main__``. ``-m module`` and ``-c code`` are handled the same way.

Standard library only at import (seeding imports numpy and torch when they are installed).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import runpy
import sys
from typing import Any, cast

#: Interpreter options that take the next argument as their value.
_OPTIONS_WITH_VALUE = ("-W", "-X")


def script_index(argv: list[str]) -> int | None:
    """Where the script is in ``[python, *options, script, ...]``; None for ``-m``/``-c``/``-``."""
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in ("-m", "-c", "-"):
            return None
        i += 2 if argv[i] in _OPTIONS_WITH_VALUE else 1
    return i if i < len(argv) else None


def wrap(argv: list[str]) -> list[str]:
    """``[python, *options, target...]`` → the same command started through this module."""
    python, rest = argv[0], argv[1:]
    options: list[str] = []
    while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c", "-"):
        option = rest.pop(0)
        options.append(option)
        if option in _OPTIONS_WITH_VALUE and rest:
            options.append(rest.pop(0))
    return [python, *options, "-m", __name__, *rest]


class _SeedTorchOnImport(importlib.abc.MetaPathFinder):
    """Seeds torch the moment the script imports it: a script that never imports torch
    does not pay its start-up, and one that does draws from the run's seed."""

    def __init__(
        self, seed: int, mode: str, threads: int | None = None, on_seed: Any = None
    ) -> None:
        self.seed, self.mode, self.threads, self.on_seed = seed, mode, threads, on_seed

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader, hook = spec.loader, self

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)
                hook.seed_torch(module)

        spec.loader = _Loader()
        return spec

    def seed_torch(self, torch: Any) -> None:
        from pytest_repro import seeding

        torch.manual_seed(self.seed)
        settings = seeding.apply_torch_determinism(torch, cast(Any, self.mode))
        if self.threads:
            torch.set_num_threads(self.threads)
        if self.on_seed is not None:
            self.on_seed(torch, settings)


def seed_torch_on_import(
    seed: int, mode: str, *, threads: int | None = None, on_seed: Any = None
) -> None:
    """Seed torch (and set its threads) the moment it is imported; see :func:`remove_hooks`."""
    remove_hooks()
    sys.meta_path.insert(0, _SeedTorchOnImport(seed, mode, threads, on_seed))


def remove_hooks() -> None:
    """Remove a torch hook that was not triggered (the run never imported torch)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SeedTorchOnImport)]


def main(args: list[str]) -> None:
    """Seed, then run ``args`` (``script ...``, ``-m module ...`` or ``-c code ...``)."""
    from pytest_repro import seeding
    from pytest_repro.vocab import DETERMINISTIC_MODES

    seed = int(os.environ.get("REPRO_SEED", "0"))
    mode = os.environ.get("REPRO_DETERMINISTIC", "off")
    mode = mode if mode in DETERMINISTIC_MODES else "off"
    seeding.seed_everything(seed, deterministic=cast(Any, mode), torch=False)
    if "torch" in sys.modules:
        _SeedTorchOnImport(seed, mode).seed_torch(sys.modules["torch"])
    elif importlib.util.find_spec("torch") is not None:
        sys.meta_path.insert(0, _SeedTorchOnImport(seed, mode))
    if not args:
        raise SystemExit("pytest_repro.execution.startup: no script to run")
    if args[0] == "-m" and len(args) > 1:
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    elif args[0] == "-c" and len(args) > 1:
        sys.argv = ["-c", *args[2:]]
        code = compile(args[1], "<string>", "exec")
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    else:
        script = args[0]
        sys.argv = list(args)
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
