"""Per-class effects: who gains and who loses when a training choice (such as smoothing) changes.

Averages hide that a change can help some classes and hurt others. These functions split accuracy
and calibration error by true class, and compare two models class by class.
"""

from __future__ import annotations

import torch

from ._validate import check_labels, check_logits

__all__ = ["per_class_accuracy", "per_class_ece", "per_class_deltas"]


def per_class_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy on the examples of each true class: [K] (nan for a class with no examples)."""
    check_logits(probs)
    k = probs.shape[1]
    labels = check_labels(labels, k)
    correct = (probs.argmax(dim=1) == labels).double()
    hits = torch.zeros(k, dtype=torch.float64).index_add_(0, labels, correct)
    counts = torch.bincount(labels, minlength=k).double()
    return hits / counts


def _ece(confidence: torch.Tensor, correct: torch.Tensor, n_bins: int) -> float:
    bins = torch.clamp((confidence * n_bins).ceil().long() - 1, 0, n_bins - 1)
    n = confidence.numel()
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            total += float(m.sum()) / n * abs(float(correct[m].mean() - confidence[m].mean()))
    return total


def per_class_ece(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> torch.Tensor:
    """Expected calibration error (max-probability confidence, equal-width bins) within each true
    class: [K].

    Within a class, ECE measures how far the confidence is from the accuracy the model reaches
    there.
    """
    check_logits(probs)
    k = probs.shape[1]
    labels = check_labels(labels, k)
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    confidence, pred = probs.double().max(dim=1)
    correct = (pred == labels).double()
    out = torch.full((k,), float("nan"), dtype=torch.float64)
    for c in range(k):
        m = labels == c
        if m.any():
            out[c] = _ece(confidence[m], correct[m], n_bins)
    return out


def per_class_deltas(
    probs_a: torch.Tensor, probs_b: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> dict[str, torch.Tensor]:
    """Per-class change from model a to model b: accuracy (b - a) and ECE (b - a), each [K]."""
    if probs_a.shape != probs_b.shape:
        raise ValueError(
            f"both models' probabilities must have the same shape, got {tuple(probs_a.shape)} and {tuple(probs_b.shape)}"
        )
    return {
        "accuracy": per_class_accuracy(probs_b, labels) - per_class_accuracy(probs_a, labels),
        "ece": per_class_ece(probs_b, labels, n_bins) - per_class_ece(probs_a, labels, n_bins),
    }
