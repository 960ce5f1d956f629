"""The training loop and the model cache, on small synthetic data (no Fashion-MNIST needed)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import lsutils
from lsutils import train as T
from lsutils.models import MLP, SmallCNN, make_model


def _synthetic(split: str):
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 600 if split == "train" else 200
    y = torch.arange(n) % 10
    centers = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    x = centers[y] + 0.8 * torch.randn(n, 1, 28, 28, generator=g)
    return x, y


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LSUTILS_CACHE", str(tmp_path))
    monkeypatch.setattr(T, "fashion_tensors", _synthetic)
    return tmp_path


CFG = T.TrainConfig(epochs=3, batch_size=64, val_size=100)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_models_expose_features_and_head():
    x = torch.randn(5, 1, 28, 28)
    for model in (MLP(), SmallCNN(num_classes=3), make_model("mlp", 4)):
        logits = model(x)
        assert torch.allclose(model.head(model.features(x)), logits)
        assert isinstance(model.head, torch.nn.Linear)
    with pytest.raises(ValueError, match="unknown model"):
        make_model("resnet", 10)


def test_fit_is_reproducible_and_seed_dependent():
    x, y = _synthetic("train")
    runs = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        m = MLP()
        h = T.fit(
            m, x, y, alpha=0.1, epochs=2, batch_size=50, seed=seed, progress=False, device="cpu"
        )
        runs.append((m, h))
    assert runs[0][1].train_loss == runs[1][1].train_loss and _same_weights(runs[0][0], runs[1][0])
    assert runs[0][1].train_loss != runs[2][1].train_loss


def test_history_tracks_loss_floor_and_learns():
    x, y = _synthetic("train")
    torch.manual_seed(0)
    h = T.fit(MLP(), x, y, alpha=0.1, epochs=4, batch_size=50, progress=False)
    assert h.loss_floor == pytest.approx(lsutils.loss_floor(10, 0.1))
    assert all(
        e == pytest.approx(t - h.loss_floor)
        for t, e in zip(h.train_loss, h.excess_loss, strict=True)
    )
    assert h.train_loss[-1] < h.train_loss[0] and h.train_accuracy[-1] > 0.9
    assert min(h.excess_loss) > 0  # the smoothed loss never goes below its floor


def test_fit_accepts_target_rows():
    x, y = _synthetic("train")
    targets = lsutils.smooth_targets(y, 10, 0.2)
    torch.manual_seed(0)
    h = T.fit(MLP(), x, targets, epochs=2, batch_size=100, progress=False)
    assert h.loss_floor == pytest.approx(lsutils.loss_floor(10, 0.2), rel=1e-6)
    with pytest.raises(ValueError, match="alpha=0"):
        T.fit(MLP(), x, targets, alpha=0.1, epochs=1, progress=False)


def test_train_caches_and_reloads_with_weights_only(fake_data, monkeypatch):
    first = T.train(CFG, progress=False)
    path = T.cache_path(CFG)
    assert path.exists() and path.parent == fake_data / "models"
    blob = torch.load(path, weights_only=True)
    assert blob["config"] == CFG.canonical()

    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded from the cache")

    monkeypatch.setattr(T, "fit", no_training)
    second = T.train(CFG, progress=False)
    assert _same_weights(first.model, second.model)
    assert second.history.to_dict() == first.history.to_dict()


def test_same_config_same_result_without_cache(fake_data):
    a = T.train(CFG, cache=False, progress=False)
    b = T.train(CFG, cache=False, progress=False)
    assert a.history.train_loss == b.history.train_loss and _same_weights(a.model, b.model)
    c = T.train(dataclasses.replace(CFG, seed=1), cache=False, progress=False)
    assert c.history.train_loss != a.history.train_loss


def test_corrupt_cache_is_retrained_with_a_warning(fake_data):
    reference = T.train(CFG, cache=False, progress=False)
    path = T.cache_path(CFG)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="retraining"):
        again = T.train(CFG, progress=False)
    assert _same_weights(reference.model, again.model)
    torch.load(path, weights_only=True)  # rewritten, readable


def test_cache_key_covers_every_field():
    keys = {T.config_key(CFG)}
    changes = dict(
        model="cnn",
        alpha=0.1,
        convention="others",
        epochs=4,
        batch_size=32,
        lr=2e-3,
        weight_decay=1e-4,
        optimizer="sgd",
        seed=3,
        train_size=100,
        classes=(0, 1),
        label_noise=0.1,
        allow_negative=True,
        val_size=50,
    )
    assert set(changes) == {f.name for f in dataclasses.fields(T.TrainConfig)}
    for name, value in changes.items():
        keys.add(T.config_key(dataclasses.replace(CFG, **{name: value})))
    assert len(keys) == len(changes) + 1
    assert T.config_key(dataclasses.replace(CFG, classes=[0, 1])) == T.config_key(
        dataclasses.replace(CFG, classes=(0, 1))
    )


def test_config_data_splits_and_relabels(fake_data):
    cfg = dataclasses.replace(CFG, classes=(7, 2), train_size=50)
    x, y = T.config_data(cfg, "train")
    assert len(y) == 50 and set(y.tolist()) <= {0, 1}
    xv, yv = T.config_data(CFG, "val")
    xt, _ = T.config_data(CFG, "train")
    assert len(yv) == 100 and len(xt) == 500
    # validation and training images are disjoint
    flat_v, flat_t = xv.flatten(1), xt.flatten(1)
    assert not any(torch.equal(flat_v[0], r) for r in flat_t)
    noisy = T.config_data(dataclasses.replace(CFG, label_noise=0.2), "train")[1]
    clean = T.config_data(dataclasses.replace(CFG, label_noise=0.2), "train", noisy=False)[1]
    assert (noisy != clean).float().mean().item() == pytest.approx(0.2, abs=0.01)


def test_bad_configs_raise():
    for bad in (
        dict(model="vit"),
        dict(alpha=1.5),
        dict(alpha=-0.1),
        dict(classes=(1,)),
        dict(optimizer="x"),
    ):
        with pytest.raises(ValueError):
            T.TrainConfig(**bad)


def test_predict_logits_matches_forward():
    m = MLP()
    x = torch.randn(10, 1, 28, 28)
    out = T.predict_logits(m, x, batch_size=3)
    assert out.dtype == torch.float32 and torch.allclose(out, m(x), atol=1e-6)
