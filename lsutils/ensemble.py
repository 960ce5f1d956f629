"""Train several small models at once as one vectorised ensemble: cheap seeds.

Comparing two settings honestly needs several training seeds, and on a CPU several seeds of a small
MLP cost little more than one when they run together: :class:`StackedMLP` holds S MLPs of the same
shape as stacked weight tensors and evaluates all of them with batched matrix products. Each member
keeps the initialisation and the data order that a run on its own would use (its own seed), its own
labels and its own smoothing strength, so member ``s`` of :func:`fit_ensemble` equals
:func:`lsutils.loop.fit` with ``configs[s]`` up to floating-point rounding. Models other than
:class:`lsutils.models.MLP` are trained one after the other with :func:`lsutils.loop.fit`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from . import _store
from ._validate import check_labels, check_num_classes
from .loop import (
    FitConfig,
    History,
    LoopState,
    batch_step,
    check_targets,
    fit,
    make_optimizer,
    make_scheduler,
    num_threads,
    run_epochs,
    steps_per_epoch,
)
from .models import MLP
from .stacked import StackedLinears

__all__ = ["StackedMLP", "fit_ensemble", "MEMBER_FIELDS"]

#: Fields of :class:`FitConfig` that may differ between the members of one ensemble.
MEMBER_FIELDS = (
    "seed", "alpha", "convention", "allow_negative", "noise_correction", "temperature",
)  # fmt: skip


class StackedMLP(StackedLinears):
    """S :class:`lsutils.models.MLP` of the same shape, evaluated together: input ``[S, B, ...]``
    to ``[S, B, K]`` (two ``baddbmm`` calls; see :class:`lsutils.stacked.StackedLinears`)."""

    def __init__(self, models: Sequence[MLP]) -> None:
        if not models or not all(isinstance(m, MLP) for m in models):
            raise ValueError("StackedMLP needs a non-empty list of lsutils.models.MLP")
        shapes = {(m.body[1].weight.shape, m.head.weight.shape) for m in models}
        if len(shapes) != 1:
            raise ValueError(f"all members must have the same layer shapes, got {sorted(shapes)}")
        super().__init__([[m.body[1], m.head] for m in models])

    @torch.no_grad()
    def copy_to(self, models: Sequence[MLP]) -> None:
        """Write member ``s``'s weights back into ``models[s]``."""
        if len(models) != self.num_members:
            raise ValueError(f"need {self.num_members} models to copy into, got {len(models)}")
        for s, m in enumerate(models):
            self.write_chain(s, [m.body[1], m.head])


def _shared(configs: Sequence[FitConfig]) -> FitConfig:
    """The loop settings all members share; ``ValueError`` if any other field differs."""
    if not configs:
        raise ValueError("need at least one member")
    base = configs[0]
    reset = {f: getattr(base, f) for f in MEMBER_FIELDS}
    for c in configs[1:]:
        if dataclasses.replace(c, **reset) != base:
            raise ValueError(
                f"ensemble members may differ only in {MEMBER_FIELDS}; got {base} and {c}"
            )
    return base


def _member_targets(ys, configs: Sequence[FitConfig], n: int, K: int) -> torch.Tensor:
    """Labels ``[S, N]`` or target rows ``[S, N, K]``, one tensor per member, validated."""
    out = []
    for y, c in zip(ys, configs, strict=True):
        if not isinstance(y, torch.Tensor) or len(y) != n:
            raise ValueError(f"every member needs a tensor of {n} targets, one per row of x")
        if y.is_floating_point() and y.ndim == 2:
            if y.shape[1] != K or not torch.isfinite(y).all():
                raise ValueError(f"target rows must be finite [N, {K}], got {tuple(y.shape)}")
        else:
            y = check_labels(y, K)
        check_targets(y, c, K)
        out.append(y)
    if len({t.ndim for t in out}) != 1:
        raise ValueError("members must all have labels or all have target rows")
    return torch.stack(out)


def fit_ensemble(
    models: Sequence[nn.Module],
    x: torch.Tensor,
    ys: Sequence[torch.Tensor],
    configs: Sequence[FitConfig],
    *,
    num_classes: int,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> list[History]:
    """Train ``models[s]`` in place on ``(x, ys[s])`` with ``configs[s]``; return one History per
    member.

    The configs may differ only in :data:`MEMBER_FIELDS` (seed, smoothing); all members see the same
    inputs ``x`` in their own seeded order. MLPs train together as a :class:`StackedMLP`; other
    models are trained one after the other with :func:`lsutils.loop.fit`.
    """
    _shared(configs)  # raises if the members differ in anything but MEMBER_FIELDS
    K = check_num_classes(num_classes)
    if not (len(models) == len(ys) == len(configs)):
        raise ValueError("need one model, one label tensor and one config per member")
    if not all(isinstance(m, MLP) for m in models):
        return [
            fit(m, (x, y), c, num_classes=K, device=device, progress=progress)
            for m, y, c in zip(models, ys, configs, strict=True)
        ]
    dev = torch.device(device) if device is not None else _store.default_device()
    y = _member_targets(ys, configs, x.shape[0], K).to(dev)
    net = StackedMLP(models).to(dev)
    histories = _fit_stacked(net, x.to(dev), y, list(configs), K, dev, progress)
    net.copy_to(models)
    for m in models:
        m.to(dev).eval()
    return histories


def _fit_stacked(
    net: StackedMLP, x: torch.Tensor, y: torch.Tensor, configs: list[FitConfig], K: int,
    dev: torch.device, progress: bool,
) -> list[History]:  # fmt: skip
    """The shared epoch loop over the stacked members, each with its own data order."""
    base, n = configs[0], x.shape[0]
    with num_threads():
        opt = make_optimizer(net.parameters(), base, dev)
        sched = make_scheduler(opt, base, base.epochs * steps_per_epoch(n, base))
        gens = [torch.Generator(device="cpu").manual_seed(c.seed) for c in configs]
        state = LoopState(net, opt, sched, gens, [History() for _ in configs])
        step = batch_step(net, x, y, configs, K)
        run_epochs(
            state, step, n, base, device=dev, progress=progress, desc=f"{len(configs)} seeds"
        )
    return state.histories
