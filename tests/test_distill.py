"""Tests for lsutils.distill: soft targets, Hinton's distillation loss (autograd oracle),
dark-knowledge stats."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lsutils import smooth_targets
from lsutils.distill import (
    class_similarity_from_probs,
    confusion_similarity,
    distillation_loss,
    soft_targets,
    wrong_class_entropy,
    wrong_class_probs,
)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.floats(0.5, 8.0), st.integers(0, 10_000))
def test_kd_loss_value_and_gradient(n, k, t, seed):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, k, generator=g, dtype=torch.float64, requires_grad=True)
    z = torch.randn(n, k, generator=g, dtype=torch.float64)
    p = (z / t).softmax(1)
    q = (s / t).softmax(1)
    expected = t * t * (p * (p.log() - q.log())).sum(1).mean()
    loss = distillation_loss(s, z, t)
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-9, abs=1e-12)
    loss.backward()
    # d/ds of T^2 KL(p || softmax(s/T)) = T (q - p), averaged over rows
    assert torch.allclose(s.grad, t * (q - p).detach() / n, atol=1e-10)


def test_kd_loss_is_zero_when_student_equals_teacher_and_mixes_hard_ce():
    z = torch.randn(5, 4)
    assert float(distillation_loss(z, z, 3.0)) == pytest.approx(0.0, abs=1e-6)
    labels = torch.randint(0, 4, (5,))
    s = torch.randn(5, 4)
    mixed = distillation_loss(s, z, 2.0, labels=labels, hard_weight=0.3)
    expected = 0.7 * distillation_loss(s, z, 2.0) + 0.3 * F.cross_entropy(s, labels)
    assert float(mixed) == pytest.approx(float(expected), rel=1e-6)


def test_soft_targets_temperature():
    z = torch.tensor([[2.0, 0.0, -1.0]])
    assert torch.allclose(soft_targets(z, 1.0), z.softmax(1))
    hot = soft_targets(z, 100.0)
    assert torch.allclose(hot, torch.full_like(hot, 1 / 3), atol=0.01)
    assert torch.allclose(soft_targets(z, 0.5).sum(1), torch.ones(1))


def test_wrong_class_entropy_of_smoothed_targets_is_maximal():
    labels = torch.tensor([0, 3, 2])
    targets = smooth_targets(labels, 5, 0.1)
    assert torch.allclose(
        wrong_class_entropy(targets, labels), torch.full((3,), math.log(4), dtype=torch.float64)
    )
    probs = torch.tensor([[0.7, 0.2, 0.05, 0.05]])
    w = wrong_class_probs(probs, torch.tensor([0]))
    assert torch.allclose(w, torch.tensor([[2 / 3, 1 / 6, 1 / 6]], dtype=torch.float64))
    assert float(wrong_class_entropy(probs, torch.tensor([0]))) < math.log(3)


def test_similarity_matrices():
    labels = torch.tensor([0, 0, 1, 2])
    probs = torch.tensor([[0.8, 0.2, 0.0], [0.6, 0.4, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]])
    sim = class_similarity_from_probs(probs, labels)
    assert torch.allclose(sim, sim.T)
    assert float(sim[0, 1]) == pytest.approx((0.3 + 0.1) / 2)
    assert float(sim.diagonal().abs().sum()) == 0.0
    conf = confusion_similarity(torch.tensor([1, 0, 1, 2]), labels, 3)
    assert float(conf[0, 1]) == pytest.approx(0.25)
    assert float(conf[0, 2]) == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="temperature"):
        soft_targets(torch.randn(2, 3), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        distillation_loss(torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="hard labels"):
        distillation_loss(torch.randn(2, 3), torch.randn(2, 3), hard_weight=0.5)
