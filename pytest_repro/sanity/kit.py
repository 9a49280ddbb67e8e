"""What a paper hands to the sanity checks that train its model: a :class:`SanityKit`.

``run.kit: train:kit`` names a function of the paper folder that takes the run context
and returns a kit built from the paper's own model, data and loss code::

    from pytest_repro import SanityKit

    def kit(ctx):
        x, y, x_test, y_test = load(ctx)
        return SanityKit(
            model=lambda: build_model(ctx.config),            # fresh; the worker seeded torch
            train_batches=lambda k: batches(x, y, k),         # in order, size k
            heldout_batches=lambda k: batches(x_test, y_test, k),
            loss=nn.CrossEntropyLoss(),
            optimizer=lambda params: torch.optim.Adam(params, lr=ctx.config["lr"]),
            classes=10,
        )

Importing this module does not import torch: the plugin reads it at load time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_repro.errors import ReproError

if TYPE_CHECKING:
    import torch

    Batches = Callable[[int], Iterator[tuple[torch.Tensor, torch.Tensor]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SanityKit:
    """The paper's training parts, as the cooperative sanity checks need them.

    Attributes:
        model: makes a fresh model; the worker seeded torch, so each call starts alike.
        train_batches: ``train_batches(k)`` yields ``(inputs, targets)`` batches of k
            training examples, in the same order on every call.
        loss: ``loss(outputs, targets)`` is a scalar tensor (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: ``optimizer(params)`` builds the paper's optimizer over ``params``.
        heldout_batches: like ``train_batches`` on examples never trained on (the test or
            validation split); needed by ``label_shuffle``.
        classes: the number of classes of a classifier; ``loss_at_init`` and
            ``label_shuffle`` read chance from it (or from their ``classes:`` argument).
    """

    model: Callable[[], torch.nn.Module]
    train_batches: Batches
    loss: Callable[[Any, Any], torch.Tensor]
    optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
    heldout_batches: Batches | None = None
    classes: int | None = None


class KitError(ReproError, TypeError):
    """``run.kit`` returned something the checks cannot use; ``missing`` names what."""

    def __init__(self, message: str, *, kit: str, missing: str = "") -> None:
        super().__init__(message)
        self.kit = kit
        self.missing = missing


_CALLABLES = ("model", "train_batches", "loss", "optimizer")


def validate_kit(
    value: object, *, kit: str, check: str, args: Mapping[str, Any] | None = None
) -> SanityKit:
    """``value`` as a :class:`SanityKit` that ``check`` can use, or :class:`KitError` saying why not.

    ``kit`` is the ``run.kit`` text, named in every message; ``args`` are the check's
    arguments (its ``classes:`` stands in for the kit's, a ``value:`` for ln C).
    """
    args = args or {}
    classes = args.get("classes")
    needs_classes = check == "label_shuffle" or (
        check == "loss_at_init" and args.get("value") is None
    )
    if not isinstance(value, SanityKit):
        raise KitError(
            f"run.kit {kit} returned {type(value).__name__}, not a SanityKit; "
            "return pytest_repro.SanityKit(model=..., train_batches=..., loss=..., optimizer=...)",
            kit=kit,
            missing="SanityKit",
        )
    for name in _CALLABLES:
        if not callable(getattr(value, name)):
            raise KitError(
                f"run.kit {kit}: {name} is {type(getattr(value, name)).__name__}, not a function",
                kit=kit,
                missing=name,
            )
    if value.heldout_batches is not None and not callable(value.heldout_batches):
        raise KitError(
            f"run.kit {kit}: heldout_batches is {type(value.heldout_batches).__name__}, "
            "not a function",
            kit=kit,
            missing="heldout_batches",
        )
    if value.classes is not None and (
        isinstance(value.classes, bool) or not isinstance(value.classes, int) or value.classes < 2
    ):
        raise KitError(
            f"run.kit {kit}: classes={value.classes!r} must be a whole number >= 2, or None",
            kit=kit,
            missing="classes",
        )
    if check == "label_shuffle" and value.heldout_batches is None:
        raise KitError(
            f"label_shuffle needs heldout_batches in run.kit {kit}: "
            "the accuracy of a model trained on shuffled labels is read on held-out examples",
            kit=kit,
            missing="heldout_batches",
        )
    if needs_classes and classes is None and value.classes is None:
        raise KitError(
            f"{check} needs the number of classes: give classes= in run.kit {kit}, "
            f"or {{{check}: {{classes: N}}}} in sanity:"
            + (" (or value: the loss you expect)" if check == "loss_at_init" else ""),
            kit=kit,
            missing="classes",
        )
    return value


__all__ = ["KitError", "SanityKit", "validate_kit"]
