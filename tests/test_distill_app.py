"""lsutils.distill: the pixel-space neighbour reference for class similarity and the rank
correlation of two similarity matrices, against scipy (cdist, spearmanr) and hand-made cases."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from scipy.stats import spearmanr

from lsutils.distill import (
    class_similarity_from_probs,
    neighbour_class_probs,
    similarity_rank_correlation,
)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 15), st.integers(5, 40), st.integers(1, 5), st.integers(0, 10_000))
def test_neighbours_match_brute_force(n_query, n_ref, k, seed):
    rng = np.random.default_rng(seed)
    xq, xr = rng.normal(size=(n_query, 2, 3)), rng.normal(size=(n_ref, 2, 3))
    yr = rng.integers(0, 4, size=n_ref)
    k = min(k, n_ref)
    nearest = np.argsort(cdist(xq.reshape(n_query, -1), xr.reshape(n_ref, -1)), axis=1)[:, :k]
    expected = np.stack([np.bincount(yr[row], minlength=4) / k for row in nearest])
    got = neighbour_class_probs(
        torch.tensor(xq), torch.tensor(xr), torch.tensor(yr), 4, k=k, batch_size=4
    )
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)


def test_each_reference_point_is_its_own_nearest_neighbour():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 7, generator=g), torch.randint(0, 3, (50,), generator=g)
    probs = neighbour_class_probs(x, x, y, 3, k=1)
    assert torch.equal(probs, torch.nn.functional.one_hot(y, 3).double())
    sim = class_similarity_from_probs(neighbour_class_probs(x, x, y, 3, k=5), y)
    assert torch.allclose(sim, sim.T) and float(sim.diagonal().abs().sum()) == 0.0


def symmetric(values, k):
    m = torch.zeros(k, k, dtype=torch.float64)
    i, j = torch.triu_indices(k, k, offset=1)
    m[i, j] = torch.as_tensor(values, dtype=torch.float64)
    return m + m.T


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 8), st.integers(0, 10_000))
def test_rank_correlation_is_spearman_over_class_pairs(k, seed):
    rng = np.random.default_rng(seed)
    n = k * (k - 1) // 2
    a, b = rng.normal(size=n), rng.normal(size=n)
    got = similarity_rank_correlation(symmetric(a, k), symmetric(b, k))
    assert got == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    # ranks only: a monotone transform of either matrix changes nothing
    assert similarity_rank_correlation(symmetric(np.exp(3 * a), k), symmetric(b, k)) == (
        pytest.approx(got, abs=1e-12)
    )


def test_rank_correlation_hand_cases():
    a = symmetric([0.1, 0.5, 0.3], 3)
    assert similarity_rank_correlation(a, 2 * a) == pytest.approx(1.0)
    assert similarity_rank_correlation(a, symmetric([0.3, 0.1, 0.2], 3)) == pytest.approx(-1.0)
    b = a.clone()
    b.fill_diagonal_(9.0)  # the diagonal is ignored
    assert similarity_rank_correlation(a, b) == pytest.approx(1.0)


Z = torch.zeros
LONG = torch.long


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: neighbour_class_probs(Z(2, 3), Z(4, 2), Z(4, dtype=LONG), 2), "differ in size"),
        (lambda: neighbour_class_probs(Z(2, 3), Z(4, 3), Z(3, dtype=LONG), 2), "reference labels"),
        (lambda: neighbour_class_probs(Z(2, 3), Z(4, 3), Z(4, dtype=LONG), 2, k=5), "at most"),
        (lambda: neighbour_class_probs(Z(2, 3), Z(4, 3), Z(4, dtype=LONG), 2, k=0), "k must be"),
        (lambda: neighbour_class_probs(Z(2, 3, dtype=LONG), Z(4, 3), Z(4, dtype=LONG), 2),
         "floating-point"),
        (lambda: similarity_rank_correlation(torch.eye(3), torch.eye(4)), "differ in shape"),
        (lambda: similarity_rank_correlation(torch.eye(2), torch.eye(2)), "at least 3"),
        (lambda: similarity_rank_correlation(Z(3, 3), symmetric([1, 2, 3], 3)), "no ranking"),
        (lambda: similarity_rank_correlation(Z(3, 2), Z(3, 2)), "square"),
    ],
)  # fmt: skip
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
