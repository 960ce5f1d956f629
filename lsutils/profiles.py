"""Run profiles for the GPU applications: ``full`` (the real experiment) and ``smoke`` (seconds on a
CPU).

The profile is chosen by the environment variable ``LSUTILS_PROFILE``: ``full``, ``smoke`` or
``auto`` (the default), which means ``full`` when CUDA and the real data are both there, else
``smoke``. The profile sets the *scale* only; where the data come from (real or synthetic) is
decided separately.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["PROFILES", "Profile", "select_profile", "get_profile"]

ENV_VAR = "LSUTILS_PROFILE"
CHOICES = ("auto", "full", "smoke")


@dataclass(frozen=True)
class Profile:
    """Scale of a fine-tuning run: sizes (``None`` = whole split), epochs, input size, batch and
    tricks."""

    name: str
    train_size: int | None
    test_size: int | None
    epochs: int
    batch_size: int
    image_size: int
    lr: float
    bf16: bool
    compile: bool


PROFILES = {
    # One H100: ResNet-18 at 112 px, bf16, channels_last, batch 512, 5 epochs per alpha
    # (4 alphas x 5 epochs x 50,000 images = 1M training images).
    "full": Profile(
        "full",
        None,
        None,
        epochs=5,
        batch_size=512,
        image_size=112,
        lr=0.05,
        bf16=True,
        compile=True,
    ),
    # A few batches on the CPU, so CI can run the notebook: ResNet-18 at 16 px, 2 epochs of 16 steps
    # of 32.
    "smoke": Profile(
        "smoke",
        512,
        500,
        epochs=2,
        batch_size=32,
        image_size=16,
        lr=0.05,
        bf16=False,
        compile=False,
    ),
}


def _real_data_available() -> bool:
    from .cifar import cifar_available, data_source, default_cifar_root

    root = default_cifar_root()
    return cifar_available(root) and data_source(root) == "cifar10"


def select_profile(
    value: str | None = None,
    *,
    cuda_available: Callable[[], bool] | None = None,
    data_available: Callable[[], bool] | None = None,
) -> str:
    """Resolve ``value`` (default: ``$LSUTILS_PROFILE``, else ``"auto"``) to ``"full"`` or
    ``"smoke"``."""
    source = "value" if value is not None else ENV_VAR
    if value is None:
        value = os.environ.get(ENV_VAR, "auto")
    if not isinstance(value, str) or value.strip().lower() not in CHOICES:
        raise ValueError(f"{source} ({ENV_VAR}) must be one of {CHOICES}, got {value!r}")
    value = value.strip().lower()
    for name, check in (("cuda_available", cuda_available), ("data_available", data_available)):
        if check is not None and not callable(check):
            raise ValueError(f"{name} must be a function returning a bool, got {check!r}")
    if value != "auto":
        return value
    cuda = (cuda_available or torch.cuda.is_available)()
    data = (data_available or _real_data_available)()
    return "full" if cuda and data else "smoke"


def get_profile(value: str | None = None) -> Profile:
    """The :class:`Profile` chosen by :func:`select_profile`."""
    return PROFILES[select_profile(value)]
