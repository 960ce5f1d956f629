"""Fashion-MNIST models for the chapters: one configuration per trained model, cached on disk.

:class:`TrainConfig` extends the loop's :class:`~lsutils.loop.FitConfig` with the model and the data
(class subset, training-set size, validation split, label noise), so every hyperparameter of a
trained model lives in one frozen object. :func:`train_many` trains a list of configurations,
grouping those that differ only in seed, smoothing or label noise into one vectorised ensemble
(:mod:`lsutils.ensemble`), and caches each model under a hash of its configuration in
``$LSUTILS_CACHE/models``. Cached files are verified on load (a changed file is retrained with a
warning), and a lock makes two processes that need the same model train it once. :func:`train` is
the one-model case.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import _store
from ._validate import check_choice, check_float, check_int
from .data import FASHION_CLASSES, fashion_tensors, symmetric_label_noise
from .ensemble import MEMBER_FIELDS, fit_ensemble
from .loop import FitConfig, History, fit, json_ready, num_threads, seeded_init
from .models import MODELS, make_model

__all__ = [
    "CACHE_VERSION",
    "SPLIT_SEED",
    "TrainConfig",
    "TrainedModel",
    "History",
    "fit",
    "train",
    "train_many",
    "predict_logits",
    "config_data",
    "config_key",
    "cache_path",
]

#: Bump when the cache format or the training code changes in a way that changes results.
CACHE_VERSION = 2
#: Seed of the fixed train/validation split (the same for every training seed).
SPLIT_SEED = 20170825
_TRAIN_IMAGES = 60000
#: Fields that may differ between configurations trained together as one ensemble.
_ENSEMBLE_FREE = (*MEMBER_FIELDS, "label_noise")


@dataclass(frozen=True)
class TrainConfig(FitConfig):
    """A Fashion-MNIST model: the loop's hyperparameters plus the model and the data.

    ``model`` is "mlp" or "cnn" with ``hidden`` units before the head (None: the model's default).
    ``classes`` (Fashion-MNIST class ids) keeps only those classes, relabelled ``0..n-1`` in the
    order given. ``val_size`` training images (a fixed random subset, the same for every seed) are
    held out as a validation split; ``train_size`` keeps that many of the rest. ``label_noise``
    flips that fraction of the training labels (:func:`lsutils.data.symmetric_label_noise`, seeded
    by ``seed``).
    """

    model: str = "mlp"
    hidden: int | None = None
    train_size: int | None = None
    classes: tuple[int, ...] | None = None
    label_noise: float = 0.0
    val_size: int = 5000

    def __post_init__(self) -> None:
        super().__post_init__()
        _set = object.__setattr__
        check_choice(self.model, "model", tuple(sorted(MODELS)))
        if self.hidden is not None:
            _set(self, "hidden", check_int(self.hidden, "hidden", 1))
        _set(self, "val_size", check_int(self.val_size, "val_size", 0))
        if self.val_size >= _TRAIN_IMAGES:
            raise ValueError(f"val_size must be in [0, {_TRAIN_IMAGES}), got {self.val_size}")
        if self.train_size is not None:
            _set(self, "train_size", check_int(self.train_size, "train_size", 1))
        _set(self, "label_noise", check_float(self.label_noise, "label_noise", 0.0, 1.0))
        if self.classes is not None:
            _set(self, "classes", _check_classes(self.classes))

    @property
    def num_classes(self) -> int:
        return len(self.classes) if self.classes is not None else len(FASHION_CLASSES)

    def fit_config(self) -> FitConfig:
        """The loop's part of this configuration."""
        return FitConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(FitConfig)})


def _check_classes(classes) -> tuple[int, ...]:
    try:
        ids = tuple(check_int(c, "classes entry", 0) for c in classes)
    except (TypeError, ValueError):
        ids = ()
    if len(ids) < 2 or len(set(ids)) != len(ids) or max(ids) >= len(FASHION_CLASSES):
        raise ValueError(
            f"classes must be >= 2 distinct Fashion-MNIST ids in 0..9, got {classes!r}"
        )
    return ids


