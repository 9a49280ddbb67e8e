"""Randomization test: an MLP 1x512 trained on true labels and on random labels.

With ``random_labels: true`` every training label is replaced by a uniformly random
class, drawn once per run from the run's seed; test labels stay true. Train and
test accuracy are logged every ``eval_every`` epochs and after the last.
"""

from __future__ import annotations

import torch
from torch import nn


def build_mlp(n_in: int, hidden: int, depth: int, classes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def standardize(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(1, keepdim=True)
    std = x.std(1, keepdim=True).clamp_min(1.0 / x.shape[1] ** 0.5)
    return (x - mean) / std


@torch.no_grad()
def correct_on(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
) -> torch.Tensor:
    model.eval()
    out = torch.cat(
        [model(x[i : i + batch]).argmax(1) == y[i : i + batch] for i in range(0, len(y), batch)]
    )
    model.train()
    return out.to(torch.float64)


def load_tensors(ctx) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Preprocessed train and test images, their true labels, and the class count."""
    cfg = ctx.config
    data = ctx.data("mnist")
    device = ctx.device
    x = torch.as_tensor(data["x"], device=device)
    x_test = torch.as_tensor(data["x_test"], device=device)
    if cfg["standardize"] == "per-image":  # each image to zero mean, unit variance
        x, x_test = standardize(x), standardize(x_test)
    elif cfg["standardize"] == "center":  # subtract the training mean image
        mean = x.mean(0, keepdim=True)
        x, x_test = x - mean, x_test - mean
    else:
        raise ValueError(f"standardize={cfg['standardize']!r}: expected 'per-image' or 'center'")
    y_true = torch.as_tensor(data["y"], device=device)
    y_test = torch.as_tensor(data["y_test"], device=device)
    classes = int(y_true.max().item()) + 1
    return x, y_true, x_test, y_test, classes


def make_optimizer(cfg, params) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"]
    )


def run(ctx) -> None:
    cfg = ctx.config
    device = ctx.device
    x, y_true, x_test, y_test, classes = load_tensors(ctx)
    if cfg["random_labels"]:
        y = torch.as_tensor(
            ctx.rng.integers(0, classes, size=len(y_true)), dtype=torch.long, device=device
        )
    else:
        y = y_true

    model = build_mlp(x.shape[1], cfg["hidden"], cfg["depth"], classes).to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    shuffler = torch.Generator().manual_seed(ctx.seed)

    n, batch = len(y), cfg["batch_size"]
    step = 0
    for epoch in range(1, cfg["epochs"] + 1):
        order = torch.randperm(n, generator=shuffler).to(device)
        total, seen = 0.0, 0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            step += 1
            # the paper's per-epoch decay, counted in CIFAR-10 epochs
            if step % cfg["lr_decay_every"] == 0:
                for group in optimizer.param_groups:
                    group["lr"] *= cfg["lr_decay"]
            if ctx.budget_spent(step):
                break
        stop = ctx.budget_spent(step)
        if epoch % cfg["eval_every"] == 0 or epoch == cfg["epochs"] or stop:
            test_correct = correct_on(model, x_test, y_test)
            ctx.log(
                epoch=epoch,
                step=step,
                train_loss=total / seen,  # mean over the epoch's minibatches
                train_acc=float(correct_on(model, x, y).mean()),
                test_acc=float(test_correct.mean()),
            )
            ctx.log_examples("test_acc", test_correct.cpu().numpy(), epoch=epoch)
        if stop:
            break


def in_order(x: torch.Tensor, y: torch.Tensor, k: int):
    """Batches of k examples in the stored order."""
    for start in range(0, len(y) - k + 1, k):
        yield x[start : start + k], y[start : start + k]


def kit(ctx):
    """The parts the sanity checks train with: this file's MLP, data, loss and optimizer.

    The labels are the variant's: true labels on the defaults, random ones under
    ``random_labels: true``. The per-epoch learning-rate decay is left out; the checks
    take at most a few hundred steps.
    """
    from pytest_repro import SanityKit

    cfg = ctx.config
    x, y, x_test, y_test, classes = load_tensors(ctx)
    if cfg["random_labels"]:
        y = torch.as_tensor(ctx.rng.integers(0, classes, size=len(y)), device=y.device)
    return SanityKit(
        model=lambda: build_mlp(x.shape[1], cfg["hidden"], cfg["depth"], classes),
        train_batches=lambda k: in_order(x, y, k),
        heldout_batches=lambda k: in_order(x_test, y_test, k),
        loss=nn.CrossEntropyLoss(),
        optimizer=lambda params: make_optimizer(cfg, params),
        classes=classes,
    )
