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

from ._validate import as_tensor, check_float, check_float_tensor, check_int

__all__ = [
    "uniform_bins",
    "bin_centers",
    "one_hot_bins",
    "two_hot",
    "hl_gauss",
    "expected_value",
]


def _check_sorted(points: torch.Tensor, name: str, min_len: int) -> torch.Tensor:
    """Finite, strictly increasing points ``[M]``, ``M >= min_len`` (integers become float64)."""
    points = as_tensor(points, name)
    if points.dtype == torch.bool or points.dtype.is_complex:
        raise ValueError(f"{name} must be real numbers, got dtype {points.dtype}")
    if not points.dtype.is_floating_point:
        points = points.double()
    if points.dim() != 1 or points.numel() < min_len:
        raise ValueError(
            f"{name} must be a 1-D tensor with at least {min_len} entries, "
            f"got shape {tuple(points.shape)}"
        )
    if not torch.isfinite(points).all():
        bad = int((~torch.isfinite(points)).sum())
        raise ValueError(f"{name} must be finite, got {bad} nan or inf of {points.numel()}")
    steps = points[1:] > points[:-1]
    if not steps.all():
        i = int((~steps).nonzero()[0])
        raise ValueError(
            f"{name} must be strictly increasing, got {name}[{i + 1}] = {float(points[i + 1]):g} "
            f"after {name}[{i}] = {float(points[i]):g}"
        )
    return points


def _check_values(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Scalar targets ``[N]`` in ``dtype``; +-inf is allowed (clipped to the support), not nan."""
    y = as_tensor(y, "y")
    if y.dtype == torch.bool or y.dtype.is_complex:
        raise ValueError(f"y must be a real tensor of scalar targets, got dtype {y.dtype}")
    if y.dim() != 1:
        raise ValueError(f"y must be 1-D [N], got shape {tuple(y.shape)}")
    y = y.to(dtype)
    if torch.isnan(y).any():
        raise ValueError("y must not contain nan (a scalar target per example)")
    return y


def uniform_bins(low: float, high: float, num_bins: int) -> torch.Tensor:
    """Edges ``[num_bins + 1]`` (float64) of ``num_bins`` equal bins covering ``[low, high]``."""
    num_bins = check_int(num_bins, "num_bins", 2)
    low, high = check_float(low, "low"), check_float(high, "high")
    if not low < high:
        raise ValueError(f"low must be below high (both finite), got low={low}, high={high}")
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


def _erf_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``erf(b) - erf(a)`` for ``a <= b`` without cancellation: through ``erfc`` when both lie in
    the same tail (beyond 1), where ``erf`` is close to +-1; near 0 ``erf`` itself is exact."""
    upper = torch.special.erfc(a) - torch.special.erfc(b)  # a >= 1: erfc small and exact
    lower = torch.special.erfc(-b) - torch.special.erfc(-a)  # b <= -1
    middle = torch.special.erf(b) - torch.special.erf(a)
    return torch.where(a >= 1, upper, torch.where(b <= -1, lower, middle))


def hl_gauss(y: torch.Tensor, edges: torch.Tensor, sigma: float) -> torch.Tensor:
    """HL-Gauss targets ``[N, B]``: the mass of ``Normal(y, sigma^2)`` in each bin, renormalised to
    1.

    Computed as differences of the normal CDF at the bin edges, written with ``erf`` near the mean
    and ``erfc`` in the tails, so that neither a wide (``sigma`` much larger than the support: the
    bins get mass in proportion to their width) nor a narrow Gaussian loses its mass to rounding.
    ``y`` is clipped to the support ``[e_0, e_B]``. Farebrother et al. (2024) set ``sigma`` to about
    0.75 bin widths.
    """
    edges = _check_sorted(edges, "edges", 3)
    sigma = check_float(sigma, "sigma", 0.0, low_open=True)
    y = _check_values(y, edges.dtype).clamp(edges[0], edges[-1])
    u = (edges[None, :] - y[:, None]) / (sigma * math.sqrt(2.0))
    mass = _erf_difference(u[:, :-1], u[:, 1:])
    total = mass.sum(dim=1, keepdim=True)
    if not bool((total > 0).all()):
        raise ValueError(
            f"sigma={sigma:g} is too extreme for these bins (the mass underflows); use a sigma "
            "within a few orders of magnitude of the bin width"
        )
    return mass / total


def expected_value(logits: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Decode logits ``[N, B]`` to scalars ``[N]``: the mean ``softmax(logits) @ centers``."""
    centers = _check_sorted(centers, "centers", 2)
    logits = check_float_tensor(logits, "logits", "[N, B]", finite=True)
    if logits.shape[1] != centers.numel():
        raise ValueError(
            f"logits have {logits.shape[1]} columns but there are {centers.numel()} bin centres"
        )
    return logits.softmax(dim=1) @ centers.to(logits.dtype)
