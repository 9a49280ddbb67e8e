"""Random Fourier features for the Gaussian kernel, and how well they approximate it.

Sec. 2 and Algorithm 1 of the paper: for the Gaussian kernel
k(x, y) = exp(-||x - y||^2 / (2 sigma^2)), draw D frequencies w_j ~ N(0, sigma^-2 I) and
phases b_j ~ U[0, 2 pi); then z(x) = sqrt(2 / D) [cos(w_j' x + b_j)]_j and z(x)'z(y) is an
unbiased estimate of k(x, y). A run draws one set of D features (the seed draws them),
compares z(x)'z(y) with k(x, y) over every pair of a fixed set of points, and logs at
step 1 the mean absolute error, the largest absolute error (the uniform error of Claim 1
over these points) and the mean signed error.
"""

from __future__ import annotations

import numpy as np


def points(data, n_points: int) -> np.ndarray:
    """The first ``n_points`` digit images, pixels scaled to [0, 1]."""
    return np.asarray(data["data"], dtype=np.float64)[:n_points] / 16.0


def bandwidth(x: np.ndarray) -> float:
    """The median distance between the points (the usual default for sigma)."""
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    upper = d2[np.triu_indices(len(x), k=1)]
    return float(np.sqrt(np.median(upper)))


def run(ctx) -> None:
    cfg = ctx.config
    x = points(ctx.data("digits"), cfg["n_points"])
    sigma = bandwidth(x) * cfg["bandwidth_scale"]
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    exact = np.exp(-d2 / (2 * sigma**2))

    d = cfg["n_features"]
    rng = ctx.rng  # seeded with ctx.seed: the seed draws the features
    w = rng.standard_normal((x.shape[1], d)) / sigma
    b = rng.uniform(0.0, 2.0 * np.pi, size=d)
    z = np.sqrt(2.0 / d) * np.cos(x @ w + b)
    approx = z @ z.T

    pairs = np.triu_indices(len(x), k=1)
    error = (approx - exact)[pairs]
    ctx.log(
        step=1,
        n_features=d,
        sigma=sigma,
        mean_abs_error=float(np.abs(error).mean()),
        max_abs_error=float(np.abs(error).max()),
        mean_error=float(error.mean()),
    )
