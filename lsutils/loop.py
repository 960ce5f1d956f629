"""The training loop every model in the book goes through: configuration, epochs, history,
checkpoints.

:class:`FitConfig` holds every hyperparameter of the loop (loss, optimiser, schedule, batches, seed)
once. :func:`run_epochs` is the epoch loop: a seeded permutation of the examples per member and
epoch, minibatches, backward, optimiser and schedule steps, per-epoch history, and an atomic,
verified checkpoint after every epoch from which an interrupted run resumes. :func:`fit` trains one
``nn.Module`` on in-memory tensors with it; :mod:`lsutils.ensemble` trains several seeds at once and
:mod:`lsutils.finetune` fine-tunes on a GPU with the same loop.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from . import _store
from ._store import num_threads
from ._validate import (
    check_alpha,
    check_choice,
    check_convention,
    check_float,
    check_int,
    check_labels,
    check_num_classes,
)
from .noise import check_noise_rate, forward_corrected_log_likelihood
from .progress import progress_bar
from .targets import to_uniform_alpha

__all__ = [
    "FitConfig",
    "History",
    "LoopState",
    "fit",
    "run_epochs",
    "make_optimizer",
    "make_scheduler",
    "lr_factor",
    "steps_per_epoch",
    "num_threads",
    "seeded_init",
]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class FitConfig:
    """Hyperparameters of the training loop.

    The loss is the label-smoothed cross-entropy with ``alpha`` in ``convention`` (negative alpha
    only with ``allow_negative``). ``optimizer`` is "adam", "adamw" or "sgd" (Nesterov,
    ``momentum``); ``schedule`` is "cosine" (annealed to 0 over all steps, after a linear warm-up
    over ``warmup_frac`` of them) or "constant". ``drop_last`` drops each epoch's last, incomplete
    batch. ``seed`` seeds the order of the examples (and, where the caller builds the model, its
    initialisation).
    """

    alpha: float = 0.0
    convention: str = "uniform"
    allow_negative: bool = False
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_frac: float = 0.0
    drop_last: bool = False
    seed: int = 0
    noise_correction: float = 0.0
    temperature: float = 1.0

    def __post_init__(self) -> None:
        _set = object.__setattr__
        if not isinstance(self.allow_negative, bool):
            raise ValueError(f"allow_negative must be True or False, got {self.allow_negative!r}")
        _set(self, "alpha", check_alpha(self.alpha, allow_negative=self.allow_negative))
        check_convention(self.convention)
        _set(self, "epochs", check_int(self.epochs, "epochs", 1))
        _set(self, "batch_size", check_int(self.batch_size, "batch_size", 1))
        _set(self, "lr", check_float(self.lr, "lr", 0.0, low_open=True))
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        _set(self, "momentum", check_float(self.momentum, "momentum", 0.0, 1.0, high_open=True))
        _set(self, "weight_decay", check_float(self.weight_decay, "weight_decay", 0.0))
        check_choice(self.schedule, "schedule", SCHEDULES)
        _set(
            self,
            "warmup_frac",
            check_float(self.warmup_frac, "warmup_frac", 0.0, 1.0, high_open=True),
        )
        if not isinstance(self.drop_last, bool):
            raise ValueError(f"drop_last must be True or False, got {self.drop_last!r}")
        _set(self, "seed", check_int(self.seed, "seed", 0))
        _set(
            self,
            "noise_correction",
            check_float(self.noise_correction, "noise_correction", 0.0, 1.0, high_open=True),
        )
        _set(self, "temperature", check_float(self.temperature, "temperature", 0.0, low_open=True))
        if self.noise_correction > 0 and self.alpha != 0:
            raise ValueError("use either label smoothing (alpha) or noise_correction, not both")

    def canonical(self) -> dict:
        """A JSON-ready dict of every field (tuples as lists): the basis of cache keys."""
        return json_ready(dataclasses.asdict(self))


def _check_config(config: object) -> None:
    if not isinstance(config, FitConfig):
        raise ValueError(f"config must be a FitConfig, got {type(config).__name__}")


def json_ready(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class History:
    """Per-epoch training metrics of one model: mean train loss (nats), accuracy, learning rate,
    time.

    The loss is the training objective (the smoothed loss for ``alpha > 0``); subtract
    :func:`lsutils.loss_floor` to see how far above its minimum it is.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Total training time in seconds."""
        return float(sum(self.epoch_seconds))

    def excess_loss(self, floor: float) -> list[float]:
        """The train loss of each epoch minus ``floor``."""
        floor = check_float(floor, "floor")
        return [loss - floor for loss in self.train_loss]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**{f.name: list(d[f.name]) for f in dataclasses.fields(cls)})


def seeded_init(make: Callable[[], nn.Module], seed: int) -> nn.Module:
    """Build a model with ``make()`` under ``torch.manual_seed(seed)``, leaving the global RNG
    untouched."""
    if not callable(make):
        raise ValueError(
            f"make must be a callable that builds the model, got {type(make).__name__}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed", 0))
        return make()


def steps_per_epoch(n: int, config: FitConfig) -> int:
    """Minibatches per epoch for ``n`` examples."""
    n = check_int(n, "n", 1)
    steps = n // config.batch_size if config.drop_last else math.ceil(n / config.batch_size)
    if steps < 1:
        raise ValueError(
            f"need at least batch_size={config.batch_size} examples with drop_last=True, got {n}"
        )
    return steps


def lr_factor(step: int, total: int, config: FitConfig) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` of ``total``."""
    step, total = check_int(step, "step", 0), check_int(total, "total", 1)
    if config.schedule == "constant":
        return 1.0
    warm = int(total * config.warmup_frac)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def make_optimizer(params, config: FitConfig, device: torch.device) -> torch.optim.Optimizer:
    """The optimiser ``config`` names, fused where torch supports it on ``device`` (CPU and
    CUDA)."""
    _check_config(config)
    fast = {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}
    common = {"lr": config.lr, "weight_decay": config.weight_decay, **fast}
    if config.optimizer == "adam":
        return torch.optim.Adam(params, **common)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, **common)
    return torch.optim.SGD(params, momentum=config.momentum, nesterov=config.momentum > 0, **common)


