"""The binary-operation table x + y (mod p), split at random into training and validation pairs."""

from __future__ import annotations

import numpy as np


def modular_addition(p: int = 97, train_fraction: float = 0.5, split_seed: int = 0) -> dict:
    """Every pair (x, y) of residues mod ``p`` with its answer (x + y) mod p.

    Returns int64 arrays ``a``, ``b`` and ``c`` (operands and answer) for the training
    pairs and ``a_val``, ``b_val``, ``c_val`` for the rest: ``floor(train_fraction * p*p)``
    pairs train (4704 of 9409 for p = 97). The split depends only on ``split_seed``.
    """
    x, y = np.divmod(np.arange(p * p, dtype=np.int64), p)
    answer = (x + y) % p
    order = np.random.default_rng(split_seed).permutation(p * p)
    n_train = int(train_fraction * p * p)
    train, val = order[:n_train], order[n_train:]
    return {
        "p": p,
        "a": x[train],
        "b": y[train],
        "c": answer[train],
        "a_val": x[val],
        "b_val": y[val],
        "c_val": answer[val],
    }
