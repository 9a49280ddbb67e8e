"""Plain (no normalization, no skip connections) deep ReLU networks under two initializations.

``init: he`` draws every weight from N(0, 2/n_in) (the paper's rectifier-aware rule);
``init: xavier`` from N(0, 1/n_in), the "Xavier" rule as the paper states it. Biases
start at zero. ``depth`` counts weight layers, the output layer included. After every
epoch the run logs the training loss and accuracy (averaged over the epoch's
minibatches) and the test loss and accuracy; epoch 0 is the loss at initialization.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

INIT_VARIANCE_GAIN = {"he": 2.0, "xavier": 1.0}


def build_plain_net(
    n_in: int, width: int, depth: int, classes: int, init: str, generator: torch.Generator
) -> nn.Sequential:
    if init not in INIT_VARIANCE_GAIN:
        raise ValueError(f"init={init!r}: expected one of {sorted(INIT_VARIANCE_GAIN)}")
    if depth < 2:
        raise ValueError(f"depth={depth}: a plain net needs at least 2 weight layers")
    sizes = [n_in] + [width] * (depth - 1) + [classes]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            std = math.sqrt(INIT_VARIANCE_GAIN[init] / fan_in)
            linear.weight.copy_(torch.randn(fan_out, fan_in, generator=generator) * std)
            linear.bias.zero_()
        layers.append(linear)
        if i < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
) -> tuple[float, torch.Tensor]:
    """Mean cross-entropy and per-example 0/1 correctness."""
    model.eval()
    losses, correct = [], []
    for i in range(0, len(y), batch):
        out = model(x[i : i + batch])
        losses.append(nn.functional.cross_entropy(out, y[i : i + batch], reduction="sum"))
        correct.append(out.argmax(1) == y[i : i + batch])
    model.train()
    return float(torch.stack(losses).sum() / len(y)), torch.cat(correct).to(torch.float64)


def run(ctx) -> None:
    cfg = ctx.config
    data = ctx.data("mnist")
    device = ctx.device
    x = torch.as_tensor(data["x"], device=device)
    x_test = torch.as_tensor(data["x_test"], device=device)
    mean = x.mean(0, keepdim=True)  # subtract the mean training image
    x, x_test = x - mean, x_test - mean
    y = torch.as_tensor(data["y"], device=device)
    y_test = torch.as_tensor(data["y_test"], device=device)
    classes = int(y.max().item()) + 1

    init_gen = torch.Generator().manual_seed(ctx.seed)
    model = build_plain_net(
        x.shape[1], cfg["width"], cfg["depth"], classes, cfg["init"], init_gen
    ).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"]
    )
    loss_fn = nn.CrossEntropyLoss()
    shuffler = torch.Generator().manual_seed(ctx.seed + 1)

    n, batch = len(y), cfg["batch_size"]
    step = 0
    train_loss, _ = evaluate(model, x, y)
    ctx.log(epoch=0, step=0, train_loss=train_loss)
    for epoch in range(1, cfg["epochs"] + 1):
        order = torch.randperm(n, generator=shuffler).to(device)
        loss_sum, correct_sum, seen = 0.0, 0, 0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            out = model(x[idx])
            loss = loss_fn(out, y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            correct_sum += int((out.argmax(1) == y[idx]).sum())
            seen += len(idx)
            step += 1
            if ctx.budget_spent(step):
                break
        test_loss, test_correct = evaluate(model, x_test, y_test)
        ctx.log(
            epoch=epoch,
            step=step,
            # the mean over the epoch's minibatches, as training curves plot it
            train_loss=loss_sum / seen,
            train_acc=correct_sum / seen,
            test_loss=test_loss,
            test_acc=float(test_correct.mean()),
        )
        ctx.log_examples("test_acc", test_correct.cpu().numpy(), epoch=epoch)
        if ctx.budget_spent(step):
            break
