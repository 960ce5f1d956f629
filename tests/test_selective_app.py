"""lsutils.selective: the normalised-logit confidence of Xia et al. (2025) and the choice of p,
against a numpy oracle, hand-computed values and invariance properties."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lsutils.selective import (
    aurc,
    max_softmax_probability,
    normalised_logit_confidence,
    select_norm_p,
)


def oracle(z: np.ndarray, p: float, centre: bool) -> np.ndarray:
    z = z - z.mean(axis=1, keepdims=True) if centre else z
    return z.max(axis=1) / np.linalg.norm(z, ord=p, axis=1)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20), st.integers(2, 12), st.floats(1.0, 10.0), st.booleans(),
       st.integers(0, 10_000))  # fmt: skip
def test_matches_numpy(n, k, p, centre, seed):
    z = np.random.default_rng(seed).normal(scale=5, size=(n, k))
    got = normalised_logit_confidence(torch.tensor(z), p, centre=centre).numpy()
    np.testing.assert_allclose(got, oracle(z, p, centre), rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 10), st.floats(1.0, 8.0), st.integers(0, 10_000))
def test_invariant_to_shift_and_scale_of_each_row(k, p, seed):
    g = torch.Generator().manual_seed(seed)
    z = 3 * torch.randn(16, k, generator=g, dtype=torch.float64)
    shift = 10 * torch.randn(16, 1, generator=g, dtype=torch.float64)
    scale = torch.rand(16, 1, generator=g, dtype=torch.float64) * 5 + 0.1
    a = normalised_logit_confidence(z, p)
    assert torch.allclose(normalised_logit_confidence(scale * z + shift, p), a, atol=1e-12)


def test_hand_computed_and_constant_rows():
    z = torch.tensor([[2.0, 0.0, -2.0], [1.0, 1.0, 1.0], [3.0, 0.0, 0.0]])
    got = normalised_logit_confidence(z, 2)
    # row 0: centred (2, 0, -2), 2 / sqrt(8); row 1: no preferred class -> 0;
    # row 2: centred (2, -1, -1), 2 / sqrt(6)
    expected = torch.tensor([2 / math.sqrt(8), 0.0, 2 / math.sqrt(6)], dtype=torch.float64)
    assert torch.allclose(got, expected)
    assert float(normalised_logit_confidence(z, 1)[0]) == pytest.approx(0.5)
    assert torch.isfinite(normalised_logit_confidence(torch.tensor([[1e30, -1e30]]), 3)).all()


def test_ranks_differently_from_the_max_softmax():
    # row 1 is surer by softmax, but its top logit stands out less against the spread of the rest
    z = torch.tensor([[4.0, 0.0, 0.0, 0.0], [10.0, 0.0, 0.0, -30.0]])
    msp = max_softmax_probability(z)
    norm = normalised_logit_confidence(z, 2)
    assert (msp[0] - msp[1]) * (norm[0] - norm[1]) < 0


def test_select_norm_p_picks_the_lowest_aurc():
    g = torch.Generator().manual_seed(3)
    z = 3 * torch.randn(400, 6, generator=g)
    correct = torch.rand(400, generator=g) < (z.softmax(1).amax(1) + 0.1)
    ps = (1.0, 2.0, 4.0, 8.0)
    scores = [aurc(normalised_logit_confidence(z, p), correct) for p in ps]
    assert select_norm_p(z, correct, ps) == ps[int(np.argmin(scores))]
    # ties go to the smaller p: with centre=False on two classes all p give the same ranking
    z2 = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.5, 0.0]])
    assert select_norm_p(z2, torch.tensor([True, True, False]), (3.0, 2.0), centre=False) == 2.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: normalised_logit_confidence(torch.zeros(3), 2), "2-D"),
        (lambda: normalised_logit_confidence(torch.zeros(2, 3), 0.5), r"p must be a finite number"),
        (lambda: normalised_logit_confidence(torch.tensor([[0.0, float("nan")]]), 2), "nan"),
        (lambda: normalised_logit_confidence(torch.zeros(2, 3), 2, centre=1), "centre"),
        (lambda: select_norm_p(torch.zeros(2, 3), torch.tensor([True, False]), ()), "at least one"),
        (lambda: select_norm_p(torch.zeros(2, 3), torch.tensor([True]), (2.0,)), "same length"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
