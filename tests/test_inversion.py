"""Tests for lsutils.inversion: total variation, the inversion attack and its measurements."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lsutils.inversion import (
    attack_accuracy,
    class_means,
    distance_to_class_means,
    invert_classes,
    total_variation,
)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(2, 6), st.integers(2, 6), st.integers(0, 1000))
def test_total_variation_matches_loops(c, h, w, seed):
    x = torch.randn(2, c, h, w, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    for n in range(2):
        dh = [abs(x[n, k, i + 1, j] - x[n, k, i, j]) for k in range(c) for i in range(h - 1)
              for j in range(w)]  # fmt: skip
        dw = [abs(x[n, k, i, j + 1] - x[n, k, i, j]) for k in range(c) for i in range(h)
              for j in range(w - 1)]  # fmt: skip
        expected = sum(dh) / len(dh) + sum(dw) / len(dw)
        assert float(total_variation(x)[n]) == pytest.approx(float(expected), rel=1e-12)


def test_total_variation_is_zero_for_constant_images():
    assert torch.equal(total_variation(torch.full((3, 1, 4, 5), 0.7)), torch.zeros(3))


def _linear_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 3))


def test_inversion_raises_the_target_probability_and_leaves_the_model_alone():
    model = _linear_model()
    before = [p.detach().clone() for p in model.parameters()]
    images, targets = invert_classes(
        model, [0, 2], (1, 6, 6), starts=3, steps=60, lr=0.1, bounds=(-1.0, 1.0)
    )
    assert images.shape == (6, 1, 6, 6) and targets.tolist() == [0, 0, 0, 2, 2, 2]
    assert images.min() >= -1.0 and images.max() <= 1.0
    start = 0.1 * torch.randn(6, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        p_end = model(images).softmax(1).gather(1, targets[:, None])
        p_start = model(start).softmax(1).gather(1, targets[:, None])
    assert (p_end > p_start + 0.2).all()
    for p, q in zip(model.parameters(), before, strict=True):
        assert torch.equal(p, q) and p.requires_grad
    # seeded: the same call gives the same images
    again, _ = invert_classes(
        model, [0, 2], (1, 6, 6), starts=3, steps=60, lr=0.1, bounds=(-1.0, 1.0)
    )
    torch.testing.assert_close(images, again)


def test_inversion_with_a_strong_prior_stays_smooth():
    model = _linear_model(1)
    rough, _ = invert_classes(model, [1], (1, 6, 6), steps=50, lr=0.1, tv_weight=0.0)
    smooth, _ = invert_classes(model, [1], (1, 6, 6), steps=50, lr=0.1, tv_weight=20.0)
    assert total_variation(smooth).mean() < 0.5 * total_variation(rough).mean()


def test_attack_accuracy_counts_the_evaluator_hits():
    evaluator = torch.nn.Identity()  # "logits" are the images themselves
    images = torch.tensor([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0], [5.0, 0.0, 0.0]])
    # predictions 0, 1, 2, 0 against targets 0, 1, 1, 2: two hits of four
    assert attack_accuracy(evaluator, images, torch.tensor([0, 1, 1, 2])) == pytest.approx(0.5)


def test_class_means_and_distances_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(30, 1, 3, 3, generator=gen)
    labels = torch.arange(30) % 3
    means = class_means(images, labels, 3)
    for k in range(3):
        torch.testing.assert_close(means[k], images[labels == k].mean(0))
    recon = torch.randn(5, 1, 3, 3, generator=gen)
    targets = torch.tensor([0, 1, 2, 0, 1])
    dist, nearest = distance_to_class_means(recon, targets, means)
    for i in range(5):
        all_d = [float((recon[i] - means[k]).pow(2).mean().sqrt()) for k in range(3)]
        assert float(dist[i]) == pytest.approx(all_d[targets[i]], rel=1e-6)
        assert bool(nearest[i]) == (min(range(3), key=all_d.__getitem__) == int(targets[i]))
    own, near = distance_to_class_means(means, torch.arange(3), means)
    assert torch.allclose(own, torch.zeros(3, dtype=own.dtype)) and near.all()


@pytest.mark.parametrize(
    "call",
    [
        lambda: total_variation(torch.zeros(2, 3)),
        lambda: invert_classes(_linear_model(), [], (1, 6, 6)),
        lambda: invert_classes(_linear_model(), [3], (1, 6, 6), steps=1),
        lambda: invert_classes(_linear_model(), [0], (1, 6, 6), steps=0),
        lambda: invert_classes(_linear_model(), [0], (1, 6, 6), lr=-1.0),
        lambda: invert_classes(_linear_model(), [0], (1, 6, 6), bounds=(1.0, 0.0)),
        lambda: class_means(torch.zeros(4, 2), torch.tensor([0, 0, 1, 1]), 3),
        lambda: class_means(torch.zeros(4, 2), torch.tensor([0, 0, 1]), 2),
        lambda: distance_to_class_means(torch.zeros(2, 4), torch.tensor([0, 5]), torch.zeros(3, 4)),
        lambda: attack_accuracy(torch.nn.Identity(), torch.zeros(2, 3), torch.tensor([0])),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
