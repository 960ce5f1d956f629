"""Selective prediction: abstain on the least confident inputs, and measure what that buys.

A confidence score (here usually the max softmax probability) ranks the test inputs; keeping the top
fraction (the coverage) and measuring the error rate on what is kept (the selective risk) traces the
risk-coverage curve (Geifman and El-Yaniv, 2017). Its area, AURC, is small when errors get low
scores.
"""

from __future__ import annotations

import torch

from ._validate import (
    as_tensor,
    check_binary,
    check_bool,
    check_finite,
    check_float,
    check_logits,
)

__all__ = [
    "max_softmax_probability",
    "risk_coverage_curve",
    "aurc",
    "optimal_aurc",
    "excess_aurc",
    "failure_auroc",
    "auroc",
    "normalised_logit_confidence",
    "select_norm_p",
]


def _check_scores(scores: object, name: str) -> torch.Tensor:
    """Real scores ``[N]`` (N >= 1) as float64; +-inf ranks fine, nan does not."""
    scores = as_tensor(scores, name)
    if scores.dtype == torch.bool or scores.dtype.is_complex:
        raise ValueError(f"{name} must be real numbers [N], got dtype {scores.dtype}")
    if scores.dim() != 1:
        raise ValueError(f"{name} must be 1-D [N], got shape {tuple(scores.shape)}")
    if scores.numel() == 0:
        raise ValueError(f"{name} must hold at least one example, got an empty tensor")
    scores = scores.to(torch.float64)
    if torch.isnan(scores).any():
        raise ValueError(f"{name} must not contain nan")
    return scores


def _check_pair(
    confidence: object, correct: object, names: tuple[str, str] = ("confidence", "correct")
) -> tuple[torch.Tensor, torch.Tensor]:
    confidence = _check_scores(confidence, names[0])
    correct = check_binary(correct, names[1])
    if confidence.shape != correct.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length, got {confidence.numel()} and "
            f"{correct.numel()}"
        )
    return confidence, correct


def max_softmax_probability(logits: torch.Tensor) -> torch.Tensor:
    """The max softmax probability of each row of logits [N, K]: the baseline confidence score."""
    logits = check_finite(check_logits(logits), "logits")
    return logits.float().softmax(dim=1).amax(dim=1)


