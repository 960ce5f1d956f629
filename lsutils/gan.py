"""A tiny 2-D GAN for studying one-sided label smoothing of the discriminator (Salimans et al.,
2016).

The discriminator is trained with binary cross-entropy against target ``real_target`` on data and
``fake_target`` on generated points: ``(1, 0)`` is the standard GAN, ``(0.9, 0)`` one-sided
smoothing and ``(0.9, 0.1)`` two-sided smoothing. The generator uses the non-saturating loss ``-log
D(G(z))``. With targets ``(a, b)`` the optimal discriminator is ``D*(x) = (a p_data + b p_model) /
(p_data + p_model)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validate import check_float, check_float_tensor, check_int
from .loop import num_threads, seeded_init
from .models import small_mlp
from .stacked import StackedSmallMLP

__all__ = [
    "ring_centers",
    "sample_ring",
    "GanResult",
    "train_gan",
    "train_discriminator",
    "mode_coverage",
    "energy_distance",
    "GanEnsemble",
    "train_gans",
]


def ring_centers(num_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Centres ``[num_modes, 2]`` of Gaussians evenly spaced on a circle of ``radius``."""
    num_modes = check_int(num_modes, "num_modes", 1)
    radius = check_float(radius, "radius", 0.0, low_open=True)
    angle = 2 * math.pi * torch.arange(num_modes, dtype=torch.float32) / num_modes
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def sample_ring(
    n: int, generator: torch.Generator, num_modes: int = 8, radius: float = 2.0, std: float = 0.05
) -> torch.Tensor:
    """``n`` points ``[n, 2]`` from an equal mixture of Gaussians (standard deviation ``std``) on a
    ring."""
    n = check_int(n, "n", 1)
    std = check_float(std, "std", 0.0, low_open=True)
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {generator!r}")
    centers = ring_centers(num_modes, radius)
    num_modes = centers.shape[0]
    which = torch.randint(num_modes, (n,), generator=generator)
    return centers[which] + std * torch.randn(n, 2, generator=generator)


@dataclass
class GanResult:
    """A trained generator and discriminator, and the discriminator's mean logits during
    training."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    latent_dim: int
    real_logit: list[float]
    fake_logit: list[float]

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` generated points ``[n, 2]``, seeded."""
        n = check_int(n, "n", 1)
        gen = torch.Generator().manual_seed(check_int(seed, "seed", 0))
        with torch.no_grad():
            return self.generator(torch.randn(n, self.latent_dim, generator=gen))


def train_gan(
    real_target: float = 1.0,
    fake_target: float = 0.0,
    *,
    steps: int = 2000,
    batch_size: int = 256,
    hidden: int = 128,
    latent_dim: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    log_every: int = 50,
    **ring_kwargs: float,
) -> GanResult:
    """Train a GAN on the ring of Gaussians with discriminator targets ``real_target`` /
    ``fake_target``."""
    real_target, fake_target = _check_targets(real_target, fake_target)
    steps, batch_size = check_int(steps, "steps", 0), check_int(batch_size, "batch_size", 1)
    hidden, latent_dim = check_int(hidden, "hidden", 1), check_int(latent_dim, "latent_dim", 1)
    lr = check_float(lr, "lr", 0.0, low_open=True)
    seed, log_every = check_int(seed, "seed", 0), check_int(log_every, "log_every", 1)
    unknown = set(ring_kwargs) - {"num_modes", "radius", "std"}
    if unknown:
        raise TypeError(
            f"train_gan got unexpected keyword arguments {sorted(unknown)}; the ring takes "
            "num_modes, radius and std"
        )
    sample_ring(1, torch.Generator(), **ring_kwargs)  # checks the ring's arguments up front
    torch.manual_seed(seed)
    data_gen = torch.Generator().manual_seed(seed + 10_000)
    G, D = small_mlp(latent_dim, 2, hidden), small_mlp(2, 1, hidden)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    t_real = torch.full((batch_size, 1), float(real_target))
    t_fake = torch.full((batch_size, 1), float(fake_target))
    ones = torch.ones(batch_size, 1)
    real_log, fake_log = [], []
    for step in range(steps):
        real = sample_ring(batch_size, data_gen, **ring_kwargs)
        fake = G(torch.randn(batch_size, latent_dim, generator=data_gen))
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            d_real, t_real
        ) + F.binary_cross_entropy_with_logits(d_fake, t_fake)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)  # non-saturating: -log D(G(z))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if step % log_every == 0 or step == steps - 1:
            real_log.append(float(d_real.detach().mean()))
            fake_log.append(float(d_fake.detach().mean()))
    return GanResult(G.eval(), D.eval(), latent_dim, real_log, fake_log)


