"""Linear probes: how linearly separable are a frozen network's features for a new task?

The features are standardised with the training split's mean and standard deviation, then a
multinomial logistic regression (softmax + cross-entropy, small L2 penalty) is fitted by L-BFGS.
Deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validate import check_labels

__all__ = ["LinearProbe", "fit_linear_probe", "extract_features", "class_separation"]


@dataclass(frozen=True)
class LinearProbe:
    """A fitted probe: standardisation (mean, std) and a linear layer (weight [K, D], bias [K])."""

    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 2 or features.shape[1] != self.weight.shape[1]:
            raise ValueError(
                f"features must be [N, {self.weight.shape[1]}], got {tuple(features.shape)}"
            )
        z = (features.double() - self.mean) / self.std
        return z @ self.weight.T + self.bias

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        labels = check_labels(labels, self.weight.shape[0])
        return float((self.logits(features).argmax(dim=1) == labels).double().mean())


def fit_linear_probe(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int | None = None,
    *,
    l2: float = 1e-4,
    max_iter: int = 200,
) -> LinearProbe:
    """Fit softmax regression on frozen features [N, D] with L-BFGS; l2 is the weight penalty per
    example."""
    if (
        not isinstance(features, torch.Tensor)
        or features.dim() != 2
        or not features.dtype.is_floating_point
    ):
        raise ValueError("features must be a floating-point tensor [N, D]")
    if num_classes is None:
        num_classes = int(torch.as_tensor(labels).max()) + 1
    labels = check_labels(labels, num_classes)
    if labels.numel() != features.shape[0]:
        raise ValueError(f"got {features.shape[0]} feature rows but {labels.numel()} labels")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
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
    if not hasattr(model, "features"):
        raise ValueError("model must expose .features(x), the penultimate activations")
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
    if (
        not isinstance(features, torch.Tensor)
        or features.dim() != 2
        or not features.dtype.is_floating_point
    ):
        raise ValueError("features must be a floating-point tensor [N, D]")
    labels = check_labels(labels, 0, check_range=False)
    if labels.shape != (features.shape[0],):
        raise ValueError(
            f"need one label per feature row, got shape {tuple(labels.shape)} for "
            f"{features.shape[0]} rows"
        )
    x = features.detach().double()
    if not torch.isfinite(x).all():
        raise ValueError("features contain nan or inf")
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
        raise ValueError("all features point in the same direction: d_total is zero")
    return float(1 - d_within / d_total)
