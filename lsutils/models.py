"""Small classifiers for Fashion-MNIST. Each exposes ``.features(x)`` (penultimate activations) and ``.head``."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "SmallCNN", "make_model", "MODELS"]


class MLP(nn.Module):
    """``in_features -> hidden -> num_classes`` with a ReLU; input images are flattened."""

    def __init__(self, in_features: int = 784, hidden: int = 256, num_classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``[N, hidden]``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """Two 3x3 conv layers (16 and 32 channels, ReLU, 2x2 max-pool) then a 128-unit layer and the head."""

    def __init__(self, num_classes: int = 10, hidden: int = 128) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``[N, hidden]``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


MODELS = {"mlp": MLP, "cnn": SmallCNN}


def make_model(name: str, num_classes: int = 10) -> nn.Module:
    """A fresh model by name: ``"mlp"`` (784-256-K) or ``"cnn"`` (:class:`SmallCNN`)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if int(num_classes) < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    return MODELS[name](num_classes=int(num_classes))
