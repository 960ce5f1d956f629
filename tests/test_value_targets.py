"""Tests for lsutils.value_targets: one-hot, two-hot and HL-Gauss targets over ordered bins."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lsutils.value_targets import (
    bin_centers,
    expected_value,
    hl_gauss,
    one_hot_bins,
    two_hot,
    uniform_bins,
)

EDGES = uniform_bins(-2.0, 3.0, 20)
CENTERS = bin_centers(EDGES)
WIDTH = 5.0 / 20

values = st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=30)
inside = st.lists(st.floats(float(CENTERS[0]), float(CENTERS[-1])), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(values, st.floats(0.05, 3.0))
def test_targets_are_distributions(ys, sigma):
    y = torch.tensor(ys, dtype=torch.float64)
    for t in (one_hot_bins(y, EDGES), two_hot(y, CENTERS), hl_gauss(y, EDGES, sigma)):
        assert t.shape == (len(ys), 20)
        assert (t >= 0).all()
        torch.testing.assert_close(t.sum(dim=1), torch.ones(len(ys), dtype=torch.float64))


@settings(max_examples=80, deadline=None)
@given(inside)
def test_two_hot_mean_is_exact_inside_support(ys):
    y = torch.tensor(ys, dtype=torch.float64)
    t = two_hot(y, CENTERS)
    torch.testing.assert_close(t @ CENTERS, y, atol=1e-12, rtol=0)
    assert ((t > 0).sum(dim=1) <= 2).all()


@settings(max_examples=80, deadline=None)
@given(values)
def test_values_outside_support_are_clipped(ys):
    y = torch.tensor(ys, dtype=torch.float64)
    torch.testing.assert_close(
        two_hot(y, CENTERS), two_hot(y.clamp(CENTERS[0], CENTERS[-1]), CENTERS)
    )
    torch.testing.assert_close(
        hl_gauss(y, EDGES, 0.3), hl_gauss(y.clamp(EDGES[0], EDGES[-1]), EDGES, 0.3)
    )
    torch.testing.assert_close(
        one_hot_bins(y, EDGES), one_hot_bins(y.clamp(EDGES[0], EDGES[-1]), EDGES)
    )


def test_clipped_ends():
    t = two_hot(torch.tensor([-100.0, 100.0], dtype=torch.float64), CENTERS)
    assert t[0, 0] == 1 and t[1, -1] == 1
    h = one_hot_bins(torch.tensor([-100.0, 3.0, 100.0], dtype=torch.float64), EDGES)
    assert h[0, 0] == 1 and h[1, -1] == 1 and h[2, -1] == 1


@settings(max_examples=80, deadline=None)
@given(st.floats(-2.0 + 6 * WIDTH, 3.0 - 6 * WIDTH), st.floats(0.25, 1.0))
def test_hl_gauss_mean_close_to_y_away_from_edges(y, rel_sigma):
    """Far from the edges the truncation is negligible; what remains is the bin quantisation, whose
    worst case is the first Fourier term of the periodic error, (W / pi) exp(-2 pi^2 (sigma /
    W)^2)."""
    t = hl_gauss(torch.tensor([y], dtype=torch.float64), EDGES, rel_sigma * WIDTH)
    bound = WIDTH * (1.01 * math.exp(-2 * (math.pi * rel_sigma) ** 2) / math.pi + 1e-7)
    assert abs(float(t @ CENTERS) - y) < bound


def test_hl_gauss_matches_numerical_integration():
    y, sigma = 0.37, 0.4
    t = hl_gauss(torch.tensor([y], dtype=torch.float64), EDGES, sigma)[0]
    grid = torch.linspace(-2.0, 3.0, 200_001, dtype=torch.float64)
    dens = torch.exp(-0.5 * ((grid - y) / sigma) ** 2)
    idx = ((grid - (-2.0)) / WIDTH).floor().clamp(max=19).long()
    mass = torch.zeros(20, dtype=torch.float64).index_add_(0, idx, dens)
    torch.testing.assert_close(t, mass / mass.sum(), atol=1e-4, rtol=0)


def test_hl_gauss_small_sigma_is_one_hot_and_wide_sigma_is_flat():
    y = torch.tensor([0.1, 1.3], dtype=torch.float64)
    torch.testing.assert_close(hl_gauss(y, EDGES, 1e-4), one_hot_bins(y, EDGES))
    flat = hl_gauss(y, EDGES, 1e4)
    torch.testing.assert_close(flat, torch.full_like(flat, 1 / 20), atol=1e-6, rtol=0)


def test_one_hot_bins_picks_containing_bin():
    y = torch.tensor([-1.99, -1.76, 0.0, 2.99], dtype=torch.float64)
    idx = one_hot_bins(y, EDGES).argmax(dim=1)
    for value, i in zip(y.tolist(), idx.tolist(), strict=True):
        assert EDGES[i] <= value <= EDGES[i + 1]


def test_expected_value_matches_softmax_mean():
    logits = torch.randn(7, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = (torch.softmax(logits, 1) * CENTERS).sum(1)
    torch.testing.assert_close(expected_value(logits, CENTERS), expected)
    # logits = log of a two-hot target decode to the target value
    y = torch.tensor([0.123, -1.5], dtype=torch.float64)
    torch.testing.assert_close(
        expected_value(two_hot(y, CENTERS).clamp_min(1e-300).log(), CENTERS), y
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: hl_gauss(torch.zeros(2), EDGES, 0.0),
        lambda: hl_gauss(torch.zeros(2), EDGES, -1.0),
        lambda: hl_gauss(torch.zeros(2), EDGES, float("nan")),
        lambda: hl_gauss(torch.zeros(2), EDGES, "wide"),
        lambda: two_hot(torch.zeros(2), torch.tensor([0.0, 2.0, 1.0])),
        lambda: two_hot(torch.zeros(2), torch.tensor([0.0, 1.0, 1.0])),
        lambda: two_hot(torch.zeros(2), torch.tensor([1.0])),
        lambda: hl_gauss(torch.zeros(2), torch.tensor([0.0, float("inf"), 2.0]), 1.0),
        lambda: one_hot_bins(torch.zeros(2, 2), EDGES),
        lambda: two_hot(torch.tensor([float("nan")]), CENTERS),
        lambda: two_hot(torch.tensor([True]), CENTERS),
        lambda: uniform_bins(1.0, 0.0, 10),
        lambda: uniform_bins(0.0, 1.0, 1),
        lambda: expected_value(torch.zeros(3, 5), CENTERS),
        lambda: expected_value(torch.zeros(3, 20, dtype=torch.long), CENTERS),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