def _check_targets(real_target: float, fake_target: float) -> tuple[float, float]:
    real_target = check_float(real_target, "real_target", 0.0, 1.0)
    fake_target = check_float(fake_target, "fake_target", 0.0, 1.0)
    if not fake_target < real_target:
        raise ValueError(
            f"fake_target must be below real_target, got {fake_target} and {real_target}"
        )
    return real_target, fake_target


def _check_points(value: object, name: str, columns: int | None = None) -> torch.Tensor:
    x = check_float_tensor(value, name, "[n, d]", min_rows=1, finite=True)
    if columns is not None and x.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns [n, {columns}], got {tuple(x.shape)}")
    return x


def mode_coverage(
    samples: torch.Tensor,
    centers: torch.Tensor,
    std: float,
    *,
    radius_in_std: float = 3.0,
    min_share: float = 0.01,
) -> tuple[int, float]:
    """Modes covered and the fraction of high-quality samples.

    A sample is high quality when it lies within ``radius_in_std`` standard deviations of its
    nearest centre; a mode is covered when at least ``min_share`` of all samples are high quality
    near it.
    """
    centers = _check_points(centers, "centers")
    samples = _check_points(samples, "samples", centers.shape[1])
    std = check_float(std, "std", 0.0, low_open=True)
    radius_in_std = check_float(radius_in_std, "radius_in_std", 0.0, low_open=True)
    min_share = check_float(min_share, "min_share", 0.0, 1.0)
    dist = torch.cdist(samples.float(), centers.float())
    nearest, which = dist.min(dim=1)
    good = nearest <= radius_in_std * std
    counts = torch.bincount(which[good], minlength=centers.shape[0])
    covered = int((counts >= min_share * samples.shape[0]).sum())
    return covered, float(good.float().mean())


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` between two samples (V-statistic).

    Zero if and only if the two distributions are equal (in the population limit).
    """
    x = _check_points(x, "x")
    y = _check_points(y, "y", x.shape[1])
    x, y = x.double(), y.double()
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())


def train_discriminator(
    real: torch.Tensor,
    fake: torch.Tensor,
    real_target: float = 1.0,
    fake_target: float = 0.0,
    *,
    steps: int = 500,
    hidden: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
) -> torch.nn.Module:
    """Train only a discriminator (full batch) to tell fixed ``real [n, 2]`` from fixed ``fake [m,
    2]`` points."""
    real_target, fake_target = _check_targets(real_target, fake_target)
    real = _check_points(real, "real")
    fake = _check_points(fake, "fake", real.shape[1])
    steps, hidden = check_int(steps, "steps", 0), check_int(hidden, "hidden", 1)
    lr = check_float(lr, "lr", 0.0, low_open=True)
    seed = check_int(seed, "seed", 0)
    torch.manual_seed(seed)
    D = small_mlp(real.shape[1], 1, hidden)
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    t_real = torch.full((real.shape[0], 1), float(real_target))
    t_fake = torch.full((fake.shape[0], 1), float(fake_target))
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(
            D(real), t_real
        ) + F.binary_cross_entropy_with_logits(D(fake), t_fake)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return D.eval()


@dataclass
class GanEnsemble:
    """GANs trained together (:func:`train_gans`): member ``m`` has discriminator targets
    ``targets[m]`` and training seed ``seeds[m]``."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    latent_dim: int
    targets: list[tuple[float, float]]
    seeds: list[int]

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` samples of every member ``[M, n, 2]``, all from the same latent draws."""
        n = check_int(n, "n", 1)
        gen = torch.Generator().manual_seed(check_int(seed, "seed", 0))
        with torch.no_grad():
            return self.generator(torch.randn(n, self.latent_dim, generator=gen))


class _GanPair(torch.nn.Module):
    def __init__(self, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.G, self.D = small_mlp(latent_dim, 2, hidden), small_mlp(2, 1, hidden)


def _check_targets(real_target: float, fake_target: float) -> tuple[float, float]:
    real = check_float(real_target, "real_target", 0.0, 1.0)
    fake = check_float(fake_target, "fake_target", 0.0, 1.0)
    if not fake < real:
        raise ValueError(f"fake_target must be below real_target, got {fake} and {real}")
    return real, fake


@num_threads(1)  # tiny networks: more threads only add overhead
def train_gans(
    targets: Sequence[tuple[float, float]],
    seeds: Sequence[int],
    *,
    steps: int = 1500,
    batch_size: int = 256,
    hidden: int = 64,
    latent_dim: int = 8,
    lr: float = 1e-3,
) -> GanEnsemble:
    """Train one GAN per (targets, seed) pair on the ring, all at once (:mod:`lsutils.stacked`).

    Members are ordered target setting by target setting, seeds within: member ``i * len(seeds) +
    j`` has ``targets[i]`` and ``seeds[j]``. Members with the same seed share their initial weights,
    their latent draws and their data batches, so settings are compared *paired*: only the
    discriminator targets differ. Member ``(targets, seed)`` is trained exactly as :func:`train_gan`
    trains one with that seed (same initial weights, data and latent draws), up to rounding.
    """
    pairs = [_check_targets(*t) for t in targets]
    seeds = [check_int(s, "seed", 0) for s in seeds]
    if not pairs or not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("need at least one target pair and distinct seeds")
    steps, batch_size = check_int(steps, "steps", 1), check_int(batch_size, "batch_size", 1)
    lr = check_float(lr, "lr", 0.0, 1.0, low_open=True)
    member_seeds = seeds * len(pairs)
    # the initial weights train_gan draws: G, then D, from torch.manual_seed(seed)
    inits = [seeded_init(lambda: _GanPair(latent_dim, hidden), s) for s in member_seeds]
    G = StackedSmallMLP.from_networks([p.G for p in inits])
    D = StackedSmallMLP.from_networks([p.D for p in inits])
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    t_real = torch.tensor([p[0] for p in pairs]).repeat_interleave(len(seeds))[:, None, None]
    t_fake = torch.tensor([p[1] for p in pairs]).repeat_interleave(len(seeds))[:, None, None]
    t_real, t_fake = t_real.expand(-1, batch_size, 1), t_fake.expand(-1, batch_size, 1)
    ones = torch.ones(len(member_seeds), batch_size, 1)
    gens = [torch.Generator().manual_seed(s + 10_000) for s in seeds]

    def bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # each member's mean loss, summed over members: every member gets its own gradient
        return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / batch_size

    for _ in range(steps):
        real = torch.stack([sample_ring(batch_size, g) for g in gens]).repeat(len(pairs), 1, 1)
        z = torch.stack([torch.randn(batch_size, latent_dim, generator=g) for g in gens])
        fake = G(z.repeat(len(pairs), 1, 1))
        loss_d = bce(D(real), t_real) + bce(D(fake.detach()), t_fake)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(fake), ones)  # non-saturating: -log D(G(z))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    member_targets = [p for p in pairs for _ in seeds]
    return GanEnsemble(G.eval(), D.eval(), latent_dim, member_targets, member_seeds)
