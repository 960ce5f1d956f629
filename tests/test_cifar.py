"""lsutils.cifar (synthetic writer, loading, augmentation) and lsutils.profiles (profile
selection)."""

import numpy as np
import pytest
import torch
from torchvision.datasets import CIFAR10

from lsutils import cifar, profiles


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    return cifar.write_synthetic_cifar10(
        tmp_path_factory.mktemp("c10"), n_train=100, n_test=30, seed=1
    )


def test_synthetic_set_read_by_torchvision(synth_root):
    with pytest.raises(RuntimeError):  # torchvision's md5 check refuses it as real CIFAR-10
        CIFAR10(str(synth_root), train=True)
    reader = cifar.synthetic_reader()
    assert issubclass(reader, CIFAR10)
    train, test = reader(str(synth_root), train=True), reader(str(synth_root), train=False)
    assert train.data.shape == (100, 32, 32, 3) and train.data.dtype == np.uint8
    assert test.data.shape == (30, 32, 32, 3)
    assert train.classes == list(cifar.CIFAR10_CLASSES)
    assert set(train.targets) <= set(range(10)) and len(set(train.targets)) > 5
    img, label = train[0]
    assert img.size == (32, 32) and label == train.targets[0]


def test_load_cifar10_tensors_and_source(synth_root):
    x, y = cifar.load_cifar10(synth_root, "train")
    assert x.shape == (100, 3, 32, 32) and x.dtype == torch.uint8 and y.dtype == torch.int64
    ds = cifar.synthetic_reader()(str(synth_root), train=True)
    assert torch.equal(x[3], torch.from_numpy(ds.data[3]).permute(2, 0, 1))
    assert y.tolist() == ds.targets
    assert cifar.data_source(synth_root) == "synthetic"
    with pytest.raises(ValueError):
        cifar.load_cifar10(synth_root, "val")


def test_real_layout_without_marker_is_cifar10(tmp_path):
    root = cifar.write_synthetic_cifar10(tmp_path, n_train=10, n_test=5)
    (root / "cifar-10-batches-py" / "SYNTHETIC").unlink()
    assert cifar.data_source(root) == "cifar10"
    with pytest.raises(RuntimeError):  # without the marker, torchvision's md5 check applies
        cifar.load_cifar10(root)
    with pytest.raises(ValueError):
        cifar.data_source(tmp_path / "missing")


def test_synthetic_classes_are_separable(synth_root):
    """Class-mean colours differ: a nearest-class-mean rule on mean colour beats chance by far."""
    x, y = cifar.load_cifar10(synth_root, "train")
    xt, yt = cifar.load_cifar10(synth_root, "test")
    feats, feats_t = x.float().mean((2, 3)), xt.float().mean((2, 3))
    centres = torch.stack([feats[y == k].mean(0) for k in range(10)])
    acc = (torch.cdist(feats_t, centres).argmin(1) == yt).float().mean().item()
    assert acc > 0.5


def test_augment_crop_and_flip_match_reference():
    x = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(cifar.augment_batch(x, g, pad=0, flip=False), x)
    out = cifar.augment_batch(x, torch.Generator().manual_seed(5), pad=2, flip=True)
    # Replay the same random draws and crop/flip each image one by one.
    g = torch.Generator().manual_seed(5)
    dy, dx = torch.randint(0, 5, (6,), generator=g), torch.randint(0, 5, (6,), generator=g)
    flip = torch.rand(6, generator=g) < 0.5
    xp = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(6):
        ref = xp[i, :, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8]
        assert torch.equal(out[i], ref.flip(2) if flip[i] else ref)
    with pytest.raises(ValueError):
        cifar.augment_batch(x[0], g)


def test_prepare_batch_normalises_and_resizes():
    x = torch.full((2, 3, 32, 32), 255, dtype=torch.uint8)
    out = cifar.prepare_batch(x, size=48)
    assert out.shape == (2, 3, 48, 48) and out.is_contiguous(memory_format=torch.channels_last)
    expect = (1 - torch.tensor(cifar.IMAGENET_MEAN)) / torch.tensor(cifar.IMAGENET_STD)
    torch.testing.assert_close(out[0, :, 5, 5], expect)


@pytest.mark.parametrize(
    "value,expected", [("full", "full"), ("smoke", "smoke"), (" Smoke ", "smoke")]
)
def test_profile_explicit_values(monkeypatch, value, expected):
    monkeypatch.setenv("LSUTILS_PROFILE", value)
    assert profiles.select_profile() == expected
    assert profiles.get_profile().name == expected


@pytest.mark.parametrize(
    "cuda,data,expected",
    [(True, True, "full"), (True, False, "smoke"), (False, True, "smoke"), (False, False, "smoke")],
)
def test_profile_auto(monkeypatch, cuda, data, expected):
    monkeypatch.delenv("LSUTILS_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(profiles, "_real_data_available", lambda: data)
    assert profiles.select_profile() == expected
    monkeypatch.setenv("LSUTILS_PROFILE", "auto")
    assert profiles.select_profile() == expected


def test_profile_auto_ignores_synthetic_data(monkeypatch, tmp_path):
    cifar.write_synthetic_cifar10(tmp_path, n_train=10, n_test=5)
    monkeypatch.setenv("LSUTILS_CIFAR_ROOT", str(tmp_path))
    assert profiles.select_profile("auto", cuda_available=lambda: True) == "smoke"


def test_profile_bad_value(monkeypatch):
    monkeypatch.setenv("LSUTILS_PROFILE", "fast")
    with pytest.raises(ValueError, match="LSUTILS_PROFILE"):
        profiles.select_profile()
