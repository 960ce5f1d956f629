"""CIFAR-10 as uint8 tensors, an offline synthetic stand-in, and batched augmentation on the device.

The real data is read with ``torchvision.datasets.CIFAR10`` (never downloaded unless asked). For
machines without it, :func:`write_synthetic_cifar10` writes a *synthetic* set in the same on-disk
format (``cifar-10-batches-py``), so the same loader reads it. A marker file ``SYNTHETIC`` in that
folder lets :func:`data_source` tell the two apart: results from the synthetic set must never be
called CIFAR-10 results.

Augmentation (random crop with padding, horizontal flip, optional resize, normalisation) runs on
whole batches of uint8 images where they live (GPU or CPU), drawing its randomness from an explicit
``torch.Generator`` so that a checkpoint can save and restore it.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ._store import atomic_write_bytes, cache_dir
from ._validate import check_bool, check_choice, check_int, check_path

__all__ = [
    "CIFAR10_CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "default_cifar_root",
    "synthetic_cifar_root",
    "cifar_available",
    "data_source",
    "write_synthetic_cifar10",
    "resolve_root",
    "synthetic_reader",
    "load_cifar10",
    "augment_batch",
    "prepare_batch",
]

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_FOLDER = "cifar-10-batches-py"
_MARKER = "SYNTHETIC"
_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def default_cifar_root() -> Path:
    """Root holding real CIFAR-10: ``$LSUTILS_CIFAR_ROOT``, else ``$LSUTILS_CACHE/cifar10``."""
    env = os.environ.get("LSUTILS_CIFAR_ROOT")
    return Path(env) if env else cache_dir() / "cifar10"


def synthetic_cifar_root() -> Path:
    """Root for the synthetic stand-in, kept apart from the real data:
    ``$LSUTILS_CACHE/cifar10-synthetic``."""
    return cache_dir() / "cifar10-synthetic"


def cifar_available(root: str | os.PathLike | None = None) -> bool:
    """True when ``root`` holds a complete ``cifar-10-batches-py`` folder (real or synthetic)."""
    check_path(root, "root")
    folder = Path(root if root is not None else default_cifar_root()) / _FOLDER
    return all((folder / name).is_file() for name in _FILES)


def data_source(root: str | os.PathLike) -> str:
    """``"cifar10"`` for the real data, ``"synthetic"`` for a set written by
    :func:`write_synthetic_cifar10`."""
    check_path(root, "root", optional=False)
    if not cifar_available(root):
        raise ValueError(f"no cifar-10-batches-py folder under {root}")
    return "synthetic" if (Path(root) / _FOLDER / _MARKER).exists() else "cifar10"


def _synthetic_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class-dependent colour and stripe pattern plus noise: learnable, but not trivially (noise,
    jitter)."""
    n = len(labels)
    hues = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    colours = 0.5 + 0.35 * np.stack(
        [np.cos(hues), np.cos(hues + 2.1), np.cos(hues + 4.2)], 1
    )  # [10, 3]
    angle = np.pi * np.arange(10) / 10  # stripe orientation per class
    freq = 0.35 + 0.05 * (np.arange(10) % 3)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    a, f = angle[labels][:, None, None], freq[labels][:, None, None]
    stripes = np.sin(f * (np.cos(a) * xx + np.sin(a) * yy) + phase)  # [n, 32, 32]
    colour = colours[labels] + rng.normal(0, 0.12, size=(n, 3))  # per-image colour jitter
    img = colour[:, :, None, None] * (0.75 + 0.25 * stripes[:, None])
    img = img + rng.normal(0, 0.15, size=img.shape)
    return np.clip(img * 255, 0, 255).astype(np.uint8).reshape(n, 3072)


