"""Value learning on a small Markov chain: the test bed of the reinforcement-learning chapter.

A fair random walk on a chain of states with walls at both ends and Bernoulli rewards has a value
function that linear algebra gives exactly (:func:`chain_random_walk`). :func:`td_value_learning`
learns it by temporal differences (bootstrapped targets from a target network), by regression or by
classification over bins (the target constructions of :mod:`lsutils.value_targets`), for several
losses and seeds at once.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ._validate import check_choice, check_float, check_int
from .loop import num_threads
from .stacked import StackedSmallMLP
from .value_targets import (
    _check_sorted,
    bin_centers,
    hl_gauss,
    one_hot_bins,
    two_hot,
)

__all__ = [
    "chain_random_walk",
    "TD_METHODS",
    "TDResult",
    "td_value_learning",
]


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


#: Losses :func:`td_value_learning` compares: squared error on the TD target (raw, or divided by
#: the largest bin edge) and cross-entropy against a distribution over bins built from it.
TD_METHODS = ("mse", "mse_scaled", "one_hot", "two_hot", "hl_gauss")


@dataclass
class TDResult:
    """Values predicted during :func:`td_value_learning`: ``values[t, i, j, s]`` is method
    ``methods[i]``, seed ``seeds[j]``, state ``s`` after ``steps[t]`` updates (float64)."""

    values: torch.Tensor
    steps: list[int]
    methods: list[str]
    seeds: list[int]

    def final(self, method: str) -> torch.Tensor:
        """Predicted values ``[len(seeds), S]`` of ``method`` at the end of training."""
        return self.values[-1, self.methods.index(check_choice(method, "method", TD_METHODS))]


def _bin_targets(method: str, y: torch.Tensor, edges: torch.Tensor, sigma: float) -> torch.Tensor:
    if method == "one_hot":
        return one_hot_bins(y, edges)
    if method == "two_hot":
        return two_hot(y, bin_centers(edges))
    return hl_gauss(y, edges, sigma)


@num_threads(1)  # tiny networks: more threads only add overhead
def td_value_learning(
    reward_prob: torch.Tensor,
    gamma: float,
    methods: Sequence[str],
    seeds: Sequence[int],
    edges: torch.Tensor,
    *,
    sigma_bins: float = 0.75,
    hidden: int = 64,
    steps: int = 2000,
    batch_size: int = 64,
    lr: float = 3e-3,
    target_every: int = 50,
    log_every: int = 100,
) -> TDResult:
    """Learn the chain random walk's value function by temporal differences, with each loss of
    ``methods`` and each of ``seeds``, all networks trained together (:mod:`lsutils.stacked`).

    Every step draws, per seed, ``batch_size`` transitions ``(s, r, s')`` (``s`` uniform over the
    states, a random-walk step, a Bernoulli reward) and forms the TD target ``y = r + gamma
    V_target(s')`` from a *target network*, a copy of the network refreshed every ``target_every``
    steps (as in DQN). "mse" regresses ``y``, "mse_scaled" regresses ``y / edges[-1]``; "one_hot",
    "two_hot" and "hl_gauss" (width ``sigma_bins`` bin widths) turn ``y`` into a distribution over
    the bins ``edges`` and minimise cross-entropy against it, and decode a value as the mean over
    the bin centres (Farebrother et al., 2024). The network sees the state as its position ``s /
    (S - 1)`` in ``[0, 1]``. Networks of the same seed share initial weights and transitions.
    """
    reward_prob = torch.as_tensor(reward_prob, dtype=torch.float64)
    num_states = reward_prob.numel()
    chain_random_walk(num_states, gamma, reward_prob)  # validates gamma and reward_prob
    if ((reward_prob < 0) | (reward_prob > 1)).any():
        raise ValueError("reward_prob must lie in [0, 1]")
    methods = [check_choice(m, "method", TD_METHODS) for m in methods]
    seeds = [check_int(s, "seed", 0) for s in seeds]
    if not methods or not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("need at least one method and distinct seeds")
    edges = _check_sorted(edges, "edges", 3)
    centers = bin_centers(edges).float()
    sigma = check_float(sigma_bins, "sigma_bins", 0.0, low_open=True) * float(edges[1] - edges[0])
    steps, batch_size = check_int(steps, "steps", 1), check_int(batch_size, "batch_size", 1)
    target_every, log_every = (
        check_int(target_every, "target_every", 1),
        check_int(log_every, "log_every", 1),
    )
    n_seeds, num_bins, v_max = len(seeds), centers.numel(), float(edges[-1])
    net = StackedSmallMLP(1, num_bins, seeds * len(methods), hidden)
    target = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=check_float(lr, "lr", 0.0, low_open=True))
    position = (torch.arange(num_states, dtype=torch.float32) / (num_states - 1))[:, None]
    gens = [torch.Generator().manual_seed(s + 20_000) for s in seeds]

    def decode(out: torch.Tensor) -> torch.Tensor:  # [M, B, bins] -> values [M, B]
        parts = []
        for i, m in enumerate(methods):
            o = out[i * n_seeds : (i + 1) * n_seeds]
            if m == "mse":
                parts.append(o[..., 0])
            elif m == "mse_scaled":
                parts.append(o[..., 0] * v_max)
            else:
                parts.append(o.softmax(dim=-1) @ centers)
        return torch.cat(parts)

    logged, logged_steps = [], []
    for step in range(steps + 1):
        if step % log_every == 0 or step == steps:
            with torch.no_grad():
                logged.append(decode(net(position)).double().view(len(methods), n_seeds, -1))
            logged_steps.append(step)
        if step == steps:
            break
        if step % target_every == 0:
            target.load_state_dict(net.state_dict())
        s, r, s_next = [], [], []
        for g in gens:
            si = torch.randint(num_states, (batch_size,), generator=g)
            move = torch.where(torch.rand(batch_size, generator=g) < 0.5, -1, 1)
            s.append(si)
            s_next.append((si + move).clamp(0, num_states - 1))
            r.append(torch.rand(batch_size, generator=g, dtype=torch.float64) < reward_prob[si])
        s, s_next = (
            torch.stack(s).repeat(len(methods), 1),
            torch.stack(s_next).repeat(len(methods), 1),
        )
        r = torch.stack(r).float().repeat(len(methods), 1)
        with torch.no_grad():
            y = r + gamma * decode(target(position[s_next]))  # [M, B]
        out = net(position[s])
        loss = out.new_zeros(())
        for i, m in enumerate(methods):
            rows = slice(i * n_seeds, (i + 1) * n_seeds)
            o, yi = out[rows], y[rows]
            if m.startswith("mse"):
                scale = v_max if m == "mse_scaled" else 1.0
                loss = loss + (o[..., 0] - yi / scale).pow(2).mean(dim=1).sum()
            else:
                t = _bin_targets(m, yi.flatten().double(), edges, sigma).float()
                t = t.view(n_seeds, batch_size, num_bins)
                ce = -(t * o.log_softmax(dim=-1)).sum(dim=-1)
                loss = loss + ce.mean(dim=1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return TDResult(torch.stack(logged), logged_steps, methods, seeds)
