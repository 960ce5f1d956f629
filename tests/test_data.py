"""Fashion-MNIST loading: the real loading path on small IDX files written here, and label noise."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest
import torch

import lsutils
from lsutils import data

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim  # 0x08 = unsigned byte
    return (
        struct.pack(">I", magic)
        + b"".join(struct.pack(">I", d) for d in array.shape)
        + array.tobytes()
    )


def _write_gz_source(tmp_path, n_train=7, n_test=5):
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays, md5 = {}, {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        arrays[split] = (images, labels)
        for name, arr in zip(NAMES[split], (images, labels), strict=True):
            raw = _idx_bytes(arr)
            md5[name] = hashlib.md5(raw).hexdigest()
            with gzip.open(src / f"{name}.gz", "wb") as f:
                f.write(raw)
    return src, arrays, md5


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("LSUTILS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LSUTILS_DATA", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")

    def no_network():
        raise OSError("network unreachable (test)")

    monkeypatch.setattr(data, "_download", no_network)
    return tmp_path


@pytest.mark.parametrize("via_env", [False, True])
def test_loads_gzipped_idx_files_through_torchvision(isolated, monkeypatch, via_env):
    src, arrays, md5 = _write_gz_source(isolated)
    monkeypatch.setattr(data, "FASHION_MD5", md5)
    if via_env:
        monkeypatch.setenv("LSUTILS_DATA", str(src))
    root = None if via_env else src
    for split in ("train", "test"):
        images, labels = lsutils.load_fashion_mnist(split, root=root)
        assert images.dtype == torch.uint8 and labels.dtype == torch.int64
        np.testing.assert_array_equal(images.numpy(), arrays[split][0])
        np.testing.assert_array_equal(labels.numpy(), arrays[split][1].astype(np.int64))
    # decompressed into torchvision's layout under the cache, not next to the source
    raw = list((isolated / "cache" / "data").glob("*/FashionMNIST/raw/train-images-idx3-ubyte"))
    assert len(raw) == 1
    assert not (src / "FashionMNIST").exists()


def test_debian_directory_is_used_when_no_root(isolated, monkeypatch):
    src, arrays, md5 = _write_gz_source(isolated)
    monkeypatch.setattr(data, "FASHION_MD5", md5)
    monkeypatch.setattr(data, "DEBIAN_DIR", src)
    images, _ = lsutils.load_fashion_mnist("test")
    np.testing.assert_array_equal(images.numpy(), arrays["test"][0])


def test_md5_mismatch_is_an_error_and_leaves_no_file(isolated):
    src, _, _ = _write_gz_source(isolated)  # real Fashion-MNIST MD5s: these tiny files cannot match
    with pytest.raises(ValueError, match="MD5 mismatch"):
        lsutils.load_fashion_mnist("train", root=src)
    assert not list((isolated / "cache").rglob("*-ubyte"))


def test_missing_data_without_network_names_both_remedies(isolated):
    empty = isolated / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as err:
        lsutils.load_fashion_mnist("train", root=empty)
    msg = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in msg and "network" in msg


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        lsutils.load_fashion_mnist("validation")


@pytest.mark.skipif(
    not data._has_gz(data.DEBIAN_DIR), reason="Debian dataset-fashion-mnist not installed"
)
def test_real_fashion_mnist_shapes():
    images, labels = lsutils.load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [1000] * 10
    assert len(data.FASHION_CLASSES) == 10


def test_symmetric_label_noise_flips_exact_fraction_to_other_classes():
    labels = torch.arange(1000) % 10
    noisy = data.symmetric_label_noise(labels, 0.3, 10, seed=1)
    flipped = noisy != labels
    assert flipped.sum().item() == 300
    assert noisy.min() >= 0 and noisy.max() <= 9
    assert torch.equal(noisy, data.symmetric_label_noise(labels, 0.3, 10, seed=1))
    assert not torch.equal(noisy, data.symmetric_label_noise(labels, 0.3, 10, seed=2))
    # the wrong label is spread over the other classes
    assert len(set(((noisy[flipped] - labels[flipped]) % 10).tolist())) == 9
    assert torch.equal(data.symmetric_label_noise(labels, 0.0, 10, seed=0), labels)
    with pytest.raises(ValueError):
        data.symmetric_label_noise(labels, 1.5, 10)