def write_synthetic_cifar10(
    root: str | os.PathLike | None = None, n_train: int = 5000, n_test: int = 1000, seed: int = 0
) -> Path:
    """Write a SYNTHETIC set in CIFAR-10's python format under ``root/cifar-10-batches-py``; return
    ``root``.

    Five training batches and one test batch of pickled dicts (``"data"``: uint8 ``[N, 3072]``,
    ``"labels"``), and ``batches.meta`` with the ten class names (keys as the real Python-2 pickles
    read with ``encoding="latin1"``, as torchvision does), so torchvision's CIFAR10 parser reads it.
    Each class has its own colour and stripe orientation, with noise: a model can learn it.
    """
    n_train = check_int(n_train, "n_train", 5)
    if n_train % 5:
        raise ValueError(f"n_train must be a multiple of 5 (five batches), got {n_train}")
    n_test = check_int(n_test, "n_test", 1)
    seed = check_int(seed, "seed", 0)
    check_path(root, "root")
    root = Path(root if root is not None else synthetic_cifar_root())
    folder = root / _FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def dump(name: str, obj: dict) -> None:
        atomic_write_bytes(folder / name, pickle.dumps(obj))

    (folder / _MARKER).write_text(
        "Synthetic stand-in for CIFAR-10 written by lsutils.cifar; not real data.\n"
    )
    per = n_train // 5
    for i in range(5):
        labels = rng.integers(0, 10, size=per)
        dump(
            f"data_batch_{i + 1}",
            {
                "batch_label": "synthetic",
                "labels": labels.tolist(),
                "data": _synthetic_images(labels, rng),
            },
        )
    labels = rng.integers(0, 10, size=n_test)
    dump(
        "test_batch",
        {
            "batch_label": "synthetic",
            "labels": labels.tolist(),
            "data": _synthetic_images(labels, rng),
        },
    )
    dump(
        "batches.meta",
        {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": per, "num_vis": 3072},
    )
    return root


def synthetic_reader():
    """torchvision's ``CIFAR10`` with the md5 check relaxed, for folders marked SYNTHETIC only.

    torchvision checks every file against the md5 of the real release, so the synthetic set can
    never be read as the real one by accident; this subclass reads it with the same parsing code.
    """
    from torchvision.datasets import CIFAR10

    class SyntheticCIFAR10(CIFAR10):
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

        def _check_integrity(self) -> bool:
            folder = Path(self.root) / self.base_folder
            return (folder / _MARKER).is_file() and cifar_available(self.root)

    return SyntheticCIFAR10


def resolve_root(*, allow_synthetic: bool = True) -> tuple[Path, str]:
    """Where to read data from, and whether it is ``"cifar10"`` or ``"synthetic"``.

    Real CIFAR-10 under :func:`default_cifar_root` if it is there (downloaded first only when
    ``LSUTILS_ALLOW_DOWNLOAD=1``); else, with ``allow_synthetic``, the synthetic stand-in (written
    once under :func:`synthetic_cifar_root`); else ``FileNotFoundError``.
    """
    check_bool(allow_synthetic, "allow_synthetic")
    root = default_cifar_root()
    if not cifar_available(root) and os.environ.get("LSUTILS_ALLOW_DOWNLOAD", "") == "1":
        from torchvision.datasets import CIFAR10

        CIFAR10(str(root), train=True, download=True)
    if cifar_available(root) and data_source(root) == "cifar10":
        return root, "cifar10"
    if not allow_synthetic:
        raise FileNotFoundError(
            f"no CIFAR-10 under {root}; set LSUTILS_CIFAR_ROOT or LSUTILS_ALLOW_DOWNLOAD=1"
        )
    synth = synthetic_cifar_root()
    if not cifar_available(synth):
        write_synthetic_cifar10(synth)
    return synth, "synthetic"


def load_cifar10(
    root: str | os.PathLike | None = None, split: str = "train", *, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as uint8 ``[N, 3, 32, 32]`` and labels as int64 ``[N]``, read by torchvision's
    CIFAR10.

    Real data are md5-checked by torchvision; a folder marked SYNTHETIC is read by
    :func:`synthetic_reader`.
    """
    from torchvision.datasets import CIFAR10

    check_choice(split, "split", ("train", "test"))
    check_path(root, "root")
    check_bool(download, "download")
    root = Path(root if root is not None else default_cifar_root())
    synthetic = (root / _FOLDER / _MARKER).is_file()
    reader = synthetic_reader() if synthetic else CIFAR10
    ds = reader(str(root), train=split == "train", download=download and not synthetic)
    x = torch.from_numpy(np.ascontiguousarray(ds.data)).permute(0, 3, 1, 2).contiguous()
    return x, torch.as_tensor(ds.targets, dtype=torch.int64)


def augment_batch(
    x: torch.Tensor, generator: torch.Generator, *, pad: int = 4, flip: bool = True
) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a uint8 batch ``[B, C, H, W]``,
    vectorised.

    The random numbers come from ``generator``, which must live on ``x``'s device.
    """
    _check_images(x)
    if not isinstance(generator, torch.Generator) or generator.device.type != x.device.type:
        raise ValueError(
            f"generator must be a torch.Generator on x's device ({x.device}), got {generator!r}"
        )
    pad = check_int(pad, "pad", 0)
    flip = check_bool(flip, "flip")
    b, _, h, w = x.shape
    dev = x.device
    if pad > 0:
        xp = F.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator, device=dev)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator, device=dev)
        rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None]  # [B, 1, H, 1]
        cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :]  # [B, 1, 1, W]
        bi = torch.arange(b, device=dev)[:, None, None, None]
        ci = torch.arange(x.shape[1], device=dev)[None, :, None, None]
        x = xp[bi, ci, rows, cols]
    if flip:
        mask = torch.rand(b, generator=generator, device=dev) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


def _check_images(x: object) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.dim() != 4:
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a uint8 batch of images [B, C, H, W], got {got}")


def _per_channel(values: object, name: str, channels: int) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be {channels} numbers (one per channel), got {values!r}"
        ) from None
    if len(out) != channels or not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name} must be {channels} finite numbers (one per channel), got {out}")
    return out


@functools.cache
def _normalisation(
    mean: tuple[float, ...], std: tuple[float, ...], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std as ``[1, C, 1, 1]`` tensors, made once per device: a host-to-device copy per
    batch would synchronise the GPU stream every step."""
    return (
        torch.tensor(mean, device=device).view(1, -1, 1, 1),
        torch.tensor(std, device=device).view(1, -1, 1, 1),
    )


def prepare_batch(
    x: torch.Tensor,
    *,
    size: int | None = None,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
    channels_last: bool = True,
) -> torch.Tensor:
    """uint8 ``[B, C, H, W]`` to normalised float32, resized to ``size`` (bilinear) if given,
    channels_last. ``mean`` and ``std`` hold one value per channel."""
    _check_images(x)
    if size is not None:
        size = check_int(size, "size", 1)
    channels = x.shape[1]
    mean, std = _per_channel(mean, "mean", channels), _per_channel(std, "std", channels)
    if min(std) <= 0:
        raise ValueError(f"std must be positive (one value per channel), got {std}")
    channels_last = check_bool(channels_last, "channels_last")
    xf = x.float().div_(255)
    if size is not None and size != x.shape[-1]:
        xf = F.interpolate(
            xf, size=(size, size), mode="bilinear", align_corners=False, antialias=False
        )
    m, s = _normalisation(tuple(mean), tuple(std), x.device)
    xf = (xf - m) / s
    return xf.contiguous(memory_format=torch.channels_last) if channels_last else xf
