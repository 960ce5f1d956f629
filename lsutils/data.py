"""Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), loaded through torchvision from local files when
possible.

Sources, in order:

1. ``root`` (argument) or the environment variable ``LSUTILS_DATA``: a directory in torchvision's
   layout (``<root>/FashionMNIST/raw/*-ubyte``) or a flat directory of ``*-ubyte.gz`` files;
2. Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist/*-ubyte.gz``);
3. torchvision's download into the cache (needs network access).

Debian recompressed the ``.gz`` files, so their MD5s differ from torchvision's list; the
decompressed files are the originals. Gzipped sources are therefore decompressed into torchvision's
``FashionMNIST/raw/`` layout under the cache (``$LSUTILS_CACHE/data``, default
``~/.cache/lsutils/data``) and the decompressed MD5s are checked.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

import torch

from ._store import atomic_write_bytes, cache_dir
from ._validate import (
    check_choice,
    check_float,
    check_int,
    check_labels,
    check_num_classes,
    check_path,
)

__all__ = [
    "FASHION_CLASSES",
    "FASHION_MEAN",
    "FASHION_STD",
    "DEBIAN_DIR",
    "FASHION_MD5",
    "load_fashion_mnist",
    "fashion_tensors",
    "symmetric_label_noise",
]

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
#: Pixel mean and standard deviation of the 60,000 training images (scaled to [0, 1]).
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: MD5 of the decompressed IDX files (identical to the originals of Xiao et al.).
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}

_MISSING = (
    "Fashion-MNIST was not found locally and could not be downloaded. Remedies: install the "
    "Debian package (`apt-get install dataset-fashion-mnist`, files in "
    "/usr/share/datasets/fashion-mnist), or allow network access so torchvision can download it "
    "(or point LSUTILS_DATA / root= at a copy)."
)
SPLITS = ("train", "test")


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _has_raw(root: Path) -> bool:
    raw = root / "FashionMNIST" / "raw"
    return all((raw / name).is_file() for name in FASHION_MD5)


def _has_gz(src: Path) -> bool:
    return all((src / f"{name}.gz").is_file() for name in FASHION_MD5)


def _decompress_verified(src: Path) -> Path:
    """Decompress ``src/*-ubyte.gz`` into ``<cache>/data/<key>/FashionMNIST/raw`` and check the
    MD5s."""
    key = hashlib.sha256(str(src.resolve()).encode()).hexdigest()[:12]
    root = cache_dir() / "data" / f"fashion-mnist-{key}"
    raw = root / "FashionMNIST" / "raw"
    if _has_raw(root):
        return root
    raw.mkdir(parents=True, exist_ok=True)
    for name, expected in FASHION_MD5.items():
        target = raw / name
        if target.is_file():
            continue
        with gzip.open(src / f"{name}.gz", "rb") as inp:
            data = inp.read()
        got = hashlib.md5(data).hexdigest()
        if got != expected:
            raise ValueError(
                f"MD5 mismatch for {src / (name + '.gz')} (decompressed): expected {expected}, "
                f"got {got}; the file is corrupt or not Fashion-MNIST. Reinstall "
                "`dataset-fashion-mnist` or remove it."
            )
        atomic_write_bytes(target, data)
    return root


def _download() -> Path:
    import torchvision

    root = cache_dir() / "data" / "torchvision"
    torchvision.datasets.FashionMNIST(str(root), train=True, download=True)
    torchvision.datasets.FashionMNIST(str(root), train=False, download=True)
    return root


def _resolve_root(root: str | os.PathLike | None) -> Path:
    explicit = root if root is not None else os.environ.get("LSUTILS_DATA") or None
    candidates = [Path(explicit)] if explicit else []
    candidates.append(DEBIAN_DIR)
    for src in candidates:
        if _has_raw(src):
            return src
        if _has_gz(src):
            return _decompress_verified(src)
    cached = cache_dir() / "data" / "torchvision"
    if _has_raw(cached):
        return cached
    try:
        return _download()
    except Exception as err:  # no network, mirror down, ...: one clear message
        raise FileNotFoundError(
            _MISSING + f" (download failed: {type(err).__name__}: {err})"
        ) from err


def load_fashion_mnist(
    split: str = "train", root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST images ``uint8 [N, 28, 28]`` and labels ``int64 [N]`` (60,000 train / 10,000
    test)."""
    check_choice(split, "split", SPLITS)
    check_path(root, "root")
    import torchvision

    data_root = _resolve_root(root)
    ds = torchvision.datasets.FashionMNIST(str(data_root), train=split == "train", download=False)
    return ds.data.to(torch.uint8).contiguous(), ds.targets.to(torch.int64).contiguous()


@functools.lru_cache(maxsize=4)
def _fashion_tensors(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_fashion_mnist(split)
    x = (images.to(torch.float32).div_(255.0).sub_(FASHION_MEAN).div_(FASHION_STD)).unsqueeze(1)
    return x, labels


def fashion_tensors(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised images ``float32 [N, 1, 28, 28]`` and labels ``int64 [N]``, cached in this
    process.

    The returned tensors are shared between calls: do not modify them in place.
    """
    return _fashion_tensors(check_choice(split, "split", SPLITS))


def symmetric_label_noise(
    labels: torch.Tensor, rate: float, num_classes: int, seed: int = 0
) -> torch.Tensor:
    """Copy of ``labels`` with ``round(rate * N)`` of them (chosen at random) flipped to a different
    class.

    The new class is uniform over the ``num_classes - 1`` wrong classes, so exactly a fraction
    ``rate`` of the labels is wrong. Deterministic given ``seed``.
    """
    rate = check_float(rate, "rate", 0.0, 1.0)
    num_classes = check_num_classes(num_classes)
    labels = check_labels(labels, num_classes)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", 0))
    n = labels.numel()
    flip = torch.randperm(n, generator=gen)[: round(rate * n)]
    shift = torch.randint(1, num_classes, (flip.numel(),), generator=gen)
    out = labels.clone()
    out[flip] = (labels[flip] + shift) % num_classes
    return out
