"""Tests for lsutils.losses against torch.nn.functional.cross_entropy, explicit sums and
autograd."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from lsutils import (
    cross_entropy_from_targets,
    logit_gradient,
    smooth_targets,
    smoothed_cross_entropy,
)

Ks = st.integers(2, 1000)
alphas = st.floats(0.0, 1.0)
reductions = st.sampled_from(["mean", "sum", "none"])
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def batch(draw, K, scale=5.0):
    """Random float64 logits [N, K] and labels [N] from a drawn seed."""
    n = draw(st.integers(1, 6))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    logits = scale * torch.randn(n, K, generator=g, dtype=torch.float64)
    labels = torch.randint(0, K, (n,), generator=g)
    return logits, labels


def explicit(logits, targets, reduction):
    """-sum_k p_k log q_k, written out."""
    loss = -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1)
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@given(Ks, alphas, reductions, st.data())
def test_uniform_matches_torch_label_smoothing(K, a, reduction, data):
    logits, labels = data.draw(batch(K))
    ours = smoothed_cross_entropy(logits, labels, a, "uniform", reduction)
    torch.testing.assert_close(
        ours, F.cross_entropy(logits, labels, label_smoothing=a, reduction=reduction)
    )
    targets = smooth_targets(labels, K, a, "uniform", dtype=torch.float64)
    torch.testing.assert_close(ours, explicit(logits, targets, reduction))
    torch.testing.assert_close(ours, cross_entropy_from_targets(logits, targets, reduction))


@given(Ks, alphas, reductions, st.data())
def test_others_matches_explicit_targets(K, eps, reduction, data):
    # eps in [0, 1] includes eps > (K-1)/K, the uniform-equivalent alpha > 1 that torch rejects.
    logits, labels = data.draw(batch(K))
    ours = smoothed_cross_entropy(logits, labels, eps, "others", reduction)
    targets = smooth_targets(labels, K, eps, "others", dtype=torch.float64)
    torch.testing.assert_close(ours, explicit(logits, targets, reduction))
    torch.testing.assert_close(ours, F.cross_entropy(logits, targets, reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("K, eps", [(2, 0.75), (10, 0.95), (10, 1.0), (100, 0.999)])
def test_others_beyond_uniform_range(K, eps, reduction):
    assert eps * K / (K - 1) > 1  # the explicit (non-torch) path
    g = torch.Generator().manual_seed(K)
    logits = torch.randn(7, K, generator=g, dtype=torch.float64)
    labels = torch.randint(0, K, (7,), generator=g)
    targets = smooth_targets(labels, K, eps, "others", dtype=torch.float64)
    ours = smoothed_cross_entropy(logits, labels, eps, "others", reduction)
    torch.testing.assert_close(ours, F.cross_entropy(logits, targets, reduction=reduction))


@given(Ks, st.floats(-1.0, 0.0), st.sampled_from(["uniform", "others"]), reductions, st.data())
def test_negative_alpha_with_allow_negative(K, a, convention, reduction, data):
    logits, labels = data.draw(batch(K))
    ours = smoothed_cross_entropy(logits, labels, a, convention, reduction, allow_negative=True)
    targets = smooth_targets(labels, K, a, convention, allow_negative=True, dtype=torch.float64)
    torch.testing.assert_close(ours, explicit(logits, targets, reduction))
    torch.testing.assert_close(ours, F.cross_entropy(logits, targets, reduction=reduction))


@given(Ks, reductions, st.data())
def test_cross_entropy_from_targets_matches_torch_probability_targets(K, reduction, data):
    logits, labels = data.draw(batch(K))
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1)))
    # Random probability rows, from nearly one-hot to nearly flat.
    temperature = data.draw(st.floats(0.1, 10.0))
    targets = torch.softmax(
        temperature * torch.randn(logits.shape, generator=g, dtype=torch.float64), dim=1
    )
    torch.testing.assert_close(
        cross_entropy_from_targets(logits, targets, reduction),
        F.cross_entropy(logits, targets, reduction=reduction),
    )


def test_cross_entropy_from_targets_one_hot_equals_nll():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([0, 2])
    ours = cross_entropy_from_targets(logits, F.one_hot(labels, 3).double(), "none")
    torch.testing.assert_close(ours, F.cross_entropy(logits, labels, reduction="none"))


def test_cross_entropy_from_targets_zero_target_with_infinite_logit():
    # A zero target where q underflows to 0 contributes 0 (not nan) to the loss and its gradient.
    logits = torch.tensor([[0.0, -float("inf"), 1.0]], requires_grad=True)
    targets = torch.tensor([[0.5, 0.0, 0.5]])
    loss = cross_entropy_from_targets(logits, targets)
    loss.backward()
    expected = F.cross_entropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(loss, expected)
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reduction_shapes_and_consistency(reduction):
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3, 0])
    out = smoothed_cross_entropy(logits, labels, 0.2, reduction=reduction)
    none = smoothed_cross_entropy(logits, labels, 0.2, reduction="none")
    assert none.shape == (5,)
    expected = {"mean": none.mean(), "sum": none.sum(), "none": none}[reduction]
    torch.testing.assert_close(out, expected)


CASES = [
    ("uniform", 0.0, False),
    ("uniform", 0.1, False),
    ("uniform", 1.0, False),
    ("others", 0.1, False),
    ("others", 0.99, False),
    ("uniform", -0.3, True),
    ("others", -0.3, True),
]


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("convention, a, neg", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_extreme_logits_give_finite_loss_and_gradient(sign, convention, a, neg, dtype):
    logits = torch.zeros(4, 6, dtype=torch.float64)
    logits[torch.arange(4), torch.tensor([0, 1, 2, 5])] = sign * 1e4
    logits[3, 3] = -sign * 1e4
    logits = logits.to(dtype).requires_grad_()
    labels = torch.tensor([0, 3, 4, 5])  # right, wrong, wrong and mixed confident predictions
    loss = smoothed_cross_entropy(logits, labels, a, convention, allow_negative=neg)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    ref = smoothed_cross_entropy(
        logits.detach().double(), labels, a, convention, allow_negative=neg
    )
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-3)


def test_extreme_logits_cross_entropy_from_targets():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    targets = smooth_targets(torch.tensor([1, 0]), 3, 0.0)
    loss = cross_entropy_from_targets(logits, targets)
    loss.backward()
    # Row 0: -log q_1 = 2e4. Row 1: -log q_0 = (1e4 + log 2) - (-1e4).
    assert loss.item() == pytest.approx((2e4 + 2e4 + math.log(2.0)) / 2)
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("convention, a", [("uniform", 0.1), ("others", 0.1), ("others", 0.97)])
@pytest.mark.parametrize("dtype, atol", [(torch.float16, 5e-3), (torch.bfloat16, 3e-2)])
def test_half_precision_close_to_float32(convention, a, dtype, atol):
    g = torch.Generator().manual_seed(1)
    logits32 = 3 * torch.randn(64, 10, generator=g)
    labels = torch.randint(0, 10, (64,), generator=g)
    half = logits32.to(dtype).requires_grad_()
    loss = smoothed_cross_entropy(half, labels, a, convention)
    loss.backward()
    assert loss.dtype == torch.float32  # computed in float32
    assert half.grad.dtype == dtype and torch.isfinite(half.grad).all()
    ref = smoothed_cross_entropy(logits32, labels, a, convention)
    torch.testing.assert_close(loss, ref, rtol=0, atol=atol)
    # Exactly the float32 loss of the rounded logits: the half input is only upcast.
    torch.testing.assert_close(
        loss, smoothed_cross_entropy(half.detach().float(), labels, a, convention)
    )
    targets = smooth_targets(labels, 10, a, convention)
    torch.testing.assert_close(
        cross_entropy_from_targets(half.detach(), targets),
        cross_entropy_from_targets(logits32, targets),
        rtol=0,
        atol=atol,
    )


@given(Ks, st.floats(-1.0, 1.0), st.sampled_from(["uniform", "others"]), st.data())
def test_autograd_matches_logit_gradient(K, a, convention, data):
    logits, labels = data.draw(batch(K))
    logits.requires_grad_()
    n = logits.shape[0]
    targets = smooth_targets(labels, K, a, convention, allow_negative=True, dtype=torch.float64)
    (grad_mean,) = torch.autograd.grad(
        smoothed_cross_entropy(logits, labels, a, convention, "mean", allow_negative=True), logits
    )
    torch.testing.assert_close(grad_mean, logit_gradient(logits.detach(), targets) / n)
    (grad_sum,) = torch.autograd.grad(
        smoothed_cross_entropy(logits, labels, a, convention, "sum", allow_negative=True), logits
    )
    torch.testing.assert_close(grad_sum, logit_gradient(logits.detach(), targets))


def test_validate_false_gives_the_same_loss():
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    for convention, a in [("uniform", 0.2), ("others", 0.9)]:
        torch.testing.assert_close(
            smoothed_cross_entropy(logits, labels, a, convention, validate=False),
            smoothed_cross_entropy(logits, labels, a, convention),
        )
