"""One compact, seeded training loop for every chapter, and a disk cache of trained models.

Data stay in memory as tensors (no DataLoader, no per-sample Python). :func:`fit` trains any model on
``(x, y)`` with the label-smoothed cross-entropy (``y`` integer labels) or the cross-entropy against target
rows (``y`` float ``[N, K]``, e.g. for distillation). :func:`train` builds the data and the model from a
:class:`TrainConfig`, and caches the result in ``$LSUTILS_CACHE/models`` (default ``~/.cache/lsutils``) keyed
by a hash of the full configuration, so every chapter that asks for the same configuration reuses the model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ._validate import check_alpha, check_convention
from .data import cache_dir, fashion_tensors, symmetric_label_noise
from .floor import loss_floor
from .losses import cross_entropy_from_targets, smoothed_cross_entropy
from .models import MODELS, make_model
from .progress import progress_bar

__all__ = [
    "CACHE_VERSION",
    "SPLIT_SEED",
    "TrainConfig",
    "History",
    "TrainedModel",
    "fit",
    "train",
    "predict_logits",
    "config_data",
    "config_key",
    "cache_path",
    "default_device",
]

#: Bump when the cache format or the training code changes in a way that changes results.
CACHE_VERSION = 1
#: Seed of the fixed train/validation split (the same for every training seed).
SPLIT_SEED = 20170825


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model (hashed for the cache).

    ``classes`` (tuple of Fashion-MNIST class ids) keeps only those classes, relabelled ``0..n-1`` in the
    order given. ``val_size`` training images (a fixed random subset, the same for every seed) are held out
    as a validation split, e.g. for fitting a temperature. ``train_size`` keeps only that many of the
    remaining training images. ``label_noise`` flips that fraction of training labels
    (:func:`lsutils.data.symmetric_label_noise`, seeded by ``seed``).
    """

    model: str = "mlp"
    alpha: float = 0.0
    convention: str = "uniform"
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    seed: int = 0
    train_size: int | None = None
    classes: tuple[int, ...] | None = None
    label_noise: float = 0.0
    allow_negative: bool = False
    val_size: int = 5000

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {sorted(MODELS)}")
        check_alpha(self.alpha, allow_negative=self.allow_negative)
        check_convention(self.convention)
        if self.optimizer not in ("adam", "sgd", "adamw"):
            raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {self.optimizer!r}")
        if int(self.epochs) < 1 or int(self.batch_size) < 1 or not float(self.lr) > 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
        if not 0.0 <= float(self.label_noise) <= 1.0:
            raise ValueError(f"label_noise must be in [0, 1], got {self.label_noise!r}")
        if self.classes is not None:
            classes = tuple(int(c) for c in self.classes)
            if len(classes) < 2 or len(set(classes)) != len(classes) or not all(0 <= c < 10 for c in classes):
                raise ValueError(f"classes must be >= 2 distinct ids in 0..9, got {self.classes!r}")
            object.__setattr__(self, "classes", classes)
        if not 0 <= int(self.val_size) < 60000:
            raise ValueError(f"val_size must be in [0, 60000), got {self.val_size!r}")

    @property
    def num_classes(self) -> int:
        return len(self.classes) if self.classes is not None else 10

    def canonical(self) -> dict:
        """A JSON-ready dict of every field (tuples as lists), the basis of the cache key."""
        d = dataclasses.asdict(self)
        d["classes"] = list(self.classes) if self.classes is not None else None
        d["alpha"] = float(self.alpha)
        d["lr"] = float(self.lr)
        d["weight_decay"] = float(self.weight_decay)
        d["label_noise"] = float(self.label_noise)
        return d


@dataclass
class History:
    """Per-epoch training metrics: running mean train loss (nats), excess over the loss floor, accuracy."""

    train_loss: list[float] = field(default_factory=list)
    excess_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    loss_floor: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})


