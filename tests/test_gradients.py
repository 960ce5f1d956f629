"""Tests for lsutils.gradients: dL/dz = softmax(z) - p, against autograd and sympy."""

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from lsutils import cross_entropy_from_targets, logit_gradient, smooth_targets
from lsutils.gradients import gradient_derivation

Ks = st.integers(2, 1000)


@st.composite
def logits_and_targets(draw):
    K = draw(st.integers(2, 1000))
    n = draw(st.integers(1, 6))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    logits = draw(st.floats(0.1, 30.0)) * torch.randn(n, K, generator=g, dtype=torch.float64)
    kind = draw(st.sampled_from(["soft", "smoothed", "negative"]))
    if kind == "soft":
        targets = torch.softmax(
            draw(st.floats(0.1, 10.0)) * torch.randn(n, K, generator=g, dtype=torch.float64), 1
        )
    else:
        labels = torch.randint(0, K, (n,), generator=g)
        a = draw(st.floats(-1.0, 0.0) if kind == "negative" else st.floats(0.0, 1.0))
        convention = draw(st.sampled_from(["uniform", "others"]))
        targets = smooth_targets(labels, K, a, convention, allow_negative=True, dtype=torch.float64)
    return logits, targets


@given(logits_and_targets())
def test_logit_gradient_matches_autograd(case):
    logits, targets = case
    logits.requires_grad_()
    (ours_autograd,) = torch.autograd.grad(
        cross_entropy_from_targets(logits, targets, "sum"), logits
    )
    (torch_autograd,) = torch.autograd.grad(
        F.cross_entropy(logits, targets, reduction="sum"), logits
    )
    grad = logit_gradient(logits.detach(), targets)
    torch.testing.assert_close(grad, ours_autograd)
    torch.testing.assert_close(grad, torch_autograd)
    # Rows of p sum to 1, so each gradient row sums to 0.
    torch.testing.assert_close(grad.sum(dim=1), torch.zeros(grad.shape[0], dtype=torch.float64))


@given(Ks, st.floats(1e-6, 1 - 1e-6), st.sampled_from(["uniform", "others"]))
def test_gradient_vanishes_at_log_p(K, a, convention):
    targets = smooth_targets(torch.tensor([0, K - 1]), K, a, convention, dtype=torch.float64)
    grad = logit_gradient(torch.log(targets), targets)
    torch.testing.assert_close(grad, torch.zeros_like(grad), rtol=0, atol=1e-12)


def test_logit_gradient_worked_example():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    targets = smooth_targets(torch.tensor([1]), 4, 0.2)
    torch.testing.assert_close(
        logit_gradient(logits, targets), torch.tensor([[0.2, -0.6, 0.2, 0.2]])
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_logit_gradient_half_precision_is_float32(dtype):
    logits = torch.tensor([[1e4, -1e4, 0.0]], dtype=dtype)
    grad = logit_gradient(logits, torch.tensor([[0.0, 1.0, 0.0]]))
    assert grad.dtype == torch.float32
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]))


@pytest.mark.parametrize("K", [2, 3, 4])
def test_gradient_derivation_differences_vanish(K):
    steps = gradient_derivation(K)
    assert len(steps["z"]) == len(steps["p"]) == len(steps["q"]) == K
    assert steps["difference"] == [0] * K
    # Independent check: differentiate the returned loss and compare with q - p at a random point.
    z, p = steps["z"], steps["p"]
    point = {zk: sp.Rational(k + 1, 3) * (-1) ** k for k, zk in enumerate(z)}
    probs = [sp.Rational(k + 1, K * (K + 1) // 2) for k in range(K)]  # sums to 1
    point.update(dict(zip(p, probs, strict=True)))
    for zk, qk, pk in zip(z, steps["q"], p, strict=True):
        diff = (sp.diff(steps["loss"], zk) - (qk - pk)).subs(point)
        assert abs(float(diff)) < 1e-12