def make_scheduler(opt: torch.optim.Optimizer, config: FitConfig, total_steps: int):
    """A LambdaLR following :func:`lr_factor` over ``total_steps`` optimiser steps."""
    _check_config(config)
    total_steps = check_int(total_steps, "total_steps", 1)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total_steps, config))


@dataclass
class LoopState:
    """Everything an interrupted run needs to resume: the module whose parameters are trained, its
    optimiser and schedule, one data-order generator per member, the histories and the epoch
    reached."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generators: list[torch.Generator]
    histories: list[History]
    epoch: int = 0

    def __post_init__(self) -> None:
        if not self.generators or len(self.generators) != len(self.histories):
            raise ValueError("need one generator and one History per member, at least one member")

    def state_dict(self, config_key: dict) -> dict:
        cuda = torch.cuda.is_available() and self.generators[0].device.type == "cuda"
        return {
            "config": config_key,
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generators": [g.get_state() for g in self.generators],
            "histories": [h.to_dict() for h in self.histories],
            "cpu_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if cuda else [],
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        for gen, s in zip(self.generators, state["generators"], strict=True):
            gen.set_state(s)
        self.histories[:] = [History.from_dict(h) for h in state["histories"]]
        self.epoch = int(state["epoch"])
        torch.set_rng_state(state["cpu_rng"])
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all(state["cuda_rng"])


def resume(state: LoopState, checkpoint: Path, config_key: dict) -> bool:
    """Load ``checkpoint`` into ``state`` if it exists and is intact; True when it was loaded.

    A checkpoint written for another configuration raises ``ValueError``; a corrupt one is ignored
    (the run starts over) with a warning.
    """
    if not checkpoint.is_file():
        return False
    try:
        saved = _store.load_torch(checkpoint)
    except (_store.CorruptFileError, RuntimeError, EOFError) as err:
        import warnings

        warnings.warn(
            f"ignoring corrupt checkpoint {checkpoint} ({err}); starting over", stacklevel=3
        )
        return False
    if saved["config"] != config_key:
        raise ValueError(f"checkpoint {checkpoint} was written for another configuration")
    state.load_state_dict(saved)
    return True


Step = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def _orders(state: LoopState, n: int, device: torch.device) -> torch.Tensor:
    """One random permutation of ``range(n)`` per member: ``[S, n]``."""
    return torch.stack(
        [torch.randperm(n, generator=g, device=g.device) for g in state.generators]
    ).to(device)


def _epoch(state: LoopState, step: Step, n: int, config: FitConfig, device: torch.device) -> None:
    """One epoch: minibatches of each member's permutation, then the history entries."""
    start, members = time.perf_counter(), len(state.generators)
    order = _orders(state, n, device)
    loss_sum = torch.zeros(members, device=device, dtype=torch.float64)
    correct = torch.zeros(members, device=device, dtype=torch.int64)
    seen = 0
    for i in range(steps_per_epoch(n, config)):
        idx = order[:, i * config.batch_size : (i + 1) * config.batch_size]
        objective, losses, hits = step(idx)  # objective: the sum over members of their mean losses
        state.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        state.optimizer.step()
        state.scheduler.step()
        loss_sum += losses.detach().double() * idx.shape[1]
        correct += hits
        seen += idx.shape[1]
    lr = state.optimizer.param_groups[0]["lr"]
    for h, loss, hit in zip(state.histories, loss_sum.tolist(), correct.tolist(), strict=True):
        h.train_loss.append(loss / seen)
        h.train_accuracy.append(hit / seen)
        h.lr.append(lr)
        h.epoch_seconds.append(time.perf_counter() - start)