@dataclass
class TrainedModel:
    """A trained model (in eval mode, on the CPU), its :class:`History` and its :class:`TrainConfig`."""

    model: nn.Module
    history: History
    config: TrainConfig

    def logits(self, split: str = "test") -> torch.Tensor:
        """Logits ``[N, K]`` on ``split`` ("train", "val" or "test") of this model's data."""
        x, _ = config_data(self.config, split)
        return predict_logits(self.model, x)

    def labels(self, split: str = "test") -> torch.Tensor:
        """Labels ``[N]`` of ``split`` (clean labels, also for a noisy-label configuration's val/test)."""
        return config_data(self.config, split)[1]


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def config_data(config: TrainConfig, split: str = "train", *, noisy: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels a configuration uses: ``split`` is "train", "val" or "test".

    ``noisy=False`` returns the clean training labels of a ``label_noise`` configuration.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if split == "test":
        x, y = fashion_tensors("test")
    else:
        x_all, y_all = fashion_tensors("train")
        perm = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(SPLIT_SEED))
        idx = perm[: config.val_size] if split == "val" else perm[config.val_size :]
        x, y = x_all[idx], y_all[idx]
    if config.classes is not None:
        keep = torch.isin(y, torch.tensor(config.classes))
        x, y = x[keep], y[keep]
        remap = torch.full((10,), -1, dtype=torch.int64)
        remap[torch.tensor(config.classes)] = torch.arange(len(config.classes))
        y = remap[y]
    if split == "train":
        if config.train_size is not None:
            if not 0 < config.train_size <= len(y):
                raise ValueError(f"train_size must be in [1, {len(y)}], got {config.train_size}")
            x, y = x[: config.train_size], y[: config.train_size]
        if noisy and config.label_noise > 0:
            y = symmetric_label_noise(y, config.label_noise, config.num_classes, seed=config.seed)
    return x, y


def _optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {name!r}")


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    alpha: float = 0.0,
    convention: str = "uniform",
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    allow_negative: bool = False,
    schedule: str = "cosine",
    device: str | torch.device | None = None,
    progress: bool = True,
    num_threads: int | None = None,
) -> History:
    """Train ``model`` in place on in-memory tensors; returns the per-epoch :class:`History`.

    ``y`` is either integer labels ``[N]`` (loss: :func:`lsutils.smoothed_cross_entropy` with ``alpha`` and
    ``convention``) or target rows ``[N, K]`` (loss: :func:`lsutils.cross_entropy_from_targets`; ``alpha``
    must then be 0). Minibatches are drawn by a seeded permutation per epoch; ``schedule`` is "cosine"
    (learning rate annealed to 0 over all steps) or "constant". The model ends in eval mode.
    On the CPU the loop runs with ``num_threads`` torch threads (default ``$LSUTILS_THREADS`` or 1: these
    small models gain little from more, and lose a lot when the cores are shared).
    """
    with _threads(num_threads):
        return _fit(model, x, y, alpha=alpha, convention=convention, epochs=epochs, batch_size=batch_size,
                    lr=lr, seed=seed, weight_decay=weight_decay, optimizer=optimizer,
                    allow_negative=allow_negative, schedule=schedule, device=device, progress=progress)


