"""L2-regularized multiclass logistic regression on MNIST, trained by Adam, SGD with
Nesterov momentum or AdaGrad (Kingma & Ba, Sec. 6.1).

The model is a 784 x 10 weight matrix and 10 biases, started at zero. The training cost
is the mean cross-entropy over all training images plus ``l2 / 2`` times the squared
norm of the weights. Every optimizer is written out from its update rule; Adam and SGD
use the step size ``alpha / sqrt(t)`` at iteration t (Sec. 6.1). As in Sec. 6, each
optimizer's step size is chosen from ``lr_grid`` by the lowest training cost after the
last epoch, on the run's own seed; the run logs the training cost of that setting after
every epoch (epoch 0: at initialization) and the step size it chose (``selected_lr``).
"""

from __future__ import annotations

import math

import numpy as np


def cost_and_gradient(w, b, x, y, l2):
    """Mean cross-entropy plus (l2 / 2) |w|^2, and its gradient in w and b."""
    logits = x @ w + b
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    nll = -np.log(probs[rows, y]).mean()
    probs[rows, y] -= 1.0
    probs /= len(y)
    grad_w = x.T @ probs + l2 * w
    grad_b = probs.sum(axis=0)
    return nll + 0.5 * l2 * float((w * w).sum()), grad_w, grad_b


class Adam:
    """Algorithm 1; ``bias_correction: false`` drops the division by 1 - beta^t."""

    def __init__(self, cfg, shapes):
        self.beta1, self.beta2, self.eps = cfg["beta1"], cfg["beta2"], cfg["eps"]
        self.correct = cfg["bias_correction"]
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]

    def step(self, params, grads, t, alpha):
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            if self.correct:
                m_hat, v_hat = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
            else:
                m_hat, v_hat = m, v
            p -= alpha * m_hat / (np.sqrt(v_hat) + self.eps)

    def lookahead(self, params):
        return params


class NesterovSGD:
    """v <- mu v - alpha grad f(theta + mu v); theta <- theta + v."""

    def __init__(self, cfg, shapes):
        self.mu = cfg["momentum"]
        self.velocity = [np.zeros(s) for s in shapes]

    def lookahead(self, params):  # where the gradient is taken
        return [p + self.mu * v for p, v in zip(params, self.velocity, strict=True)]

    def step(self, params, grads, t, alpha):
        for p, g, v in zip(params, grads, self.velocity, strict=True):
            v *= self.mu
            v -= alpha * g
            p += v


class AdaGrad:
    """theta <- theta - alpha g / (sqrt(sum of g^2 so far) + eps)."""

    def __init__(self, cfg, shapes):
        self.eps = cfg["eps"]
        self.sum_sq = [np.zeros(s) for s in shapes]

    def step(self, params, grads, t, alpha):
        for p, g, s in zip(params, grads, self.sum_sq, strict=True):
            s += g * g
            p -= alpha * g / (np.sqrt(s) + self.eps)

    def lookahead(self, params):
        return params


OPTIMIZERS = {"adam": Adam, "sgd_nesterov": NesterovSGD, "adagrad": AdaGrad}


def train(ctx, x, y, lr, order_seed):
    """One training of ``epochs`` epochs at step size ``lr``: the per-epoch costs."""
    cfg = ctx.config
    classes = int(y.max()) + 1
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    params = [w, b]
    optimizer = OPTIMIZERS[cfg["optimizer"]](cfg, [w.shape, b.shape])
    rng = np.random.default_rng(order_seed)  # the same minibatch order for every step size
    n, batch = len(y), cfg["batch_size"]
    costs = [(0, 0, cost_and_gradient(w, b, x, y, cfg["l2"])[0])]
    t = 0
    for epoch in range(1, cfg["epochs"] + 1):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            t += 1
            at_w, at_b = optimizer.lookahead(params)
            _, grad_w, grad_b = cost_and_gradient(at_w, at_b, x[idx], y[idx], cfg["l2"])
            alpha = lr / math.sqrt(t) if cfg["sqrt_decay"] else lr
            optimizer.step(params, [grad_w, grad_b], t, alpha)
            if ctx.budget_spent(t):
                break
        cost = cost_and_gradient(w, b, x, y, cfg["l2"])[0]
        costs.append((epoch, t, cost))
        if not math.isfinite(cost) or ctx.budget_spent(t):
            break
    return costs


def run(ctx) -> None:
    cfg = ctx.config
    data = ctx.data("mnist")
    x, y = data["x"], data["y"]
    order_seed = int(ctx.rng.integers(2**31))
    best = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for lr in cfg["lr_grid"]:
            costs = train(ctx, x, y, lr, order_seed)
            final = costs[-1][2]
            if math.isfinite(final) and (best is None or final < best[1][-1][2]):
                best = (lr, costs)
    if best is None:
        raise RuntimeError(f"every step size in {cfg['lr_grid']} diverged")
    lr, costs = best
    for epoch, step, cost in costs:
        ctx.log(epoch=epoch, step=step, train_cost=cost)
    epoch, step, _ = costs[-1]
    ctx.log(epoch=epoch, step=step, selected_lr=lr)
