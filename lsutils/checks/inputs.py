"""Random inputs for the checkers: every call of :func:`lsutils.checks.check` draws new ones.

:class:`Draw` wraps a seeded ``torch.Generator`` and hands out the inputs the exercises need
(logits, labels, probability rows, sorted points, ...), all float64 unless stated, plus
:func:`describe`, which turns inputs into the short phrase a failure message uses.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["Draw", "describe"]


class Draw:
    """A source of random inputs, reproducible from its seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.gen = torch.Generator().manual_seed(seed)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=self.gen, dtype=torch.float64))

    def log_uniform(self, low: float, high: float) -> float:
        return math.exp(self.uniform(math.log(low), math.log(high)))

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high] (both ends included)."""
        return int(torch.randint(low, high + 1, (), generator=self.gen))

    def choice(self, options: list | tuple) -> Any:
        return options[self.integer(0, len(options) - 1)]

    def normal(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=self.gen, dtype=torch.float64)

    def rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=self.gen, dtype=torch.float64)

    def logits(self, n: int, k: int, scale: float = 2.0) -> torch.Tensor:
        return self.normal(n, k, scale=scale)

    def labels(self, n: int, k: int) -> torch.Tensor:
        """Integer labels in [0, k); when n >= 2 both ends 0 and k-1 occur."""
        y = torch.randint(0, k, (n,), generator=self.gen)
        if n >= 2:
            first, second = self.permutation(n)[:2].tolist()
            y[first], y[second] = 0, k - 1
        return y

    def probs(self, n: int, k: int, sharpness: float = 2.0) -> torch.Tensor:
        """Probability rows [n, k], strictly positive."""
        return torch.softmax(self.logits(n, k, scale=sharpness), dim=1)

    def dirichlet(self, n: int, k: int) -> torch.Tensor:
        """Rows drawn uniformly from the probability simplex."""
        e = -torch.log(self.rand(n, k).clamp_min(1e-300))
        return e / e.sum(dim=1, keepdim=True)

    def sorted_points(self, n: int, low: float = -3.0, high: float = 3.0) -> torch.Tensor:
        """n strictly increasing, unevenly spaced points from low to high (both included)."""
        gaps = 0.2 + self.rand(n - 1)
        pts = torch.cat([torch.zeros(1, dtype=torch.float64), gaps.cumsum(0)])
        return low + (high - low) * pts / pts[-1]

    def permutation(self, n: int) -> torch.Tensor:
        return torch.randperm(n, generator=self.gen)


def _phrase(name: str, value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            return f"{name} = {value.item():g}"
        return f"{name} of shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"{name} = {value:.4g}"
    return f"{name} = {value}"


def describe(names: str, args: tuple, note: str = "") -> str:
    """The phrase a message uses for the inputs, e.g. ``for logits of shape (4, 3), smoothing =
    0.1``, followed by ``note`` in parentheses."""
    keys = [n.strip() for n in names.split(",")]
    text = "for " + ", ".join(_phrase(k, v) for k, v in zip(keys, args, strict=True))
    return text + (f" ({note})" if note else "")
