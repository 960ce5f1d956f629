"""Value targets as distributions over bins: one-hot, two-hot and HL-Gauss (Farebrother et al., 2024).

A scalar target ``y`` (a return, a value) is turned into a probability vector over ``B`` ordered bins, a
network is trained with cross-entropy against it, and the prediction is decoded back to a scalar as the
expectation ``sum_b q_b c_b`` over the bin centres ``c``. Two-hot and HL-Gauss are label smoothing over an
ordered label set: the mass that one-hot puts on a single bin is spread over neighbouring bins.

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
    "chain_random_walk",
    "monte_carlo_returns",
    "fit_value_network",
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
    """One-hot targets ``[N, B]``: all mass on the bin that contains ``y`` (clipped to the support)."""
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
    """HL-Gauss targets ``[N, B]``: the mass of ``Normal(y, sigma^2)`` in each bin, renormalised to 1.

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


# --- a small experiment: the value function of a random walk on a chain ---------------------------


def chain_random_walk(
    num_states: int, gamma: float, reward_prob: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Transition matrix ``P [S, S]`` of a fair random walk on a chain (walls at both ends) and its exact
    value function ``V = (I - gamma P)^{-1} r`` for Bernoulli rewards with mean ``reward_prob [S]``."""
    if not 0 <= gamma < 1:
        raise ValueError(f"gamma must lie in [0, 1), got {gamma}")
    reward_prob = torch.as_tensor(reward_prob, dtype=torch.float64)
    if reward_prob.shape != (num_states,) or num_states < 2:
        raise ValueError(f"reward_prob must have shape [{num_states}] and num_states >= 2")
    P = torch.zeros(num_states, num_states, dtype=torch.float64)
    idx = torch.arange(num_states)
    P.index_put_(
        (idx, (idx - 1).clamp(min=0)),
        torch.full((num_states,), 0.5, dtype=torch.float64),
        accumulate=True,
    )
    P.index_put_(
        (idx, (idx + 1).clamp(max=num_states - 1)),
        torch.full((num_states,), 0.5, dtype=torch.float64),
        accumulate=True,
    )
    V = torch.linalg.solve(torch.eye(num_states, dtype=torch.float64) - gamma * P, reward_prob)
    return P, V


def monte_carlo_returns(
    reward_prob: torch.Tensor, gamma: float, samples_per_state: int, horizon: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sampled discounted returns of the chain random walk, truncated after ``horizon`` steps.

    Returns ``(start_state [S * n], G [S * n])`` with ``n = samples_per_state`` episodes from each state.
    """
    reward_prob = torch.as_tensor(reward_prob, dtype=torch.float64)
    num_states = reward_prob.numel()
    gen = torch.Generator().manual_seed(seed)
    start = torch.arange(num_states).repeat_interleave(samples_per_state)
    state, G, discount = start.clone(), torch.zeros(start.numel(), dtype=torch.float64), 1.0
    for _ in range(horizon):
        G += discount * (
            torch.rand(state.numel(), generator=gen, dtype=torch.float64) < reward_prob[state]
        )
        discount *= gamma
        step = torch.where(torch.rand(state.numel(), generator=gen) < 0.5, -1, 1)
        state = (state + step).clamp(0, num_states - 1)
    return start, G


VALUE_METHODS = ("mse", "mse_scaled", "one_hot", "two_hot", "hl_gauss")


def fit_value_network(
    x: torch.Tensor,
    y: torch.Tensor,
    x_eval: torch.Tensor,
    method: str,
    edges: torch.Tensor,
    *,
    sigma_bins: float = 0.75,
    hidden: int = 64,
    steps: int = 1500,
    lr: float = 3e-3,
    seed: int = 0,
) -> torch.Tensor:
    """Train a small MLP on inputs ``x [N, d]`` and scalar targets ``y [N]``; return its predicted means
    at ``x_eval [M, d]`` (float64).

    ``method``: "mse" (regress ``y``), "mse_scaled" (regress ``y / edges[-1]``, then rescale), or
    cross-entropy against "one_hot", "two_hot" or "hl_gauss" targets over the bins ``edges``
    (HL-Gauss width ``sigma_bins`` bin widths), decoded with :func:`expected_value`.
    Full-batch Adam for ``steps`` steps, seeded.
    """
    if method not in VALUE_METHODS:
        raise ValueError(f"method must be one of {VALUE_METHODS}, got {method!r}")
    edges = _check_sorted(edges, "edges", 3)
    centers = bin_centers(edges)
    y = _check_values(y, torch.float64)
    torch.manual_seed(seed)
    out = 1 if method.startswith("mse") else centers.numel()
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, out),
    )
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    scale = float(edges[-1]) if method == "mse_scaled" else 1.0
    if method == "one_hot":
        targets = one_hot_bins(y, edges)
    elif method == "two_hot":
        targets = two_hot(y, centers)
    elif method == "hl_gauss":
        targets = hl_gauss(y, edges, sigma_bins * float(edges[1] - edges[0]))
    else:
        targets = (y / scale)[:, None]
    x, targets = x.float(), targets.float()
    for _ in range(steps):
        output = net(x)
        if method.startswith("mse"):
            loss = torch.nn.functional.mse_loss(output, targets)
        else:
            loss = torch.nn.functional.cross_entropy(output, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        output = net(x_eval.float()).double()
    return output[:, 0] * scale if method.startswith("mse") else expected_value(output, centers)
