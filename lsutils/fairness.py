"""Per-class effects: who gains and who loses when a training choice (such as smoothing) changes.

Averages hide that a change can help some classes and hurt others. These functions split accuracy
and calibration error by true class, and compare two models class by class.
"""

from __future__ import annotations

import torch

from ._validate import check_int, check_labels, check_probs
from .calibration import _calibration_bins, _ece

__all__ = ["per_class_accuracy", "per_class_ece", "per_class_deltas"]


def _probs_labels(probs: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    probs = check_probs(probs)
    labels = check_labels(labels, probs.shape[1])
    if labels.shape[0] != probs.shape[0]:
        raise ValueError(
            f"labels must have shape [{probs.shape[0]}] (one per row of probs), "
            f"got {tuple(labels.shape)}"
        )
    return probs, labels


def per_class_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy on the examples of each true class: [K] (nan for a class with no examples)."""
    probs, labels = _probs_labels(probs, labels)
    k = probs.shape[1]
    correct = (probs.argmax(dim=1) == labels).double()
    hits = torch.zeros(k, dtype=torch.float64).index_add_(0, labels, correct)
    counts = torch.bincount(labels, minlength=k).double()
    return hits / counts


def per_class_ece(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> torch.Tensor:
    """Expected calibration error (max-probability confidence, equal-width bins) within each true
    class: [K] (nan for a class with no examples).

    Within a class, ECE measures how far the confidence is from the accuracy the model reaches
    there. The bins are those of :func:`lsutils.calibration.expected_calibration_error`.
    """
    n_bins = check_int(n_bins, "n_bins", 1)
    probs, labels = _probs_labels(probs, labels)
    k = probs.shape[1]
    confidence, pred = probs.max(dim=1)
    confidence = confidence.to(torch.float64)
    correct = pred == labels
    out = torch.full((k,), float("nan"), dtype=torch.float64)
    for c in range(k):
        m = labels == c
        if m.any():
            out[c] = _ece(_calibration_bins(confidence[m], correct[m], n_bins))
    return out


def per_class_deltas(
    probs_a: torch.Tensor, probs_b: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> dict[str, torch.Tensor]:
    """Per-class change from model a to model b: accuracy (b - a) and ECE (b - a), each [K]."""
    probs_a = check_probs(probs_a, "probs_a")
    probs_b = check_probs(probs_b, "probs_b")
    if probs_a.shape != probs_b.shape:
        raise ValueError(
            "probs_a and probs_b (the two models' probabilities) must have the same shape, "
            f"got {tuple(probs_a.shape)} and {tuple(probs_b.shape)}"
        )
    return {
        "accuracy": per_class_accuracy(probs_b, labels) - per_class_accuracy(probs_a, labels),
        "ece": per_class_ece(probs_b, labels, n_bins) - per_class_ece(probs_a, labels, n_bins),
    }
