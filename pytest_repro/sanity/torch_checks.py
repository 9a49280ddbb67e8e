"""The checks that train the paper's model through its :class:`~pytest_repro.sanity.kit.SanityKit`.

Imported only inside a worker, when such a check runs: it imports torch. Each check
takes the kit, its arguments (defaults already filled in by the spec) and the device,
and returns an :class:`Answer`: the numbers it measured and, when it failed, why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

import torch

from pytest_repro.sanity.kit import validate_kit

if TYPE_CHECKING:
    from pytest_repro.execution.protocol import SanityTask
    from pytest_repro.sanity.kit import Batches, SanityKit


@dataclass(slots=True, kw_only=True)
class Answer:
    """What one check measured; ``failure`` is None when it passed."""

    numbers: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None

    def to_json(self, check: str, args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "check": check,
            "args": dict(args),
            "passed": self.failure is None,
            "failure": self.failure,
            "numbers": self.numbers,
        }


def run(check: str, args: Mapping[str, Any], kit: SanityKit, device: str) -> Answer:
    """Run the cooperative check ``check``."""
    return CHECKS[check](kit, args, device)


def answer(task: SanityTask, value: object, device: str) -> dict[str, Any]:
    """The ``evidence["sanity"]`` of a sanity task whose ``run.kit`` returned ``value``."""
    kit = validate_kit(value, kit=task["kit"], check=task["check"], args=task["args"])
    return run(task["check"], task["args"], kit, device).to_json(task["check"], task["args"])


# -- helpers ----------------------------------------------------------------------------------
def _first(batches: Batches, k: int, device: str, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    iterator: Iterator[tuple[torch.Tensor, torch.Tensor]] = iter(batches(k))
    try:
        x, y = next(iterator)
    except StopIteration:
        raise ValueError(f"{what}({k}) yielded no batch") from None
    return x.to(device), y.to(device)


def _model(kit: SanityKit, device: str) -> torch.nn.Module:
    model = kit.model().to(device)
    model.train()
    return model


def _step(
    kit: SanityKit,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
) -> float:
    loss = kit.loss(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(loss)
    optimizer.step()
    return float(loss.detach())


def _classes(kit: SanityKit, args: Mapping[str, Any]) -> int:
    given = args.get("classes")
    classes = given if given is not None else kit.classes
    assert classes is not None  # validate_kit refused a kit without them
    return int(classes)


@torch.no_grad()
def _accuracy(
    model: torch.nn.Module, batches: Batches, limit: int, device: str
) -> tuple[float, int]:
    model.eval()
    correct = seen = 0
    for x, y in batches(min(limit, 256)):
        x, y = x.to(device), y.to(device)
        take = min(len(y), limit - seen)
        pred = model(x[:take]).argmax(dim=1)
        correct += int((pred == y[:take]).sum())
        seen += take
        if seen >= limit:
            break
    model.train()
    return (correct / seen if seen else math.nan), seen


# -- the checks -------------------------------------------------------------------------------
def overfit_tiny_batch(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """k training examples, fit for a step budget: the loss must fall below ``below``.

    The batch is asked of ``train_batches(k)`` at every step, so a pipeline that pairs
    inputs and targets differently on each pass cannot fit it either.
    """
    k, steps, below = int(args["examples"]), int(args["steps"]), float(args["below"])
    model = _model(kit, device)
    optimizer = kit.optimizer(model.parameters())
    first = loss = math.nan
    taken = 0
    for taken in range(1, steps + 1):
        x, y = _first(kit.train_batches, k, device, "train_batches")
        loss = _step(kit, model, optimizer, x, y)
        if taken == 1:
            first = loss
        if loss < below or not math.isfinite(loss):
            break
    numbers = {"examples": k, "initial_loss": first, "loss": loss, "steps": taken, "below": below}
    if loss < below:
        return Answer(numbers=numbers)
    return Answer(
        numbers=numbers,
        failure=f"loss {loss:.3g} after {taken} steps on {k} examples (from {first:.3g}), "
        f"expected < {below:g}; a model that cannot memorise {k} examples will not learn the "
        "task: look at the targets' alignment with the inputs, the loss, the learning rate",
    )


def loss_at_init(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """The untrained model's mean loss on a batch is ln(C) (or ``value``) within ``tolerance``."""
    k, tolerance = int(args["examples"]), float(args["tolerance"])
    model = _model(kit, device)
    x, y = _first(kit.train_batches, k, device, "train_batches")
    with torch.no_grad():
        loss = float(kit.loss(model(x), y))
    if args.get("value") is not None:
        expected, named = float(args["value"]), f"{float(args['value']):.4g}"
    else:
        classes = _classes(kit, args)
        expected, named = math.log(classes), f"ln({classes}) = {math.log(classes):.4g}"
    low, high = expected * (1 - tolerance), expected * (1 + tolerance)
    numbers = {"examples": k, "loss": loss, "expected": expected, "tolerance": tolerance}
    if math.isfinite(loss) and low <= loss <= high:
        return Answer(numbers=numbers)
    return Answer(
        numbers=numbers,
        failure=f"loss of the untrained model {loss:.4g} on {k} examples, expected {named} "
        f"within {tolerance:.0%} ({low:.3g} to {high:.3g}); look for a loss summed instead of "
        "averaged, a model with more or fewer outputs than classes, or an initialisation "
        "that scales the outputs",
    )


