"""Value learning on a small Markov chain: the test bed of the reinforcement-learning chapter.

A fair random walk on a chain of states with walls at both ends and Bernoulli rewards has a value
function that linear algebra gives exactly (:func:`chain_random_walk`). :func:`monte_carlo_returns`
samples discounted returns from it, and :func:`fit_value_network` fits a small network to scalar
targets by regression or by classification over bins (the target constructions of
:mod:`lsutils.value_targets`).
"""

from __future__ import annotations

import torch

from .models import small_mlp
from .value_targets import (
    _check_sorted,
    _check_values,
    bin_centers,
    expected_value,
    hl_gauss,
    one_hot_bins,
    two_hot,
)

__all__ = ["chain_random_walk", "monte_carlo_returns", "fit_value_network", "VALUE_METHODS"]


def chain_random_walk(
    num_states: int, gamma: float, reward_prob: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Transition matrix ``P [S, S]`` of a fair random walk on a chain (walls at both ends) and its
    exact value function ``V = (I - gamma P)^{-1} r`` for Bernoulli rewards with mean ``reward_prob
    [S]``."""
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

    Returns ``(start_state [S * n], G [S * n])`` with ``n = samples_per_state`` episodes from each
    state.
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
    """Train a small MLP on inputs ``x [N, d]`` and scalar targets ``y [N]``; return its predicted
    means at ``x_eval [M, d]`` (float64).

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
    net = small_mlp(x.shape[1], out, hidden)
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
