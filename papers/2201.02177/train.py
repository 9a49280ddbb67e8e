"""Grokking on x + y (mod 97): a small embedding MLP trained far past memorization.

Each operand is one of 97 symbols with its own learned embedding; the two embeddings
are concatenated and fed to one hidden layer of ReLU units and a 97-way output. Training
uses AdamW on minibatches drawn without replacement from the training pairs, with a
linear warm-up of the learning rate. Every ``eval_every`` steps the run logs the accuracy
and loss on all training pairs and all validation pairs.
"""

from __future__ import annotations

import torch
from torch import nn


class EmbeddingMLP(nn.Module):
    def __init__(self, p: int, dim: int, hidden: int) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(p, dim)
        self.hidden = nn.Linear(2 * dim, hidden)
        self.out = nn.Linear(hidden, p)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # The hidden layer of [embed(a), embed(b)] is W_a embed(a) + W_b embed(b) + bias;
        # both halves are computed once per symbol (97 rows) and then looked up, which is
        # the same function and gradient as concatenating, at a fraction of the cost.
        weight = self.hidden.weight
        table_a = self.embed.weight @ weight[:, : self.dim].T
        table_b = self.embed.weight @ weight[:, self.dim :].T
        return self.out(torch.relu(table_a[a] + table_b[b] + self.hidden.bias))


@torch.no_grad()
def evaluate(model: nn.Module, a, b, c) -> tuple[float, float]:
    logits = model(a, b)
    loss = nn.functional.cross_entropy(logits, c)
    return float((logits.argmax(1) == c).to(torch.float64).mean()), float(loss)


def run(ctx) -> None:
    cfg = ctx.config
    data = ctx.data("table")
    device = ctx.device
    tensors = {k: torch.as_tensor(v, device=device) for k, v in data.items() if k != "p"}
    a, b, c = tensors["a"], tensors["b"], tensors["c"]
    a_val, b_val, c_val = tensors["a_val"], tensors["b_val"], tensors["c_val"]

    model = EmbeddingMLP(data["p"], cfg["embedding_dim"], cfg["hidden"]).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=cfg["lr"],
        betas=(cfg["beta1"], cfg["beta2"]),
        weight_decay=cfg["weight_decay"],
    )
    warmup = cfg["warmup_steps"]
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda done: min(1.0, (done + 1) / warmup)
    )
    loss_fn = nn.CrossEntropyLoss()
    shuffler = torch.Generator().manual_seed(ctx.seed)

    n, batch = len(c), min(cfg["batch_size"], len(c))
    order, position = torch.randperm(n, generator=shuffler), 0
    for step in range(1, cfg["steps"] + 1):
        if position + batch > n:  # a new pass over the training pairs
            order, position = torch.randperm(n, generator=shuffler), 0
        idx = order[position : position + batch].to(device)
        position += batch
        loss = loss_fn(model(a[idx], b[idx]), c[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        stop = ctx.budget_spent(step)
        if step % cfg["eval_every"] == 0 or step == cfg["steps"] or stop:
            train_acc, train_loss = evaluate(model, a, b, c)
            val_acc, val_loss = evaluate(model, a_val, b_val, c_val)
            ctx.log(
                step=step,
                train_acc=train_acc,
                train_loss=train_loss,
                val_acc=val_acc,
                val_loss=val_loss,
            )
        if stop:
            break