def run_epochs(
    state: LoopState,
    step: Step,
    n: int,
    config: FitConfig,
    *,
    device: torch.device,
    checkpoint: Path | None = None,
    config_key: dict | None = None,
    progress: bool = True,
    desc: str = "epochs",
    on_epoch_end: Callable[[int, LoopState], None] | None = None,
) -> None:
    """Train ``state`` from its epoch to ``config.epochs``.

    ``step(idx)`` gets the example indices ``[S, B]`` of one minibatch per member and returns the
    objective to minimise, each member's mean loss ``[S]`` and number of correct predictions
    ``[S]``. With ``checkpoint``, the state is resumed from there and saved there after every epoch.
    """
    n = check_int(n, "n", 1)
    _check_config(config)
    key = config_key if config_key is not None else config.canonical()
    if checkpoint is not None:
        resume(state, checkpoint, key)
    bar = progress_bar(
        range(state.epoch, config.epochs), desc=desc, enabled=progress, leave=False,
        initial=state.epoch, total=config.epochs,
    )  # fmt: skip
    for epoch in bar:
        _epoch(state, step, n, config, device)
        state.epoch = epoch + 1
        bar.set_postfix(loss=f"{state.histories[0].train_loss[-1]:.4f}")
        if checkpoint is not None:
            _store.save_torch(state.state_dict(key), checkpoint)
        if on_epoch_end is not None:
            on_epoch_end(epoch, state)
    bar.close()


def _check_data(
    x: torch.Tensor, y: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs with a first dimension N; labels int [N] in range, or target rows float [N, K]."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError("data must be a pair of tensors (x, y)")
    if x.ndim < 1 or x.shape[0] == 0 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y need the same non-zero number of rows, got {len(x)} and {len(y)}"
        )
    if y.is_floating_point() and y.ndim == 1:
        raise ValueError(
            f"labels y must be an integer tensor of class indices [N] (or target rows [N, K]), "
            f"got dtype {y.dtype}"
        )
    if y.is_floating_point():
        if y.ndim != 2 or y.shape[1] != num_classes:
            raise ValueError(f"target rows y must be [N, {num_classes}], got {tuple(y.shape)}")
        if not torch.isfinite(y).all():
            raise ValueError("target rows y contain nan or inf")
        return x, y
    return x, check_labels(y, num_classes)


