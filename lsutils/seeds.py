"""Train each setting of an experiment over several seeds, as cheaply as the hardware allows.

:func:`train_seeds` trains one :class:`~lsutils.train.TrainConfig` over ``seeds``;
:func:`train_grid` trains a whole table of settings (e.g. one per alpha) over the same seeds in one
call, so that all models that can share an ensemble do (:func:`lsutils.train.train_many`).
:func:`per_seed` evaluates a metric on each seed's model, ready for :mod:`lsutils.stats`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from ._validate import check_int
from .train import TrainConfig, TrainedModel, train_many

__all__ = ["SEEDS", "seed_configs", "train_seeds", "train_grid", "per_seed"]

#: The training seeds every comparison in the book uses, unless a page says otherwise.
SEEDS = (0, 1, 2, 3, 4)

K = TypeVar("K", bound=Hashable)


def _seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    out = tuple(check_int(s, "seed", 0) for s in seeds)
    if len(out) < 2 or len(set(out)) != len(out):
        raise ValueError(f"need at least 2 distinct seeds, got {seeds!r}")
    return out


def seed_configs(config: TrainConfig, seeds: Sequence[int] = SEEDS) -> list[TrainConfig]:
    """``config`` once per seed (the ``seed`` field replaced)."""
    return [dataclasses.replace(config, seed=s) for s in _seeds(seeds)]


def train_seeds(
    config: TrainConfig, seeds: Sequence[int] = SEEDS, *, progress: bool = True
) -> list[TrainedModel]:
    """One trained model per seed, in the order of ``seeds`` (cached per seed)."""
    return train_many(seed_configs(config, seeds), progress=progress)


def train_grid(
    configs: Mapping[K, TrainConfig], seeds: Sequence[int] = SEEDS, *, progress: bool = True
) -> dict[K, list[TrainedModel]]:
    """``{key: [model per seed]}`` for every setting in ``configs``, trained in one call."""
    if not isinstance(configs, Mapping):
        raise ValueError(
            f"configs must be a mapping {{key: TrainConfig}}, got {type(configs).__name__}"
        )
    seeds = _seeds(seeds)
    flat = [c for cfg in configs.values() for c in seed_configs(cfg, seeds)]
    models = train_many(flat, progress=progress)
    n = len(seeds)
    return {key: models[i * n : (i + 1) * n] for i, key in enumerate(configs)}


def per_seed(
    models: Sequence[TrainedModel], metric: Callable[[TrainedModel], float]
) -> list[float]:
    """``[metric(model) for model in models]`` as floats: one value per seed."""
    if not callable(metric):
        raise ValueError(
            f"metric must be a callable of a TrainedModel, got {type(metric).__name__}"
        )
    return [float(metric(m)) for m in models]
