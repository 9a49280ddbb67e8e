"""Label smoothing and calibration: an MLP trained with hard or smoothed targets.

With ``label_smoothing: alpha`` the cross-entropy targets are (1 - alpha) * one_hot +
alpha / K. With ``temperature_scaling: true`` the trained network's logits are divided
by a single temperature fitted to minimize the negative log-likelihood on the
validation split (post-hoc calibration), and the test metrics are computed after
scaling. After every epoch the run logs test accuracy, negative log-likelihood,
expected calibration error (ECE, equal-width confidence bins) and mean confidence.
"""

from __future__ import annotations

import itertools
import math

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


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int) -> float:
    """Top-label ECE: sum over equal-width confidence bins of |accuracy - confidence| weighted by bin size."""
    confidence, prediction = probs.max(1)
    correct = (prediction == labels).to(probs.dtype)
    edges = torch.linspace(0.0, 1.0, bins + 1, dtype=probs.dtype)
    ece = torch.zeros((), dtype=probs.dtype)
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += (
                in_bin.to(probs.dtype).mean()
                * (correct[in_bin].mean() - confidence[in_bin].mean()).abs()
            )
    return float(ece)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature T > 0 minimizing the NLL of softmax(logits / T), by golden-section search on log T."""

    def nll(log_t: float) -> float:
        return float(nn.functional.cross_entropy(logits / math.exp(log_t), labels))

    low, high = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(b)
    return math.exp((low + high) / 2.0)


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    out = model(x).double().cpu()
    model.train()
    return out


def run(ctx) -> None:
    cfg = ctx.config
    data = ctx.data("mnist")
    device = ctx.device
    x = torch.as_tensor(data["x"], device=device)
    mean = x.mean(0, keepdim=True)  # subtract the mean training image
    x = x - mean
    x_val = torch.as_tensor(data["x_val"], device=device) - mean
    x_test = torch.as_tensor(data["x_test"], device=device) - mean
    y = torch.as_tensor(data["y"], device=device)
    y_val = torch.as_tensor(data["y_val"])
    y_test = torch.as_tensor(data["y_test"])
    classes = int(y.max().item()) + 1

    model = build_mlp(x.shape[1], cfg["hidden"], cfg["depth"], classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])
    shuffler = torch.Generator().manual_seed(ctx.seed)

    n, batch = len(y), cfg["batch_size"]
    step = 0
    for epoch in range(1, cfg["epochs"] + 1):
        order = torch.randperm(n, generator=shuffler).to(device)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if ctx.budget_spent(step):
                break
        stop = ctx.budget_spent(step)
        if epoch % cfg["eval_every"] == 0 or epoch == cfg["epochs"] or stop:
            temperature = 1.0
            if cfg["temperature_scaling"]:
                temperature = fit_temperature(logits_of(model, x_val), y_val)
            probs = torch.softmax(logits_of(model, x_test) / temperature, dim=1)
            correct = (probs.argmax(1) == y_test).to(torch.float64)
            ctx.log(
                epoch=epoch,
                step=step,
                test_acc=float(correct.mean()),
                test_nll=float(nn.functional.nll_loss(probs.log(), y_test)),
                test_ece=expected_calibration_error(probs, y_test, cfg["ece_bins"]),
                test_confidence=float(probs.max(1).values.mean()),
                temperature=temperature,
            )
            ctx.log_examples("test_acc", correct.numpy(), epoch=epoch)
        if stop:
            break
