"""Membership inference with a loss threshold (Yeom et al., 2018).

An attacker who sees a model's loss (or confidence) on an example guesses "member of the training
set" when the loss is below a threshold. How well this works is measured by the AUC of that score
over members versus non-members and by the attack advantage, the best true-positive minus
false-positive rate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import as_tensor, check_finite, check_labels, check_logits
from .selective import auroc

__all__ = ["per_example_loss", "membership_auc", "membership_advantage"]


def per_example_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Plain cross-entropy of each example (nats) against its hard label, the attacker's signal."""
    logits = check_finite(check_logits(logits), "logits")
    labels = check_labels(labels, logits.shape[1])
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"labels must have shape [{logits.shape[0]}] (one per row of logits), "
            f"got {tuple(labels.shape)}"
        )
    return F.cross_entropy(logits.float(), labels, reduction="none")


def _losses(value: object, name: str) -> torch.Tensor:
    """Per-example losses ``[N]`` (N >= 1, any shape is flattened) as float64, without nan."""
    x = as_tensor(value, name)
    if x.dtype == torch.bool or x.dtype.is_complex:
        raise ValueError(f"{name} must be real numbers (per-example losses), got dtype {x.dtype}")
    x = x.to(torch.float64).flatten()
    if x.numel() == 0:
        raise ValueError(f"{name} must hold at least one loss, got an empty tensor")
    if torch.isnan(x).any():
        raise ValueError(f"{name} must not contain nan")
    return x


def _scores(
    member_loss: torch.Tensor, nonmember_loss: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    m = _losses(member_loss, "member_loss")
    n = _losses(nonmember_loss, "nonmember_loss")
    # low loss means "member": the score is the negated loss
    scores = torch.cat([-m, -n])
    is_member = torch.cat(
        [torch.ones(m.numel(), dtype=torch.bool), torch.zeros(n.numel(), dtype=torch.bool)]
    )
    return scores, is_member


def membership_auc(member_loss: torch.Tensor, nonmember_loss: torch.Tensor) -> float:
    """AUC of the loss-threshold attack: P(a random member has lower loss than a random
    non-member)."""
    scores, is_member = _scores(member_loss, nonmember_loss)
    return auroc(scores, is_member)


def membership_advantage(member_loss: torch.Tensor, nonmember_loss: torch.Tensor) -> float:
    """Best attack advantage TPR - FPR over all loss thresholds (0 = no leak, 1 = perfect
    attack)."""
    m = torch.sort(_losses(member_loss, "member_loss")).values
    n = torch.sort(_losses(nonmember_loss, "nonmember_loss")).values
    thresholds = torch.cat([m, n]).unique()
    tpr = torch.searchsorted(m, thresholds, right=True).double() / m.numel()
    fpr = torch.searchsorted(n, thresholds, right=True).double() / n.numel()
    return float(torch.clamp((tpr - fpr).max(), min=0.0))