@functools.lru_cache(maxsize=16)
def _split(split: str, val_size: int, classes: tuple[int, ...] | None, train_size: int | None):
    if split == "test":
        x, y = fashion_tensors("test")
    else:
        x_all, y_all = fashion_tensors("train")
        perm = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(SPLIT_SEED))
        idx = perm[:val_size] if split == "val" else perm[val_size:]
        x, y = x_all[idx], y_all[idx]
    if classes is not None:
        keep = torch.isin(y, torch.tensor(classes))
        x, y = x[keep], y[keep]
        remap = torch.full((len(FASHION_CLASSES),), -1, dtype=torch.int64)
        remap[torch.tensor(classes)] = torch.arange(len(classes))
        y = remap[y]
    if split == "train" and train_size is not None:
        if train_size > len(y):
            raise ValueError(
                f"train_size must be at most {len(y)} for this split, got {train_size}"
            )
        x, y = x[:train_size], y[:train_size]
    return x, y


def _check_train_config(config: object) -> None:
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")


def config_data(
    config: TrainConfig, split: str = "train", *, noisy: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[N, 1, 28, 28]`` and labels ``[N]`` of ``split`` ("train", "val" or "test").

    Training labels carry the configuration's label noise unless ``noisy=False``; validation and
    test labels are always clean. The tensors are shared between calls: do not modify them in place.
    """
    _check_train_config(config)
    check_choice(split, "split", ("train", "val", "test"))
    x, y = _split(split, config.val_size, config.classes, config.train_size)
    if split == "train" and noisy and config.label_noise > 0:
        y = symmetric_label_noise(y, config.label_noise, config.num_classes, seed=config.seed)
    return x, y


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Logits ``float32 [N, K]`` on the CPU, computed in eval mode in batches on the model's
    device."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a tensor of inputs [N, ...], got {type(x).__name__}")
    batch_size = check_int(batch_size, "batch_size", 1)
    model.eval()
    device = next(model.parameters()).device
    with num_threads():
        out = [
            model(x[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(x), batch_size)
        ]
    return torch.cat(out)


@dataclass
class TrainedModel:
    """A trained model (eval mode, on the CPU), its :class:`History` and its
    :class:`TrainConfig`."""

    model: nn.Module
    history: History
    config: TrainConfig

    def logits(self, split: str = "test") -> torch.Tensor:
        """Logits ``[N, K]`` on ``split`` ("train", "val" or "test") of this model's data."""
        return predict_logits(self.model, config_data(self.config, split)[0])

    def labels(self, split: str = "test") -> torch.Tensor:
        """Labels ``[N]`` of ``split`` (noisy for "train" of a label-noise configuration)."""
        return config_data(self.config, split)[1]


def config_key(config: TrainConfig) -> str:
    """SHA-256 of the canonical JSON of the configuration plus :data:`CACHE_VERSION`."""
    _check_train_config(config)
    blob = json.dumps(
        {"cache_version": CACHE_VERSION, "config": config.canonical()}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_path(config: TrainConfig) -> Path:
    """Where this configuration's model is cached."""
    _check_train_config(config)
    return _store.cache_dir() / "models" / f"{config.model}-{config_key(config)[:24]}.pt"


def _new_model(config: TrainConfig) -> nn.Module:
    return seeded_init(
        lambda: make_model(config.model, config.num_classes, config.hidden), config.seed
    )


def _load(config: TrainConfig) -> TrainedModel | None:
    """The cached model, or None if there is none or it fails its checks (with a warning)."""
    path = cache_path(config)
    if not path.is_file():
        return None
    try:
        blob = _store.load_torch(path)
        if blob["cache_version"] != CACHE_VERSION or blob["config"] != json_ready(
            config.canonical()
        ):
            raise ValueError("the file was written for another configuration")
        model = _new_model(config)
        model.load_state_dict(blob["state_dict"])
    except Exception as err:  # corrupt, truncated, foreign: retrain
        warnings.warn(f"ignoring model cache {path.name} ({err}); retraining", stacklevel=3)
        return None
    return TrainedModel(model.eval(), History.from_dict(blob["history"]), config)


def _save(trained: TrainedModel) -> None:
    blob = {
        "cache_version": CACHE_VERSION,
        "config": trained.config.canonical(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in trained.model.state_dict().items()},
        "history": trained.history.to_dict(),
    }
    _store.save_torch(blob, cache_path(trained.config))


def _group_key(config: TrainConfig) -> str:
    shared = {k: v for k, v in config.canonical().items() if k not in _ENSEMBLE_FREE}
    return json.dumps(shared, sort_keys=True)


def _train_group(configs: list[TrainConfig], progress: bool) -> list[TrainedModel]:
    """Train configurations that differ only in seed, smoothing or label noise, as one ensemble."""
    x, _ = config_data(configs[0], "train")
    ys = [config_data(c, "train")[1] for c in configs]
    models = [_new_model(c) for c in configs]
    histories = fit_ensemble(
        models, x, ys, [c.fit_config() for c in configs],
        num_classes=configs[0].num_classes, progress=progress,
    )  # fmt: skip
    return [
        TrainedModel(m.cpu().eval(), h, c)
        for m, h, c in zip(models, histories, configs, strict=True)
    ]


def _train_locked(todo: list[TrainConfig], progress: bool) -> dict[TrainConfig, TrainedModel]:
    """Train what no other process is training; wait for the rest and load it."""
    done: dict[TrainConfig, TrainedModel] = {}
    with ExitStack() as stack:
        mine = [
            c for c in todo if stack.enter_context(_store.exclusive(cache_path(c), blocking=False))
        ]
        for c in mine:  # another process may have finished it just before we took the lock
            if (hit := _load(c)) is not None:
                done[c] = hit
        groups: dict[str, list[TrainConfig]] = {}
        for c in mine:
            if c not in done:
                groups.setdefault(_group_key(c), []).append(c)
        for group in groups.values():
            for trained in _train_group(group, progress):
                _save(trained)
                done[trained.config] = trained
    for c in todo:
        if c in done:
            continue
        with _store.exclusive(cache_path(c)):  # another process is training it: wait, then load
            hit = _load(c)
            if hit is None:  # that process failed: train it here
                hit = _train_group([c], progress)[0]
                _save(hit)
            done[c] = hit
    return done


def train_many(
    configs: Sequence[TrainConfig], *, cache: bool = True, progress: bool = True
) -> list[TrainedModel]:
    """Train (or load from the cache) every configuration; the result follows the input order.

    Configurations that differ only in seed, smoothing or label noise are trained together as one
    vectorised ensemble. Each model lands in the cache on its own, so a later call for any subset
    (one seed, say) loads it.
    """
    configs = list(configs)
    if not all(isinstance(c, TrainConfig) for c in configs):
        raise ValueError("train_many takes a list of TrainConfig")
    unique = list(dict.fromkeys(configs))
    if not cache:
        groups: dict[str, list[TrainConfig]] = {}
        for c in unique:
            groups.setdefault(_group_key(c), []).append(c)
        done = {t.config: t for g in groups.values() for t in _train_group(g, progress)}
        return [done[c] for c in configs]
    done = {c: hit for c in unique if (hit := _load(c)) is not None}
    todo = [c for c in unique if c not in done]
    if todo:
        done.update(_train_locked(todo, progress))
    return [done[c] for c in configs]


def train(config: TrainConfig, *, cache: bool = True, progress: bool = True) -> TrainedModel:
    """Train (or load from the cache) the model one :class:`TrainConfig` describes (eval mode,
    CPU)."""
    return train_many([config], cache=cache, progress=progress)[0]
