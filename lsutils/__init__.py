"""lsutils: the companion package of lsbook, one module per idea the book teaches.

The core math (targets, losses, the loss floor, gradients) is imported with the package. Everything
else is imported on first use, so ``import lsutils`` stays light: ``lsutils.fit_temperature`` loads
:mod:`lsutils.calibration`, and ``lsutils.checks`` (the exercise checkers) is built only when a
Hands-On notebook asks for it.
"""

from __future__ import annotations

import importlib
from typing import Any

from .floor import floor_expr, gap_expr, loss_floor, optimal_logit_gap
from .gradients import logit_gradient
from .losses import cross_entropy_from_targets, smoothed_cross_entropy
from .targets import convert_alpha, smooth_targets, target_probs

#: Public names defined in submodules, loaded on first access: name -> module.
_LAZY = {
    "FitConfig": "loop",
    "fit": "loop",
    "TrainConfig": "train",
    "TrainedModel": "train",
    "train_many": "train",
    "predict_logits": "train",
    "load_fashion_mnist": "data",
    "fashion_tensors": "data",
    "make_model": "models",
    "expected_calibration_error": "calibration",
    "fit_temperature": "calibration",
    "calibration_summary": "calibration",
    "logit_gaps": "representations",
    "distillation_loss": "distill",
    "soft_targets": "distill",
    "mean_interval": "stats",
    "paired_difference": "stats",
    "two_hot": "value_targets",
    "hl_gauss": "value_targets",
}

_SUBMODULES = {
    "calibration", "charlm", "checks", "cifar", "data", "distill", "ensemble", "experiments",
    "fairness", "finetune", "floor", "gan", "gradients", "inversion", "loop", "losses", "models",
    "noise",
    "plots", "privacy", "probe", "profiles", "progress", "report", "representations", "rl",
    "seeds", "selective", "stacked", "stats", "targets", "train", "value_targets",
}  # fmt: skip

__all__ = [
    "smooth_targets",
    "target_probs",
    "convert_alpha",
    "smoothed_cross_entropy",
    "cross_entropy_from_targets",
    "logit_gradient",
    "loss_floor",
    "floor_expr",
    "gap_expr",
    "optimal_logit_gap",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lsutils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
