"""The fine-tuning loop the trained verifiers share (``ragqa train verifier``, ``ragqa train reader``): seeded,
batches of similar lengths in random order, AdamW with a linear warm-up and decay, gradients clipped to 1."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(
    model: Any,
    loss_of: Callable[[list[int]], Any],
    lengths: Sequence[int],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    warmup: float,
    seed: int,
    desc: str,
) -> list[float]:
    """Train ``model`` on the examples ``0 … len(lengths) - 1``; ``loss_of(batch)`` is the loss of a batch of
    example indices. Returns the loss of every step."""
    import torch
    import transformers
    from tqdm import tqdm

    total = ((len(lengths) + batch_size - 1) // batch_size) * epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(warmup * total), total)
    rng = random.Random(seed)
    model.train()
    losses: list[float] = []
    with tqdm(total=total, desc=desc, unit="batch") as bar:
        for _epoch in range(epochs):
            # batches of similar lengths (less padding), in random order
            order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
            batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
            rng.shuffle(batches)
            for batch in batches:
                loss = loss_of(batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(loss.item())
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
                bar.update()
    return losses