def member_losses(
    logits: torch.Tensor, y: torch.Tensor, configs: list[FitConfig], num_classes: int
) -> torch.Tensor:
    """Each member's mean training loss ``[S]`` for logits ``[S, B, K]``.

    ``y`` holds labels ``[S, B]`` (smoothed cross-entropy in the uniform form
    ``(1 - a) * nll + a * mean_k(-log q_k)``, or forward-corrected with ``noise_correction``) or
    target rows ``[S, B, K]`` (T^2 times the cross-entropy against the rows, logits divided by T).
    """
    if logits.ndim != 3 or len(configs) != logits.shape[0]:
        raise ValueError(
            f"logits must be [S, B, K] with one config per member, got {tuple(logits.shape)} "
            f"and {len(configs)} configs"
        )
    dev = logits.device

    def vec(values: list[float]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32, device=dev)

    temp = vec([c.temperature for c in configs])
    log_q = torch.log_softmax(logits.float() / temp[:, None, None], dim=-1)
    if y.ndim == 3:  # target rows
        terms = torch.where(y == 0, torch.zeros_like(log_q), y * log_q)
        return -(temp**2) * terms.sum(-1).mean(-1)
    a = vec([to_uniform_alpha(num_classes, c.alpha, c.convention) for c in configs])
    ll = log_q.gather(-1, y[..., None]).squeeze(-1)
    if any(c.noise_correction > 0 for c in configs):
        eta = vec([c.noise_correction for c in configs])[:, None]
        ll = forward_corrected_log_likelihood(ll, eta, num_classes)
    return (-(1 - a)[:, None] * ll - a[:, None] * log_q.mean(-1)).mean(-1)


def check_targets(y: torch.Tensor, config: FitConfig, num_classes: int) -> None:
    """Labels go with smoothing or noise correction; target rows with a temperature only."""
    if y.is_floating_point():
        if config.alpha != 0 or config.noise_correction != 0:
            raise ValueError(
                "with target rows y [N, K], smooth the targets yourself and use alpha=0"
            )
    elif config.temperature != 1:
        raise ValueError("temperature applies to target rows (distillation), not to labels")
    if config.noise_correction > 0:
        check_noise_rate(config.noise_correction, num_classes)


def batch_step(net: nn.Module, x: torch.Tensor, y: torch.Tensor, configs: list[FitConfig], K: int):
    """The minibatch step for members that see inputs ``x [N, ...]`` and targets ``y [S, N(, K)]``:
    ``net`` maps ``[S, B, ...]`` to logits ``[S, B, K]``."""
    if y.ndim not in (2, 3) or y.shape[0] != len(configs) or y.shape[1] != x.shape[0]:
        raise ValueError(
            f"y must be [S, N] labels or [S, N, K] rows with S={len(configs)} members and "
            f"N={x.shape[0]} examples, got {tuple(y.shape)}"
        )
    hard = y if y.ndim == 2 else y.argmax(-1)

    def step(idx: torch.Tensor):
        S, B = idx.shape
        xb = x.index_select(0, idx.reshape(-1)).view(S, B, *x.shape[1:])
        logits = net(xb)
        if logits.shape[-1] != K:
            raise ValueError(f"the model outputs {logits.shape[-1]} logits, num_classes is {K}")
        losses = member_losses(logits, _gather(y, idx), configs, K)
        hits = (logits.detach().argmax(-1) == hard.gather(1, idx)).sum(-1)
        return losses.sum(), losses.detach(), hits

    return step


def _gather(y: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    if y.ndim == 2:
        return y.gather(1, idx)
    return y.gather(1, idx[..., None].expand(-1, -1, y.shape[-1]))


class _Single(nn.Module):
    """One model as a one-member ensemble: ``[1, B, ...]`` to ``[1, B, K]``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x[0])[None]


def fit(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    config: FitConfig,
    *,
    num_classes: int,
    device: str | torch.device | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` in place on ``data = (x, y)`` held in memory; return its :class:`History`.

    ``y`` holds integer labels ``[N]`` in ``[0, num_classes)`` (loss: the smoothed cross-entropy of
    ``config``) or target rows ``[N, num_classes]`` (loss: cross-entropy against them; ``alpha``
    must be 0). The model ends in eval mode on ``device`` (default: CUDA if available).
    """
    K = check_num_classes(num_classes)
    x, y = _check_data(*data, K)
    dev = torch.device(device) if device is not None else _store.default_device()
    model.to(dev).train()
    x, y = x.to(dev), y.to(dev)
    n = x.shape[0]
    check_targets(y, config, K)
    step = batch_step(_Single(model), x, y[None], [config], K)
    with num_threads():
        opt = make_optimizer(model.parameters(), config, dev)
        state = LoopState(
            model, opt, make_scheduler(opt, config, config.epochs * steps_per_epoch(n, config)),
            [torch.Generator(device="cpu").manual_seed(config.seed)], [History()],
        )  # fmt: skip
        ckpt = Path(checkpoint) if checkpoint is not None else None
        run_epochs(state, step, n, config, device=dev, checkpoint=ckpt, progress=progress)
    model.eval()
    return state.histories[0]