def params_update(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """Every parameter of the model changes in one optimizer step (except ``frozen`` patterns)."""
    k = int(args["examples"])
    frozen = [str(p) for p in args.get("frozen") or ()]
    model = _model(kit, device)
    optimizer = kit.optimizer(model.parameters())
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    x, y = _first(kit.train_batches, k, device, "train_batches")
    _step(kit, model, optimizer, x, y)
    still: list[str] = []
    for name, p in model.named_parameters():
        if any(fnmatch(name, pattern) for pattern in frozen):
            continue
        if torch.equal(before[name], p.detach()):
            still.append(name + ("" if p.requires_grad else " (requires_grad=False)"))
    numbers = {"parameters": len(before), "unchanged": len(still), "names": still}
    if not still:
        return Answer(numbers=numbers)
    shown = ", ".join(still[:8]) + (f" and {len(still) - 8} more" if len(still) > 8 else "")
    return Answer(
        numbers=numbers,
        failure=f"{len(still)} of {len(before)} parameters did not change after one optimizer "
        f"step: {shown}; check that the optimizer is built over model.parameters() and that "
        "no layer is frozen by mistake (list intended ones in frozen: [pattern])",
    )


def finite(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """Outputs, loss, gradients and parameters stay finite over the first ``steps`` steps."""
    k, steps = int(args["examples"]), int(args["steps"])
    model = _model(kit, device)
    optimizer = kit.optimizer(model.parameters())
    x, y = _first(kit.train_batches, k, device, "train_batches")
    for step in range(1, steps + 1):
        out = model(x)
        bad = _nonfinite([("the outputs", out)])
        loss = kit.loss(out, y) if bad is None else None
        if bad is None and loss is not None:
            bad = _nonfinite([("the loss", loss)])
        if bad is None and loss is not None:
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            bad = _nonfinite(
                (f"the gradient of {n}", p.grad)
                for n, p in model.named_parameters()
                if p.grad is not None
            )
        if bad is None:
            optimizer.step()
            bad = _nonfinite((f"parameter {n}", p) for n, p in model.named_parameters())
            if bad is not None:
                bad = f"{bad} after the optimizer step"
        if bad is not None:
            return Answer(
                numbers={"examples": k, "steps": step, "first_nonfinite": bad},
                failure=f"{bad} at step {step} of {steps} on {k} examples; "
                "look at the learning rate, the loss's inputs (log of 0, division) and the data",
            )
    return Answer(numbers={"examples": k, "steps": steps})


def _nonfinite(tensors: Any) -> str | None:
    for name, tensor in tensors:
        t = tensor.detach()
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            what = "NaN" if bool(torch.isnan(t).any()) else "Inf"
            return f"{what} in {name}"
    return None


def label_shuffle(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """Trained on k examples with shuffled targets, held-out accuracy stays at chance (1/C).

    Held-out accuracy is read before the first step and after the budget; neither reading
    may exceed chance by more than ``margin``. A fresh model that already scores, or one
    that learns the true labels from shuffled ones, was fit on the held-out examples
    somewhere (a warm start, a checkpoint, features fit on all the data), or the targets
    reach it by another way than the batch (a loss that reads its own labels).
    """
    k, steps, margin = int(args["examples"]), int(args["steps"]), float(args["margin"])
    heldout, classes = int(args["heldout"]), _classes(kit, args)
    batches = kit.heldout_batches
    assert batches is not None  # validate_kit refused a kit without them
    model = _model(kit, device)
    optimizer = kit.optimizer(model.parameters())
    x, y = _first(kit.train_batches, k, device, "train_batches")
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0)).to(y.device)
    shuffled = y[order]
    chance = 1.0 / classes
    checkpoints = (0, steps)
    readings: list[tuple[int, float]] = []
    seen, loss = 0, math.nan
    for step in range(steps + 1):
        if step in checkpoints:
            accuracy, seen = _accuracy(model, batches, heldout, device)
            readings.append((step, accuracy))
        if step < steps:
            loss = _step(kit, model, optimizer, x, shuffled)
    numbers = {
        "examples": k,
        "steps": steps,
        "loss": loss,
        "heldout": seen,
        "chance": chance,
        "margin": margin,
        "heldout_accuracy": {str(step): acc for step, acc in readings},
    }
    if not seen:
        return Answer(numbers=numbers, failure="heldout_batches yielded no examples")
    for step, accuracy in readings:
        if not accuracy <= chance + margin:
            when = "before any training" if step == 0 else f"after {step} of {steps} steps"
            return Answer(
                numbers=numbers,
                failure=f"held-out accuracy {accuracy:.1%} on {seen} examples {when} on {k} "
                f"examples with shuffled labels, expected at most {chance + margin:.1%} "
                f"(chance {chance:.1%} + margin {margin:g}); a model taught nothing true "
                "should know nothing: look for weights or features fit on the held-out "
                "examples (a warm start, a checkpoint), or targets that reach the loss "
                "another way than through the batch",
            )
    return Answer(numbers=numbers)


def forward_pass(kit: SanityKit, args: Mapping[str, Any], device: str) -> Answer:
    """The model's forward pass and loss on one training batch, without an optimizer step:
    the first stage of a smoke run (internal, not a check a paper lists in ``sanity:``)."""
    k = int(args.get("examples", 16))
    model = _model(kit, device)
    x, y = _first(kit.train_batches, k, device, "train_batches")
    with torch.no_grad():
        out = model(x)
        loss = float(kit.loss(out, y))
    numbers = {"examples": len(y), "loss": loss, "outputs": list(out.shape)}
    if math.isfinite(loss):
        return Answer(numbers=numbers)
    return Answer(numbers=numbers, failure=f"the loss of one forward pass is {loss}")


CHECKS: Mapping[str, Callable[[SanityKit, Mapping[str, Any], str], Answer]] = {
    "overfit_tiny_batch": overfit_tiny_batch,
    "loss_at_init": loss_at_init,
    "params_update": params_update,
    "finite": finite,
    "label_shuffle": label_shuffle,
    "forward_pass": forward_pass,
}

__all__ = ["CHECKS", "Answer", "answer", "run"]
