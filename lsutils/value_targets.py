"""Value targets as distributions over bins: one-hot, two-hot and HL-Gauss (Farebrother et al.,
2024).

A scalar target ``y`` (a return, a value) is turned into a probability vector over ``B`` ordered
bins, a network is trained with cross-entropy against it, and the prediction is decoded back to a
scalar as the expectation ``sum_b q_b c_b`` over the bin centres ``c``. Two-hot and HL-Gauss are
label smoothing over an ordered label set: the mass that one-hot puts on a single bin is spread over
neighbouring bins.

Bins are given by their edges ``e_0 < e_1 < ... < e_B``; bin ``b`` is ``[e_b, e_{b+1}]`` with centre
``(e_b + e_{b+1}) / 2``. Values outside the support are clipped to it.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "uniform_bins",
    "bin_centers",
    "one_hot_bins",
    "two_hot",
    "hl_gauss",
    "expected_value",
]


def _check_sorted(points: torch.Tensor, name: str, min_len: int) -> torch.Tensor:
    points = torch.as_tensor(points)
    if not points.dtype.is_floating_point:
        points = points.double()
    if points.dim() != 1 or points.numel() < min_len:
        raise ValueError(
            f"{name} must be a 1-D tensor with at least {min_len} entries, got shape {tuple(points.shape)}"
        )
    if not torch.isfinite(points).all():
        raise ValueError(f"{name} must be finite")
    if not (points[1:] > points[:-1]).all():
        raise ValueError(f"{name} must be strictly increasing")
    return points


def _check_values(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    y = torch.as_tensor(y)
    if y.dtype == torch.bool or y.dtype.is_complex:
        raise ValueError(f"y must be a real tensor of scalar targets, got dtype {y.dtype}")
    if y.dim() != 1:
        raise ValueError(f"y must be 1-D [N], got shape {tuple(y.shape)}")
    y = y.to(dtype)
    if torch.isnan(y).any():
        raise ValueError("y contains nan")
    return y


def uniform_bins(low: float, high: float, num_bins: int) -> torch.Tensor:
    """Edges ``[num_bins + 1]`` (float64) of ``num_bins`` equal bins covering ``[low, high]``."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 2:
        raise ValueError(f"num_bins must be an integer >= 2, got {num_bins!r}")
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(f"need finite low < high, got low={low}, high={high}")
    return torch.linspace(low, high, num_bins + 1, dtype=torch.float64)


def bin_centers(edges: torch.Tensor) -> torch.Tensor:
    """Centres ``[B]`` of the bins with edges ``[B + 1]``."""
    edges = _check_sorted(edges, "edges", 3)
    return (edges[1:] + edges[:-1]) / 2


def one_hot_bins(y: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """One-hot targets ``[N, B]``: all mass on the bin that contains ``y`` (clipped to the
    support)."""
    edges = _check_sorted(edges, "edges", 3)
    y = _check_values(y, edges.dtype).clamp(edges[0], edges[-1])
    num_bins = edges.numel() - 1
    index = (torch.bucketize(y, edges, right=True) - 1).clamp(0, num_bins - 1)
    return torch.nn.functional.one_hot(index, num_bins).to(edges.dtype)


def two_hot(y: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Two-hot targets ``[N, B]`` over bin ``centers [B]``: mass on the two centres around ``y``.

    The weights are linear interpolation, so ``two_hot(y, c) @ c == y`` exactly for ``y`` in
    ``[c_0, c_{B-1}]``; values outside are clipped to the nearest end centre.
    """
    centers = _check_sorted(centers, "centers", 2)
    y = _check_values(y, centers.dtype).clamp(centers[0], centers[-1])
    num_bins = centers.numel()
    upper = torch.bucketize(y, centers, right=True).clamp(1, num_bins - 1)
    lower = upper - 1
    w_upper = ((y - centers[lower]) / (centers[upper] - centers[lower])).clamp(0.0, 1.0)
    targets = torch.zeros(y.numel(), num_bins, dtype=centers.dtype)
    rows = torch.arange(y.numel())
    targets[rows, lower] = 1.0 - w_upper
    targets[rows, upper] += w_upper
    return targets


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.special.erf(x / math.sqrt(2.0)))


def hl_gauss(y: torch.Tensor, edges: torch.Tensor, sigma: float) -> torch.Tensor:
    """HL-Gauss targets ``[N, B]``: the mass of ``Normal(y, sigma^2)`` in each bin, renormalised to
    1.

    Computed as differences of the normal CDF at the bin edges. ``y`` is clipped to the support
    ``[e_0, e_B]``. Farebrother et al. (2024) set ``sigma`` to about 0.75 bin widths.
    """
    edges = _check_sorted(edges, "edges", 3)
    try:
        sigma = float(sigma)
    except (TypeError, ValueError):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}") from None
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma}")
    y = _check_values(y, edges.dtype).clamp(edges[0], edges[-1])
    cdf = _normal_cdf((edges[None, :] - y[:, None]) / sigma)
    mass = cdf[:, 1:] - cdf[:, :-1]
    return mass / mass.sum(dim=1, keepdim=True)


def expected_value(logits: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Decode logits ``[N, B]`` to scalars ``[N]``: the mean ``softmax(logits) @ centers``."""
    centers = _check_sorted(centers, "centers", 2)
    if (
        not isinstance(logits, torch.Tensor)
        or not logits.dtype.is_floating_point
        or logits.dim() != 2
    ):
        raise ValueError("logits must be a 2-D floating-point tensor [N, B]")
    if logits.shape[1] != centers.numel():
        raise ValueError(
            f"logits have {logits.shape[1]} columns but there are {centers.numel()} bin centres"
        )
    return logits.softmax(dim=1) @ centers.to(logits.dtype)
