"""Temperature scaling (Guo et al. 2017): one scalar T minimising validation NLL of logits / T."""

from __future__ import annotations

import math

import torch


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, *, low: float = 0.05, high: float = 20.0) -> float:
    """The T in [low, high] minimising cross-entropy, by a log-spaced grid then a finer grid.

    A grid (not LBFGS) because it is deterministic, cannot diverge on a tiny validation set,
    and 100 validation logits make it instant.
    """
    logits = logits.detach().double()

    def nll(temperature: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits / temperature, labels))

    grid = [math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / 200) for i in range(201)]
    best = min(grid, key=nll)
    fine = [best * math.exp(0.03 * (i - 50) / 50) for i in range(101)]
    return float(min(fine, key=nll))
