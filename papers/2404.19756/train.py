"""Grid extension of a KAN on f(x, y) = exp(sin(pi x) + y^2), through the authors' pykan.

Glue only: pykan 0.2.8's public API (create_dataset, KAN, fit, refine) is called as its
tutorial "Example 1: Function Fitting" does. The model starts at the first grid size,
is trained with LBFGS, then refined to each next grid size and trained again. After
each stage the run logs the train and test RMSE at the cumulative LBFGS step; at the
last stage it also logs the grid size with the lowest test RMSE and the scaling
exponent alpha of test RMSE ~ G^-alpha fitted over the stages with G >= slope_from.
"""

from __future__ import annotations

import numpy as np
import torch
from kan import KAN, create_dataset


def target(x):
    return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)


def run(ctx) -> None:
    cfg = ctx.config
    grids, steps = list(cfg["grids"]), int(cfg["steps_per_grid"])
    if ctx.smoke:  # one LBFGS step per stage, as many stages as the budget allows
        steps, grids = 1, grids[: max(1, min(len(grids), ctx.max_steps or 1))]
    data = create_dataset(
        target, n_var=2, train_num=cfg["train_num"], test_num=cfg["test_num"], seed=ctx.seed
    )
    ckpt = ctx.run_dir / "pykan"  # pykan writes its history and checkpoints here
    ckpt.mkdir(exist_ok=True)
    model = KAN(
        width=list(cfg["width"]),
        grid=grids[0],
        k=cfg["k"],
        seed=ctx.seed,
        auto_save=False,
        ckpt_path=str(ckpt),
        device=ctx.device,
    )
    done, test = 0, []
    for i, grid in enumerate(grids):
        if i:
            model = model.refine(grid)
        result = model.fit(data, opt="LBFGS", steps=steps, log=steps)
        done += steps
        test.append(float(result["test_loss"][-1]))  # pykan reports RMSE
        metrics = {
            "grid": grid,
            "train_rmse": float(result["train_loss"][-1]),
            "test_rmse": test[-1],
        }
        if i == len(grids) - 1:
            g = np.array(grids, dtype=float)
            use = g >= cfg["slope_from"]
            metrics |= {"best_grid": grids[int(np.argmin(test))], "best_test_rmse": min(test)}
            if use.sum() > 1:
                slope = np.polyfit(np.log(g[use]), np.log(np.array(test)[use]), 1)[0]
                metrics["scaling_exponent"] = -float(slope)
        ctx.log(step=done, **metrics)
