"""Membership inference with a loss threshold (Yeom et al., 2018).

An attacker who sees a model's loss (or confidence) on an example guesses "member of the training
set" when the loss is below a threshold. How well this works is measured by the AUC of that score
over members versus non-members and by the attack advantage, the best true-positive minus
false-positive rate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .selective import auroc

__all__ = ["per_example_loss", "membership_auc", "membership_advantage"]


def per_example_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Plain cross-entropy of each example (nats) against its hard label, the attacker's signal."""
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError("logits must be a 2-D tensor [N, K]")
    return F.cross_entropy(logits.float(), torch.as_tensor(labels).long(), reduction="none")


def _scores(
    member_loss: torch.Tensor, nonmember_loss: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    m = torch.as_tensor(member_loss).double().flatten()
    n = torch.as_tensor(nonmember_loss).double().flatten()
    if m.numel() == 0 or n.numel() == 0:
        raise ValueError("need at least one member and one non-member loss")
    if torch.isnan(m).any() or torch.isnan(n).any():
        raise ValueError("losses contain nan")
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
    m = torch.sort(torch.as_tensor(member_loss).double().flatten()).values
    n = torch.sort(torch.as_tensor(nonmember_loss).double().flatten()).values
    _scores(m, n)  # validation
    thresholds = torch.cat([m, n]).unique()
    tpr = torch.searchsorted(m, thresholds, right=True).double() / m.numel()
    fpr = torch.searchsorted(n, thresholds, right=True).double() / n.numel()
    return float(torch.clamp((tpr - fpr).max(), min=0.0))