@contextlib.contextmanager
def _threads(num_threads: int | None):
    n = int(num_threads if num_threads is not None else os.environ.get("LSUTILS_THREADS", 1))
    if n < 1:
        raise ValueError(f"num_threads must be >= 1, got {n}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _fit(model, x, y, *, alpha, convention, epochs, batch_size, lr, seed, weight_decay, optimizer,
         allow_negative, schedule, device, progress) -> History:
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"x and y need the same, non-zero number of rows, got {x.shape[0]} and {y.shape[0]}")
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
    soft = y.ndim == 2
    check_alpha(alpha, allow_negative=allow_negative)
    check_convention(convention)
    if soft and alpha != 0:
        raise ValueError("with target rows y [N, K], smooth the targets yourself and pass alpha=0")
    if not soft and (y.dtype != torch.int64 or y.ndim != 1):
        raise ValueError(f"labels y must be int64 [N] (or float target rows [N, K]), got {y.dtype} {tuple(y.shape)}")
    device = torch.device(device) if device is not None else default_device()
    model.to(device).train()
    x, y = x.to(device), y.to(device)
    K = model.head.out_features if hasattr(model, "head") else None
    if soft:
        p = y.double()
        floor = float(-(torch.where(p > 0, p * p.clamp_min(1e-300).log(), torch.zeros_like(p))).sum(1).mean())
        y_hard = y.argmax(1)
    else:
        try:
            floor = loss_floor(K, alpha, convention) if K else 0.0
        except ValueError:
            floor = float("nan")
        y_hard = y
    opt = _optimizer(optimizer, model.parameters(), lr, weight_decay)
    n = x.shape[0]
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    sched = (
        torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
        if schedule == "cosine"
        else None
    )
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    hist = History(loss_floor=floor)
    start = time.perf_counter()
    bar = progress_bar(range(epochs), desc="epochs", enabled=progress, leave=False)
    for _ in bar:
        perm = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = x[idx], y[idx]
            logits = model(xb)
            if soft:
                loss = cross_entropy_from_targets(logits, yb)
            else:
                loss = smoothed_cross_entropy(
                    logits, yb, alpha, convention, allow_negative=allow_negative, validate=False
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.detach().double() * len(idx)
            correct += (logits.detach().argmax(1) == y_hard[idx]).sum()
        epoch_loss = float(loss_sum) / n
        hist.train_loss.append(epoch_loss)
        hist.excess_loss.append(epoch_loss - floor)
        hist.train_accuracy.append(float(correct) / n)
        bar.set_postfix(loss=f"{epoch_loss:.4f}", acc=f"{hist.train_accuracy[-1]:.3f}")
    hist.seconds = time.perf_counter() - start
    model.eval()
    return hist


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Logits ``float32 [N, K]`` on the CPU, computed in eval mode in batches on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    with _threads(None):
        out = [model(x[i : i + batch_size].to(device)).float().cpu() for i in range(0, x.shape[0], batch_size)]
    return torch.cat(out)


def config_key(config: TrainConfig) -> str:
    """SHA-256 of the canonical JSON of the configuration plus :data:`CACHE_VERSION`."""
    blob = json.dumps({"cache_version": CACHE_VERSION, "config": config.canonical()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_path(config: TrainConfig) -> Path:
    """Where :func:`train` stores this configuration's model."""
    return cache_dir() / "models" / f"{config.model}-{config_key(config)[:24]}.pt"


def _load(path: Path, config: TrainConfig) -> TrainedModel:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if blob.get("cache_version") != CACHE_VERSION or blob.get("config") != config.canonical():
        raise ValueError("cache file does not match this configuration")
    model = make_model(config.model, config.num_classes)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return TrainedModel(model, History.from_dict(blob["history"]), config)


def _save(path: Path, trained: TrainedModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "cache_version": CACHE_VERSION,
        "config": trained.config.canonical(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in trained.model.state_dict().items()},
        "history": trained.history.to_dict(),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(blob, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def train(config: TrainConfig, *, cache: bool = True, progress: bool = True) -> TrainedModel:
    """Train (or load from the disk cache) the model a :class:`TrainConfig` describes.

    The same configuration always gives the same model on the same platform (seeded initialisation and
    minibatch order). A corrupt or mismatching cache file is retrained with a warning. The returned model is
    on the CPU in eval mode.
    """
    path = cache_path(config)
    if cache and path.exists():
        try:
            return _load(path, config)
        except Exception as err:  # corrupt, truncated, old format: retrain
            warnings.warn(f"ignoring unreadable model cache {path} ({type(err).__name__}: {err}); retraining",
                          stacklevel=2)
    x, y = config_data(config, "train")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = make_model(config.model, config.num_classes)
    history = fit(
        model,
        x,
        y,
        alpha=config.alpha,
        convention=config.convention,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        seed=config.seed,
        weight_decay=config.weight_decay,
        optimizer=config.optimizer,
        allow_negative=config.allow_negative,
        progress=progress,
    )
    model.cpu().eval()
    trained = TrainedModel(model, history, config)
    if cache:
        _save(path, trained)
    return trained
