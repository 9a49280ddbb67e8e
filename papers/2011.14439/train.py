"""MNIST-1D benchmark models (logistic regression, MLP, CNN, GRU) trained with Adam.

One run trains one model for ``steps`` minibatch updates and logs test accuracy
every ``eval_every`` steps; the claims read it at the last step.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Logistic(nn.Module):
    """Multinomial logistic regression: one linear layer on the 40 raw inputs."""

    def __init__(self, length: int, classes: int) -> None:
        super().__init__()
        self.out = nn.Linear(length, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x)


class MLP(nn.Module):
    """Two hidden ReLU layers; the second is added to its input (a skip connection)."""

    def __init__(self, length: int, classes: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(length, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x))
        h = h + torch.relu(self.fc2(h))
        return self.out(h)


class CNN(nn.Module):
    """Three strided 1-D convolutions with ReLU, then a linear classifier on the flattened maps."""

    def __init__(self, length: int, classes: int, channels: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(1, channels, kernel_size=5, stride=2, padding=1),
                nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1),
                nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1),
            ]
        )
        n = length
        for conv in self.convs:
            n = (n + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        self.out = nn.Linear(channels * n, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1)
        for conv in self.convs:
            h = torch.relu(conv(h))
        return self.out(h.flatten(1))


class GRU(nn.Module):
    """A small bidirectional GRU over the 40 positions; a linear layer reads every hidden state."""

    def __init__(self, length: int, classes: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size=1, hidden_size=hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden * length, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(x.unsqueeze(-1))
        return self.out(h.flatten(1))


def build_model(config, length: int, classes: int) -> nn.Module:
    name = config["model"]
    if name == "logistic":
        return Logistic(length, classes)
    if name == "mlp":
        return MLP(length, classes, config["mlp_hidden"])
    if name == "cnn":
        return CNN(length, classes, config["cnn_channels"])
    if name == "gru":
        return GRU(length, classes, config["gru_hidden"])
    raise ValueError(f"unknown model {name!r}: expected logistic, mlp, cnn or gru")


@torch.no_grad()
def correct_on(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    model.eval()
    pred = model(x).argmax(dim=1)
    model.train()
    return (pred == y).to(torch.float64).cpu().numpy()


def load_tensors(ctx) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """The MNIST-1D train and test arrays as tensors on the run's device, and the class count."""
    data = ctx.data("mnist1d")
    device = ctx.device
    x = torch.as_tensor(data["x"], dtype=torch.float32, device=device)
    y = torch.as_tensor(data["y"], dtype=torch.long, device=device)
    x_test = torch.as_tensor(data["x_test"], dtype=torch.float32, device=device)
    y_test = torch.as_tensor(data["y_test"], dtype=torch.long, device=device)
    classes = int(max(y.max().item(), y_test.max().item())) + 1
    return x, y, x_test, y_test, classes


def make_optimizer(cfg, params) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def run(ctx) -> None:
    cfg = ctx.config
    device = ctx.device
    x, y, x_test, y_test, classes = load_tensors(ctx)

    model = build_model(cfg, x.shape[1], classes).to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    batch, steps, eval_every = cfg["batch_size"], cfg["steps"], cfg["eval_every"]
    if cfg["batch_order"] not in ("sequential", "reshuffle"):
        raise ValueError(
            f"batch_order={cfg['batch_order']!r}: expected 'sequential' or 'reshuffle'"
        )
    n = len(y)
    shuffler = torch.Generator().manual_seed(ctx.seed)
    order = (
        torch.arange(n)
        if cfg["batch_order"] == "sequential"
        else torch.randperm(n, generator=shuffler)
    )
    cursor = 0
    for step in range(1, steps + 1):
        if cursor + batch > n:  # a new pass over the training set
            if cfg["batch_order"] == "reshuffle":
                order = torch.randperm(n, generator=shuffler)
            cursor = 0
        idx = order[cursor : cursor + batch].to(device)
        cursor += batch

        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        stop = ctx.budget_spent(step)
        if step % eval_every == 0 or step == steps or stop:
            test_correct = correct_on(model, x_test, y_test)
            train_acc = float(correct_on(model, x, y).mean())
            ctx.log(
                step=step,
                train_loss=loss.item(),
                train_acc=train_acc,
                test_acc=float(test_correct.mean()),
            )
            if step == steps or stop:
                # per-example outcomes of the claim's metric, for its spread floor (1/N)
                ctx.log_examples("test_acc", test_correct, step=step)
        if stop:
            break


def in_order(x: torch.Tensor, y: torch.Tensor, k: int):
    """Batches of k examples in the stored order, as ``batch_order: sequential`` takes them."""
    for start in range(0, len(y) - k + 1, k):
        yield x[start : start + k], y[start : start + k]


def kit(ctx):
    """The parts the sanity checks train with: this file's model, data, loss and optimizer."""
    from pytest_repro import SanityKit

    cfg = ctx.config
    x, y, x_test, y_test, classes = load_tensors(ctx)
    return SanityKit(
        model=lambda: build_model(cfg, x.shape[1], classes),
        train_batches=lambda k: in_order(x, y, k),
        heldout_batches=lambda k: in_order(x_test, y_test, k),
        loss=nn.CrossEntropyLoss(),
        optimizer=lambda params: make_optimizer(cfg, params),
        classes=classes,
    )
