"""Cross-entropy against smoothed targets, without building the ``[N, K]`` target tensor.

With ``log q = log_softmax(z)`` and the "uniform" strength ``a`` (see
:func:`lsutils.to_uniform_alpha`),

    -sum_k p_k log q_k = (1 - a) * (-log q_y) + a * mean_k(-log q_k),

the same two terms that ``torch.nn.functional.cross_entropy(..., label_smoothing=a)`` computes
from ``log_softmax``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import (
    check_alpha,
    check_bool,
    check_convention,
    check_labels,
    check_logits,
    check_reduction,
    check_same_shape,
    upcast,
)
from .targets import _uniform_strength

__all__ = ["smoothed_cross_entropy", "cross_entropy_from_targets"]

# torch's cross_entropy skips labels equal to its ignore_index (-100 by default). We support no
# ignore_index: with this one, a -100 that skipped validation fails in the kernel, never silently.
_NO_IGNORE = torch.iinfo(torch.int64).min


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def smoothed_cross_entropy(
    logits: torch.Tensor,
    labels: torch.Tensor,
    alpha: float,
    convention: str = "uniform",
    reduction: str = "mean",
    *,
    allow_negative: bool = False,
    validate: bool = True,
) -> torch.Tensor:
    """Label-smoothed cross-entropy in nats for logits ``[N, K]`` and integer labels ``[N]``.

    Equals ``cross_entropy_from_targets(logits, smooth_targets(labels, K, alpha, convention))``.
    Half-precision logits are computed in float32. ``validate=False`` skips the label range check
    (it synchronises with the GPU), for hot training loops whose labels were checked up front; a
    label out of range (torch's ``ignore_index`` -100 included) then fails inside torch instead.
    NaN or infinite logits are not checked (the check would cost a pass): they give a NaN loss.
    """
    logits = check_logits(logits)
    K = logits.shape[1]
    alpha = check_alpha(alpha, allow_negative=check_bool(allow_negative, "allow_negative"))
    check_convention(convention)
    check_reduction(reduction)
    labels = check_labels(labels, K, check_range=check_bool(validate, "validate"))
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"logits have {logits.shape[0]} rows but labels have {labels.shape[0]} entries"
        )
    a = _uniform_strength(K, alpha, convention)
    x = upcast(logits)
    if 0.0 <= a <= 1.0:
        return F.cross_entropy(
            x, labels, label_smoothing=a, reduction=reduction, ignore_index=_NO_IGNORE
        )
    # torch accepts label_smoothing in [0, 1] only: 'others' with eps > (K-1)/K and negative
    # smoothing take the same decomposition explicitly.
    log_q = F.log_softmax(x, dim=1)
    nll = -log_q.gather(1, labels[:, None]).squeeze(1)
    return _reduce((1.0 - a) * nll - a * log_q.mean(dim=1), reduction)


def cross_entropy_from_targets(
    logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy ``-sum_k p_k log softmax(z)_k`` for any target rows ``p`` ``[N, K]``, in
    nats. The rows need not be distributions (negative smoothing gives negative entries)."""
    logits = check_logits(logits)
    check_same_shape(logits, targets)
    if targets.dtype.is_complex:
        raise ValueError(f"targets must be real numbers [N, K], got dtype {targets.dtype}")
    check_reduction(reduction)
    log_q = F.log_softmax(upcast(logits), dim=1)
    # xlogy-style guard: a zero target times log q = -inf (q underflowed) contributes 0, not nan.
    terms = torch.where(targets == 0, torch.zeros_like(log_q), targets.to(log_q.dtype) * log_q)
    return _reduce(-terms.sum(dim=1), reduction)
