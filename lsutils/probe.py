"""Linear probes: how linearly separable are a frozen network's features for a new task?

The features are standardised with the training split's mean and standard deviation, then a
multinomial logistic regression (softmax + cross-entropy, small L2 penalty) is fitted by L-BFGS.
Deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validate import (
    check_float,
    check_float_tensor,
    check_int,
    check_labels,
    check_num_classes,
)

__all__ = ["LinearProbe", "fit_linear_probe", "extract_features", "class_separation"]


@dataclass(frozen=True)
class LinearProbe:
    """A fitted probe: standardisation (mean, std) and a linear layer (weight [K, D], bias [K])."""

    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, K]`` (float64) of features ``[N, D]``."""
        d = self.weight.shape[1]
        features = check_float_tensor(features, "features", "[N, D]", finite=True)
        if features.shape[1] != d:
            raise ValueError(f"features must be [N, {d}], got {tuple(features.shape)}")
        z = (features.double() - self.mean) / self.std
        return z @ self.weight.T + self.bias

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        """Fraction of ``labels`` predicted right from ``features`` (at least one example)."""
        labels = check_labels(labels, self.weight.shape[0])
        logits = self.logits(features)
        if labels.shape[0] != logits.shape[0] or labels.numel() == 0:
            raise ValueError(
                f"labels must have shape [{logits.shape[0]}] (one per feature row, at least one), "
                f"got {tuple(labels.shape)}"
            )
        return float((logits.argmax(dim=1) == labels).double().mean())


def fit_linear_probe(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int | None = None,
    *,
    l2: float = 1e-4,
    max_iter: int = 200,
) -> LinearProbe:
    """Fit softmax regression on frozen features [N, D] with L-BFGS; l2 is the weight penalty per
    example. ``num_classes`` defaults to the largest label + 1."""
    features = check_float_tensor(features, "features", "[N, D]", min_rows=2, finite=True)
    if num_classes is None:
        seen = check_labels(labels, 0, check_range=False)
        if seen.numel() == 0:
            raise ValueError("labels must hold one label per feature row, got an empty tensor")
        num_classes = int(seen.max()) + 1
    num_classes = check_num_classes(num_classes)
    labels = check_labels(labels, num_classes)
    if labels.numel() != features.shape[0]:
        raise ValueError(
            f"labels must hold one label per feature row: got {features.shape[0]} feature rows "
            f"but {labels.numel()} labels"
        )
    l2 = check_float(l2, "l2", 0.0)
    max_iter = check_int(max_iter, "max_iter", 1)
    x = features.detach().double()
    mean = x.mean(dim=0)
    std = x.std(dim=0).clamp_min(1e-6)
    z = (x - mean) / std
    w = torch.zeros(num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b],
        lr=1.0,
        max_iter=max_iter,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(z @ w.T + b, labels) + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return LinearProbe(mean=mean, std=std, weight=w.detach(), bias=b.detach())


@torch.no_grad()
def extract_features(
    model: torch.nn.Module, x: torch.Tensor, batch_size: int = 4096
) -> torch.Tensor:
    """Penultimate activations model.features(x), in eval mode and batches: [N, D]."""
    if not isinstance(model, torch.nn.Module) or not callable(getattr(model, "features", None)):
        raise ValueError("model must be a torch.nn.Module with .features(x), the penultimate layer")
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[0] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of inputs [N, ...] with N >= 1, got {got}")
    batch_size = check_int(batch_size, "batch_size", 1)
    was_training = model.training
    model.eval()
    out = torch.cat(
        [model.features(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
    )
    model.train(was_training)
    return out.float()


def class_separation(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Kornblith et al.'s (2021) class separation ``R^2 = 1 - d_within / d_total`` of ``[N, D]``.

    ``d`` is the cosine distance ``1 - x.y / (|x| |y|)``. ``d_within`` averages it over pairs of
    examples of the same class (each class weighted equally), ``d_total`` over pairs drawn from any
    two classes (each pair of classes weighted equally). 1 means each class points in one
    direction; 0 means a class's examples are no closer to each other than to the rest. The
    feature norms do not matter, only the directions.
    """
    features = check_float_tensor(features, "features", "[N, D]", min_rows=1, finite=True)
    labels = check_labels(labels, 0, check_range=False)  # any integer ids: they only group rows
    if labels.shape != (features.shape[0],):
        raise ValueError(
            f"labels must hold one label per feature row, got shape {tuple(labels.shape)} for "
            f"{features.shape[0]} rows"
        )
    x = features.detach().double()
    norms = x.norm(dim=1)
    if bool((norms == 0).any()):
        raise ValueError(
            f"{int((norms == 0).sum())} feature rows are all zero: their cosine distance is "
            "undefined"
        )
    classes = labels.unique()
    if classes.numel() < 2:
        raise ValueError("class separation needs at least two classes")
    unit = x / norms[:, None]
    # mean cosine similarity between the examples of classes j and k = m_j . m_k
    means = torch.stack([unit[labels == c].mean(dim=0) for c in classes])
    d_within = 1 - (means * means).sum(dim=1).mean()
    d_total = 1 - (means.mean(dim=0) ** 2).sum()
    if d_total <= 0:
        raise ValueError("features must vary in direction: all point the same way (d_total is 0)")
    return float(1 - d_within / d_total)