def risk_coverage_curve(
    confidence: torch.Tensor, correct: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Coverage k/N and selective risk (error rate of the k most confident) for k = 1..N.

    Tied confidences are kept or dropped together: inside a tie group the curve reports the group's
    end point at every k of the group, so the result does not depend on the order of ties.
    """
    confidence, correct = _check_pair(confidence, correct)
    n = confidence.numel()
    order = torch.argsort(confidence, descending=True, stable=True)
    conf_sorted = confidence[order]
    errors = torch.cumsum((~correct[order]).double(), dim=0)
    k = torch.arange(1, n + 1, dtype=torch.float64)
    # end index of each tie group, so ties are treated as one block
    last_of_group = torch.ones(n, dtype=torch.bool)
    last_of_group[:-1] = conf_sorted[1:] != conf_sorted[:-1]
    end_index = torch.where(last_of_group, torch.arange(n), torch.full((n,), n))
    group_end = torch.flip(torch.cummin(torch.flip(end_index, [0]), 0).values, [0])
    risk = errors[group_end] / k[group_end]
    return k / n, risk


def aurc(confidence: torch.Tensor, correct: torch.Tensor) -> float:
    """Area under the risk-coverage curve: the mean selective risk over coverages 1/N, ..., 1."""
    _, risk = risk_coverage_curve(confidence, correct)
    return float(risk.mean())


def optimal_aurc(correct: torch.Tensor) -> float:
    """AURC of an oracle score that ranks every correct prediction above every error (same error
    rate)."""
    correct = check_binary(correct, "correct")
    n, n_right = correct.numel(), int(correct.sum())
    if n == 0:
        raise ValueError("correct must hold at least one example, got an empty tensor")
    k = torch.arange(n_right + 1, n + 1, dtype=torch.float64)
    # risk 0 up to coverage n_right/N, then (k - n_right) / k: only errors are added
    return float(((k - n_right) / k).sum() / n)


def excess_aurc(confidence: torch.Tensor, correct: torch.Tensor) -> float:
    """E-AURC: AURC minus the oracle's, so that models with different accuracy can be compared on
    ranking."""
    _, correct_b = _check_pair(confidence, correct)
    return aurc(confidence, correct_b) - optimal_aurc(correct_b)


def auroc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random
    negative (ties count one half), computed from ranks (Mann-Whitney U)."""
    return _auroc(*_check_pair(scores, positive, ("scores", "positive")), "positive")


def _auroc(scores: torch.Tensor, positive: torch.Tensor, name: str) -> float:
    n_pos = int(positive.sum())
    n_neg = positive.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"{name} must hold at least one positive and one negative example (AUROC compares "
            f"them), got {n_pos} positive of {positive.numel()}"
        )
    order = torch.argsort(scores, stable=True)
    s = scores[order]
    ranks = torch.empty_like(s)
    ranks_sorted = torch.arange(1, s.numel() + 1, dtype=torch.float64)
    # average ranks over ties
    _, inverse, counts = torch.unique_consecutive(s, return_inverse=True, return_counts=True)
    group_sum = torch.zeros(counts.numel(), dtype=torch.float64).index_add_(
        0, inverse, ranks_sorted
    )
    ranks = (group_sum / counts)[inverse]
    rank_pos = ranks[positive[order]].sum()
    return float((rank_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def failure_auroc(confidence: torch.Tensor, correct: torch.Tensor) -> float:
    """How well the confidence separates correct predictions from failures (AUROC, 0.5 = chance)."""
    return _auroc(*_check_pair(confidence, correct), "correct")


def normalised_logit_confidence(
    logits: torch.Tensor, p: float = 2.0, *, centre: bool = True
) -> torch.Tensor:
    """Confidence from normalised logits: ``max_k (z_k - mean(z)) / ||z - mean(z)||_p`` per row.

    The post-hoc score Xia et al. (2025) use to undo what label smoothing does to selective
    classification (Cattelan and Silva's MaxLogit-pNorm): the logits are centred (with
    ``centre``), divided by their ``p``-norm, and the largest entry is the confidence. It ranks
    inputs by the direction of the logit vector, not by its size. A row whose centred logits are
    all zero (no preferred class) gets confidence 0, the lowest a centred row can have.
    Returns float64 ``[N]``.
    """
    return _normalised_max(_checked_logits(logits, centre), check_float(p, "p", 1.0))


def _checked_logits(logits: torch.Tensor, centre: bool) -> torch.Tensor:
    """Validated float64 logits, centred per row if ``centre``."""
    z = check_finite(check_logits(logits), "logits").detach().double()
    return z - z.mean(dim=1, keepdim=True) if check_bool(centre, "centre") else z


def _normalised_max(z: torch.Tensor, p: float) -> torch.Tensor:
    norm = torch.linalg.vector_norm(z, ord=p, dim=1)
    top = z.amax(dim=1)
    return torch.where(norm > 0, top / norm.clamp_min(1e-300), torch.zeros_like(top))


def select_norm_p(
    logits: torch.Tensor,
    correct: torch.Tensor,
    ps: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0),
    *,
    centre: bool = True,
) -> float:
    """The ``p`` of :func:`normalised_logit_confidence` with the lowest AURC on ``(logits,
    correct)``, a held-out split (Xia et al. search ``p`` in 1..10 this way). Ties go to the
    smaller ``p``."""
    z = _checked_logits(logits, centre)
    if len(ps) == 0:
        raise ValueError("ps must name at least one p")
    correct = check_binary(correct, "correct")
    if correct.shape != (z.shape[0],):
        raise ValueError(
            f"logits rows and correct must have the same length, got {z.shape[0]} and "
            f"{correct.numel()}"
        )
    scores = {}
    for p in ps:
        p = check_float(p, "p", 1.0)
        scores[p] = aurc(_normalised_max(z, p), correct)
    return min(scores, key=lambda p: (scores[p], p))
