"""MNIST-1D, generated procedurally with the `mnist1d` package (no download)."""

from __future__ import annotations

import random

import numpy as np


def make_mnist1d(
    seed: int = 42, num_samples: int = 5000, train_split: float = 0.8
) -> dict[str, np.ndarray]:
    """The MNIST-1D dataset with the package's default generation parameters.

    With the defaults this is the standard split: 4000 training and 1000 test
    examples of length 40, 10 classes. The generator seeds Python's and NumPy's
    global RNGs itself; their previous states are restored afterwards so that
    loading the data does not change a run's seeded random streams.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    args.num_samples = num_samples
    args.train_split = train_split

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)

    return {
        "x": np.asarray(data["x"], dtype=np.float32),
        "y": np.asarray(data["y"], dtype=np.int64),
        "x_test": np.asarray(data["x_test"], dtype=np.float32),
        "y_test": np.asarray(data["y_test"], dtype=np.int64),
    }
