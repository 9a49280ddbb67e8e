"""Seeds as recorded facts of a run.

:func:`seed_everything` seeds every global generator a paper's code may draw from
(python's ``random``, numpy's legacy global state, torch on CPU and CUDA), sets
torch's determinism switches to the paper's mode, and returns what it did as a
:class:`SeedReport` that goes into the run's evidence::

    seeded = seed_everything(ctx.seed, deterministic="on")
    x = seeded.numpy.normal(size=3)          # a fresh Generator, seeded from the seed
    evidence["seeding"] = seeded.report.to_json()

Torch is imported only when it is installed and wanted (``torch=None``/``True``);
importing this module imports neither numpy's heavy friends nor torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch as torch_module

from pytest_repro.vocab import DETERMINISTIC_MODES
from pytest_repro.vocab import Deterministic as DeterministicMode

#: cuBLAS needs a fixed workspace configuration to be deterministic; it reads the variable
#: when its first handle is created, so it must be in the environment before CUDA starts.
CUBLAS_WORKSPACE_CONFIG = ":4096:8"

_MAX_SEED = 2**32  # numpy's legacy global state takes seeds in [0, 2**32)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedReport:
    """What :func:`seed_everything` did: the seed, the generators it seeded and the
    determinism settings it applied (read back from torch after setting them)."""

    seed: int
    generators: tuple[str, ...]
    deterministic: DeterministicMode
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "generators": list(self.generators),
            "deterministic": self.deterministic,
            "settings": dict(self.settings),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Seeded:
    """The result of :func:`seed_everything`.

    ``numpy`` is a fresh ``numpy.random.Generator`` seeded from the seed (prefer it
    over the global state), or None where numpy is not installed; ``torch`` is a
    ``torch.Generator`` seeded likewise, or None when torch was not touched.
    """

    seed: int
    numpy: np.random.Generator | None
    torch: torch_module.Generator | None
    report: SeedReport


def seed_everything(
    seed: int,
    *,
    deterministic: DeterministicMode = "off",
    torch: bool | None = None,
) -> Seeded:
    """Seed python ``random``, numpy's global state and torch (CPU and CUDA).

    ``torch=None`` seeds torch when it is importable, even if nothing imported it
    yet: a paper that imports torch later would otherwise draw from torch's fixed
    default seed whatever the run's seed. ``torch=False`` leaves torch alone (and
    does not import it); ``torch=True`` requires it.

    ``deterministic`` is applied every time, "off" included, because worker
    processes are reused between papers and must not keep a previous paper's mode:

    - ``"on"``: ``torch.use_deterministic_algorithms(True)``; cuDNN deterministic,
      benchmark off. An op without a deterministic implementation raises.
    - ``"warn"``: the same, but such an op only warns (``warn_only=True``).
    - ``"off"``: torch's defaults (non-deterministic algorithms allowed, cuDNN
      benchmark off).

    In "on"/"warn", ``CUBLAS_WORKSPACE_CONFIG`` is set to ``:4096:8`` when it is unset
    and CUDA has not started yet (the executor sets it before spawning workers; see
    :func:`deterministic_env`).
    """
    seed = _check_seed(seed)
    if deterministic not in DETERMINISTIC_MODES:
        raise ValueError(
            f"deterministic={deterministic!r}: expected one of {', '.join(DETERMINISTIC_MODES)}"
        )
    try:
        import numpy as np
    except ImportError:  # an isolated paper environment without numpy
        np = None  # type: ignore[assignment]

    random.seed(seed)
    generators: list[str] = ["python"]
    if np is not None:
        np.random.seed(seed)
        generators.append("numpy")
    settings: dict[str, Any] = {}
    torch_generator: torch_module.Generator | None = None

    tm = _torch_module(torch)
    if tm is not None:
        tm.manual_seed(seed)  # CPU, and every CUDA device (lazily, once CUDA starts)
        generators.append("torch")
        if tm.cuda.is_available():
            tm.cuda.manual_seed_all(seed)
            generators.append("torch.cuda")
        mps = getattr(tm.backends, "mps", None)
        if mps is not None and mps.is_available():
            tm.mps.manual_seed(seed)
            generators.append("torch.mps")
        torch_generator = tm.Generator()
        torch_generator.manual_seed(seed)
        settings = apply_torch_determinism(tm, deterministic)
    return Seeded(
        seed=seed,
        numpy=np.random.default_rng(seed) if np is not None else None,
        torch=torch_generator,
        report=SeedReport(
            seed=seed,
            generators=tuple(generators),
            deterministic=deterministic,
            settings=settings,
        ),
    )


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed={seed!r}: a seed is an int in [0, 2**32)")
    if not 0 <= seed < _MAX_SEED:
        raise ValueError(
            f"seed={seed}: a seed is an int in [0, 2**32) (numpy's global state takes no other); "
            "map larger values with derive_seed(...)"
        )
    return seed


def _torch_module(wanted: bool | None) -> Any:
    """torch when it is wanted and installed, else None (never imported when not wanted)."""
    if wanted is False:
        return None
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        if wanted:
            raise ModuleNotFoundError(
                "seed_everything(torch=True): torch is not installed; "
                "pip install torch, or pass torch=None to seed it only when present"
            )
        return None
    import torch

    return torch


def apply_torch_determinism(tm: Any, mode: DeterministicMode) -> dict[str, Any]:
    cudnn = tm.backends.cudnn
    if mode == "off":
        tm.use_deterministic_algorithms(False)
        cudnn.deterministic = False
        cudnn.benchmark = False
    else:
        if os.environ.get("CUBLAS_WORKSPACE_CONFIG") is None and not tm.cuda.is_initialized():
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE_CONFIG
        tm.use_deterministic_algorithms(True, warn_only=(mode == "warn"))
        cudnn.deterministic = True
        cudnn.benchmark = False
    return {
        "torch.use_deterministic_algorithms": bool(tm.are_deterministic_algorithms_enabled()),
        "warn_only": bool(tm.is_deterministic_algorithms_warn_only_enabled()),
        "torch.backends.cudnn.deterministic": bool(cudnn.deterministic),
        "torch.backends.cudnn.benchmark": bool(cudnn.benchmark),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def deterministic_env() -> dict[str, str]:
    """Environment variables to set before a worker starts (so before CUDA starts).

    ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` makes cuBLAS deterministic; ``PYTHONHASHSEED=0``
    makes iteration over sets of strings the same in every process (python reads it
    only at start-up). Variables already set in this process are left as they are,
    so a user's own choice wins. The executor merges the result into a worker's
    environment.
    """
    wanted = {"CUBLAS_WORKSPACE_CONFIG": CUBLAS_WORKSPACE_CONFIG, "PYTHONHASHSEED": "0"}
    return {name: value for name, value in wanted.items() if name not in os.environ}


def derive_seed(*parts: str | int) -> int:
    """A stable seed in ``[0, 2**32)`` from its parts, the same in every process and
    on every platform (sha256 of a canonical encoding; python's ``hash()`` is salted
    per process)::

        derive_seed("1611.03530", "random-labels-fit", 3)
    """
    encoded: list[list[str | int]] = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise TypeError(f"derive_seed: parts are str or int, got {part!r}")
        encoded.append(["s", part] if isinstance(part, str) else ["i", part])
    text = json.dumps(encoded, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big")


# -- DataLoader ---------------------------------------------------------------------------


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for ``torch.utils.data.DataLoader``: seeds python ``random``
    and numpy's global state in each worker from the worker's torch seed (which the
    loader derives from its generator and the worker id), so augmentations drawn
    with ``random``/``numpy`` differ between workers and repeat between runs."""
    import numpy as np
    import torch

    worker_seed = torch.initial_seed() % _MAX_SEED
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def dataloader_seeding(seed: int) -> dict[str, Any]:
    """Keyword arguments that make a ``DataLoader``'s shuffling and its workers' random
    draws a function of ``seed``::

        loader = DataLoader(dataset, shuffle=True, num_workers=2, **dataloader_seeding(ctx.seed))
    """
    import torch

    generator = torch.Generator()
    generator.manual_seed(_check_seed(seed))
    return {"worker_init_fn": seed_worker, "generator": generator}


# -- capture / restore --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RngState:
    """A snapshot of the global generators, for :func:`restore_rng_state`.

    ``torch`` is None when torch was not imported at capture time (nothing can have
    drawn from it); ``torch_cuda`` is None unless CUDA had started.
    """

    python: Any
    numpy: Any
    torch: Any = None
    torch_cuda: Any = None


def capture_rng_state() -> RngState:
    """Snapshot python ``random``, numpy's global state and, when torch is already
    imported, torch's CPU generator (and the CUDA generators once CUDA has started).

    Never imports torch and never starts CUDA."""
    import numpy as np

    torch_state: Any = None
    cuda_state: Any = None
    tm = sys.modules.get("torch")
    if tm is not None:
        torch_state = tm.get_rng_state()
        if tm.cuda.is_available() and tm.cuda.is_initialized():
            cuda_state = tm.cuda.get_rng_state_all()
    return RngState(
        python=random.getstate(),
        numpy=np.random.get_state(legacy=False),
        torch=torch_state,
        torch_cuda=cuda_state,
    )


def restore_rng_state(state: RngState) -> None:
    """Put the global generators back as :func:`capture_rng_state` found them."""
    import numpy as np

    random.setstate(state.python)
    np.random.set_state(state.numpy)
    if state.torch is not None:
        tm = sys.modules["torch"]
        tm.set_rng_state(state.torch)
        if state.torch_cuda is not None:
            tm.cuda.set_rng_state_all(state.torch_cuda)
