"""Tests for lsutils.probe (linear probe by L-BFGS) and lsutils.fairness (per-class metrics)."""

import pytest
import torch
import torch.nn.functional as F

from lsutils.fairness import per_class_accuracy, per_class_deltas, per_class_ece
from lsutils.probe import extract_features, fit_linear_probe


def blobs(n=300, d=5, k=3, seed=0, spread=0.3):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(k, d, generator=g) * 3
    y = torch.arange(n) % k
    return centers[y] + spread * torch.randn(n, d, generator=g), y


def test_probe_separates_blobs_and_reaches_a_stationary_point():
    x, y = blobs()
    probe = fit_linear_probe(x, y, 3, l2=1e-3)
    assert probe.accuracy(x, y) == 1.0
    # stationarity of the penalised objective, checked with autograd
    w = probe.weight.clone().requires_grad_(True)
    b = probe.bias.clone().requires_grad_(True)
    z = (x.double() - probe.mean) / probe.std
    loss = F.cross_entropy(z @ w.T + b, y) + 0.5 * 1e-3 * (w * w).sum()
    loss.backward()
    assert float(w.grad.abs().max()) < 1e-5 and float(b.grad.abs().max()) < 1e-5


def test_probe_on_noise_features_is_near_chance():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(2000, 4, generator=g), torch.randint(0, 4, (2000,), generator=g)
    xt, yt = torch.randn(2000, 4, generator=g), torch.randint(0, 4, (2000,), generator=g)
    assert abs(fit_linear_probe(x, y, 4).accuracy(xt, yt) - 0.25) < 0.05


def test_extract_features_uses_features_method():
    class M(torch.nn.Module):
        def features(self, x):
            return 2 * x

    x = torch.randn(10, 3)
    assert torch.equal(extract_features(M(), x, batch_size=3), 2 * x)
    with pytest.raises(ValueError, match="features"):
        extract_features(torch.nn.Linear(3, 3), x)


def test_probe_bad_input():
    with pytest.raises(ValueError):
        fit_linear_probe(torch.randn(4, 2), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError):
        fit_linear_probe(torch.zeros(4, 2, dtype=torch.long), torch.tensor([0, 1, 0, 1]))


def test_per_class_metrics():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    labels = torch.tensor([0, 0, 1, 1])
    acc = per_class_accuracy(probs, labels)
    assert torch.allclose(acc, torch.tensor([1.0, 0.5], dtype=torch.float64))
    ece = per_class_ece(probs, labels, n_bins=10)
    # class 0: both right, confidences 0.9 and 0.6 in their own bins -> mean gap (0.1 + 0.4) / 2
    assert float(ece[0]) == pytest.approx(0.25)
    # class 1: 0.7 right (gap 0.3), 0.8 wrong (gap 0.8) -> 0.55
    assert float(ece[1]) == pytest.approx(0.55)
    d = per_class_deltas(probs, probs, labels)
    assert float(d["accuracy"].abs().sum()) == 0.0 and float(d["ece"].abs().sum()) == 0.0


def test_per_class_ece_matches_torchmetrics_on_one_class():
    from torchmetrics.functional.classification import binary_calibration_error

    g = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(500, 4, generator=g), 1)
    labels = torch.zeros(500, dtype=torch.long)
    conf, pred = probs.max(1)
    expected = binary_calibration_error(conf, (pred == labels).long(), n_bins=15)
    assert float(per_class_ece(probs, labels)[0]) == pytest.approx(float(expected), abs=1e-5)


def test_class_separation():
    from lsutils.probe import class_separation

    x, y = blobs(spread=0.0)
    assert class_separation(x, y) == pytest.approx(1.0)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(4000, 3, generator=g)
    assert abs(class_separation(noise, torch.arange(4000) % 4)) < 0.01
    # the cosine-distance definition and its checks against the paper: tests/test_probe_app.py
