"""Calibration metrics and temperature scaling (Guo et al., 2017).

A classifier is calibrated when, among the examples it predicts with confidence ``c``, a fraction
``c`` is right. The top-label expected calibration error (ECE) sorts examples into ``n_bins``
equal-width confidence bins ``((m-1)/M, m/M]`` and averages ``|accuracy - confidence|`` over bins
weighted by their size; the maximum calibration error (MCE) takes the largest gap over non-empty
bins. Temperature scaling divides the logits by one scalar ``T`` fitted on held-out negative
log-likelihood; it changes confidences, never the prediction.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "expected_calibration_error",
    "max_calibration_error",
    "negative_log_likelihood",
    "brier_score",
    "reliability_data",
    "fit_temperature",
    "temperature_scale",
    "calibration_summary",
]


def _check_probs(probs: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    probs = torch.as_tensor(probs)
    labels = torch.as_tensor(labels)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must have shape [N, K] with K >= 2, got {tuple(probs.shape)}")
    if not probs.is_floating_point():
        raise ValueError(f"probs must be floating point, got {probs.dtype}")
    if labels.ndim != 1 or labels.shape[0] != probs.shape[0]:
        raise ValueError(f"labels must have shape [{probs.shape[0]}], got {tuple(labels.shape)}")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class ids, got {labels.dtype}")
    if probs.shape[0] == 0:
        raise ValueError("need at least one example")
    p = probs.double()
    if not torch.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    if not torch.allclose(p.sum(1), torch.ones_like(p[:, 0]), atol=1e-4):
        raise ValueError("each row of probs must sum to 1 (pass softmax(logits), not logits)")
    labels = labels.long()
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must lie in [0, {probs.shape[1] - 1}]")
    return p, labels


def _check_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    return n_bins


def reliability_data(
    probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> dict[str, torch.Tensor]:
    """Per-bin data of a reliability diagram (equal-width bins ``((m-1)/M, m/M]`` of top-label
    confidence).

    Returns float64 tensors ``edges [M+1]``, ``confidence [M]`` and ``accuracy [M]`` (mean per bin,
    0 where empty), ``count [M]`` and ``weight [M]`` (fraction of examples per bin).
    """
    p, labels = _check_probs(probs, labels)
    n_bins = _check_bins(n_bins)
    conf, pred = p.max(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # bin m holds (edges[m], edges[m+1]]; confidence is always > 0 (at least 1/K).
    idx = (torch.bucketize(conf, edges, right=False) - 1).clamp(0, n_bins - 1)
    count = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, idx, torch.ones_like(conf))
    conf_sum = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, idx, conf)
    acc_sum = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, idx, correct)
    safe = count.clamp_min(1)
    return {
        "edges": edges,
        "confidence": conf_sum / safe,
        "accuracy": acc_sum / safe,
        "count": count,
        "weight": count / count.sum(),
    }


def expected_calibration_error(
    probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> float:
    """Top-label ECE with ``n_bins`` equal-width bins: ``sum_m (n_m / N) |acc_m - conf_m|``."""
    d = reliability_data(probs, labels, n_bins)
    return float((d["weight"] * (d["accuracy"] - d["confidence"]).abs()).sum())


def max_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    """Top-label MCE: the largest ``|acc_m - conf_m|`` over non-empty equal-width bins."""
    d = reliability_data(probs, labels, n_bins)
    gaps = (d["accuracy"] - d["confidence"]).abs()[d["count"] > 0]
    return float(gaps.max())


def negative_log_likelihood(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean ``-log p_true`` in nats (probabilities clamped at 1e-12 to stay finite)."""
    p, labels = _check_probs(probs, labels)
    return float(-p.gather(1, labels[:, None]).clamp_min(1e-12).log().mean())


def brier_score(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over examples of ``sum_k (p_k - onehot_k)^2`` (between 0 and 2)."""
    p, labels = _check_probs(probs, labels)
    onehot = torch.nn.functional.one_hot(labels, p.shape[1]).double()
    return float(((p - onehot) ** 2).sum(1).mean())


def temperature_scale(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Probabilities ``softmax(logits / T)``."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    return torch.softmax(torch.as_tensor(logits).double() / temperature, dim=1)


def fit_temperature(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    bounds: tuple[float, float] = (0.05, 20.0),
    tol: float = 1e-6,
) -> float:
    """The temperature ``T`` minimising the mean NLL of ``softmax(logits / T)`` on held-out data.

    The NLL is convex in ``1/T``, so a golden-section search over ``log T`` in ``bounds`` finds the
    minimum without tuning (to a relative precision ``tol``). A result at a bound means the optimum
    lies beyond it.
    """
    z = torch.as_tensor(logits)
    if z.ndim != 2 or not z.is_floating_point():
        raise ValueError(f"logits must be a float tensor [N, K], got {z.dtype} {tuple(z.shape)}")
    z = z.double()
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.shape[0] != z.shape[0] or labels.is_floating_point():
        raise ValueError(f"labels must be integer class ids of shape [{z.shape[0]}]")
    labels = labels.long()
    if labels.min() < 0 or labels.max() >= z.shape[1]:
        raise ValueError(f"labels must lie in [0, {z.shape[1] - 1}]")
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    if not lo < hi:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds!r}")

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(z / math.exp(log_t), labels))

    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(c), nll(d)
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(d)
    return math.exp((a + b) / 2)


def calibration_summary(
    logits: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> dict[str, float]:
    """Accuracy, NLL (nats), ECE, MCE, Brier score and mean confidence of ``softmax(logits)``.

    The NLL comes from ``log_softmax(logits)`` directly, so it is exact even where a probability
    underflows.
    """
    z = torch.as_tensor(logits).double()
    probs = torch.softmax(z, dim=1)
    labels = torch.as_tensor(labels).long()
    _check_probs(probs, labels)
    return {
        "accuracy": float((probs.argmax(1) == labels).double().mean()),
        "nll": float(torch.nn.functional.cross_entropy(z, labels)),
        "ece": expected_calibration_error(probs, labels, n_bins),
        "mce": max_calibration_error(probs, labels, n_bins),
        "brier": brier_score(probs, labels),
        "confidence": float(probs.max(1).values.mean()),
    }
