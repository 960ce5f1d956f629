"""lsutils.noise: the noise matrix, the noise-matched smoothing, and forward correction."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lsutils
from lsutils import noise


@given(st.integers(2, 20), st.floats(0.0, 0.85))
def test_noise_matched_target_is_the_expected_noisy_one_hot(K, rate):
    rate = min(rate, (K - 1) / K - 1e-6)
    T = noise.symmetric_noise_matrix(K, rate)
    assert torch.allclose(T.sum(1), torch.ones(K, dtype=torch.float64))
    y = torch.arange(K)
    for convention in ("uniform", "others"):
        a = noise.noise_matched_alpha(rate, K, convention)
        smoothed = lsutils.smooth_targets(y, K, a, convention, dtype=torch.float64)
        assert torch.allclose(smoothed, T, atol=1e-12)


def test_noise_matched_alpha_values():
    assert noise.noise_matched_alpha(0.4, 10) == pytest.approx(0.4 * 10 / 9)
    assert noise.noise_matched_alpha(0.4, 10, "others") == 0.4


def test_empirical_noise_matches_the_matrix():
    y = torch.arange(10).repeat(4000)
    noisy = lsutils.data.symmetric_label_noise(y, 0.3, 10, seed=1)
    counts = torch.zeros(10, 10, dtype=torch.float64)
    counts.index_put_((y, noisy), torch.ones(len(y), dtype=torch.float64), accumulate=True)
    empirical = counts / counts.sum(1, keepdim=True)
    assert torch.allclose(empirical, noise.symmetric_noise_matrix(10, 0.3), atol=0.02)


@given(st.integers(2, 12), st.floats(0.0, 0.8), st.integers(0, 1000))
def test_forward_correction_equals_pushing_q_through_the_noise(K, rate, seed):
    rate = min(rate, (K - 1) / K - 1e-3)
    g = torch.Generator().manual_seed(seed)
    z = 4 * torch.randn(16, K, generator=g, dtype=torch.float64)
    y = torch.randint(0, K, (16,), generator=g)
    q_noisy = z.softmax(1) @ noise.symmetric_noise_matrix(K, rate)
    oracle = -q_noisy.gather(1, y[:, None]).squeeze(1).log()
    got = noise.forward_corrected_cross_entropy(z, y, rate, reduction="none")
    assert torch.allclose(got, oracle, rtol=1e-9, atol=1e-12)


def test_forward_correction_at_zero_noise_is_cross_entropy_and_stays_finite():
    z = torch.tensor([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]])
    y = torch.tensor([2, 1])
    plain = torch.nn.functional.cross_entropy(z, y, reduction="none")
    assert torch.equal(noise.forward_corrected_cross_entropy(z, y, 0.0, reduction="none"), plain)
    corrected = noise.forward_corrected_cross_entropy(z, y, 0.3, reduction="none")
    assert torch.isfinite(corrected).all() and corrected[0] < plain[0]
    z16 = z.to(torch.bfloat16).requires_grad_()
    loss = noise.forward_corrected_cross_entropy(z16, y, 0.3)
    loss.backward()
    assert torch.isfinite(z16.grad.float()).all()


Z10, Z3 = torch.zeros(2, 10), torch.zeros(2, 3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: noise.forward_corrected_cross_entropy(Z10, torch.tensor([0, 1]), 0.9),
         r"noise rate must be a finite number in \[0, 0.9\)"),
        (lambda: noise.forward_corrected_cross_entropy(Z3, torch.tensor([0, 3]), 0.1),
         r"labels must lie in \[0, 2\]"),
        (lambda: noise.symmetric_noise_matrix(1, 0.1), "num_classes must be at least 2"),
        (lambda: noise.noise_matched_alpha(-0.1, 10), r"rate must be a finite number in \[0"),
        (lambda: noise.noise_matched_alpha(0.1, 10, "wrong"), "convention must be one of"),
    ],
)  # fmt: skip
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
