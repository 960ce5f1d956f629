"""Small classifiers for Fashion-MNIST. Each exposes ``.features(x)`` (penultimate activations) and
``.head``."""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_int, check_num_classes

__all__ = ["MLP", "SmallCNN", "make_model", "small_mlp", "MODELS"]


class MLP(nn.Module):
    """``in_features -> hidden -> num_classes`` with a ReLU; input images are flattened."""

    def __init__(self, in_features: int = 784, hidden: int = 256, num_classes: int = 10) -> None:
        super().__init__()
        in_features, hidden = (
            check_int(in_features, "in_features", 1),
            check_int(hidden, "hidden", 1),
        )
        num_classes = check_num_classes(num_classes)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``[N, hidden]``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """Two 3x3 conv layers (16 and 32 channels, ReLU, 2x2 max-pool) then a 128-unit layer and the
    head."""

    def __init__(self, num_classes: int = 10, hidden: int = 128) -> None:
        super().__init__()
        num_classes, hidden = check_num_classes(num_classes), check_int(hidden, "hidden", 1)
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


def make_model(name: str, num_classes: int = 10, hidden: int | None = None) -> nn.Module:
    """A fresh model by name: ``"mlp"`` (784-``hidden``-K, default 256) or ``"cnn"``
    (:class:`SmallCNN`, ``hidden`` units before the head, default 128)."""
    check_choice(name, "model", tuple(sorted(MODELS)))
    K = check_num_classes(num_classes)
    if hidden is None:
        return MODELS[name](num_classes=K)
    return MODELS[name](num_classes=K, hidden=check_int(hidden, "hidden", 1))


def small_mlp(d_in: int, d_out: int, hidden: int = 64, depth: int = 2) -> nn.Sequential:
    """A plain MLP for low-dimensional inputs: ``depth`` ReLU layers of ``hidden`` units, then a
    linear output layer (used by the GAN and the value-learning experiments)."""
    d_in, d_out = check_int(d_in, "d_in", 1), check_int(d_out, "d_out", 1)
    hidden, depth = check_int(hidden, "hidden", 1), check_int(depth, "depth", 1)
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(d_in if i == 0 else hidden, hidden), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(hidden, d_out))
