"""Smoothed target distributions in the two conventions, and the map between them.

- ``"uniform"`` (Szegedy et al. 2016; ``torch.nn.CrossEntropyLoss(label_smoothing=alpha)``): mix the
  one-hot target with the uniform distribution over all K classes. True class ``1 - alpha +
  alpha/K``, others ``alpha/K``.
- ``"others"`` (many tutorials and some libraries): true class ``1 - eps``, each of the K-1
  wrong classes ``eps/(K-1)``.

They are one family: ``"others"`` with ``eps`` equals ``"uniform"`` with ``alpha = eps * K / (K -
1)``.
"""

from __future__ import annotations

import torch

from ._validate import (
    check_alpha,
    check_bool,
    check_convention,
    check_dtype,
    check_labels,
    check_num_classes,
)

__all__ = ["target_probs", "smooth_targets", "convert_alpha", "to_uniform_alpha"]


def target_probs(
    num_classes: int, alpha: float, convention: str = "uniform", *, allow_negative: bool = False
) -> tuple[float, float]:
    """Return ``(p_true, p_other)``: the smoothed target's mass on the true class and on each wrong
    class."""
    K = check_num_classes(num_classes)
    a = check_alpha(alpha, allow_negative=check_bool(allow_negative, "allow_negative"))
    if check_convention(convention) == "uniform":
        return 1.0 - a + a / K, a / K
    return 1.0 - a, a / (K - 1)


def smooth_targets(
    labels: torch.Tensor,
    num_classes: int,
    alpha: float,
    convention: str = "uniform",
    *,
    allow_negative: bool = False,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Smoothed target distributions ``[N, K]`` for integer ``labels`` ``[N]``.

    ``allow_negative=True`` admits alpha in [-1, 0) (negative smoothing: the wrong classes get
    negative "mass"; the rows still sum to 1 but are no longer distributions). ``dtype`` is a
    floating-point dtype (an integer one would round the probabilities away).
    """
    K = check_num_classes(num_classes)
    p_true, p_other = target_probs(K, alpha, convention, allow_negative=allow_negative)
    dtype = check_dtype(dtype)
    labels = check_labels(labels, K)
    targets = torch.full((labels.shape[0], K), p_other, dtype=dtype, device=labels.device)
    targets.scatter_(1, labels[:, None], p_true)
    return targets


def to_uniform_alpha(num_classes: int, alpha: float, convention: str) -> float:
    """The ``"uniform"`` smoothing strength equal to ``alpha`` in ``convention`` (may exceed 1 for
    "others"). ``alpha`` may be negative (negative smoothing), down to -1."""
    K = check_num_classes(num_classes)
    a = check_alpha(alpha, allow_negative=True)
    return _uniform_strength(K, a, check_convention(convention))


def _uniform_strength(K: int, alpha: float, convention: str) -> float:
    """:func:`to_uniform_alpha` for arguments already validated (the loss's hot path)."""
    return alpha if convention == "uniform" else alpha * K / (K - 1)


def convert_alpha(alpha: float, num_classes: int, source: str, target: str) -> float:
    """Convert a smoothing strength between conventions so that the smoothed targets are identical.

    ``"others"`` eps -> ``"uniform"`` alpha = eps K/(K-1); ``"uniform"`` alpha -> ``"others"`` eps =
    alpha (K-1)/K. "others" with eps > (K-1)/K puts less mass on the true class than on a wrong one;
    it has no "uniform" counterpart in [0, 1] and raises ``ValueError``.
    """
    K = check_num_classes(num_classes)
    check_convention(source)
    check_convention(target)
    a = check_alpha(alpha, negative_hint="convert_alpha takes a smoothing strength in [0, 1]")
    if source == target:
        return a
    if source == "uniform":
        return a * (K - 1) / K
    converted = a * K / (K - 1)
    if converted > 1.0 + 1e-12:
        raise ValueError(
            f"'others' eps={a} exceeds (K-1)/K={(K - 1) / K:.6g} for K={K}: it gives the true "
            "class less mass than a wrong class, and no 'uniform' alpha in [0, 1] matches it"
        )
    return min(converted, 1.0)
