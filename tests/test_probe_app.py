"""lsutils.probe.class_separation: Kornblith et al.'s cosine-distance R^2, against the paper's
double sums (scipy's pairwise cosine distances) and hand-computed cases."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from lsutils.probe import class_separation


def paper_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 = 1 - d_within / d_total, written as the double sums of Kornblith et al. (2021)."""
    classes = np.unique(y)
    K = len(classes)
    d_within = sum(cdist(x[y == c], x[y == c], "cosine").sum() / (K * (y == c).sum() ** 2)
                   for c in classes)  # fmt: skip
    d_total = sum(
        cdist(x[y == j], x[y == k], "cosine").sum() / (K**2 * (y == j).sum() * (y == k).sum())
        for j in classes
        for k in classes
    )
    return 1 - d_within / d_total


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(2, 6), st.integers(0, 10_000), st.floats(0.1, 3.0))
def test_matches_the_papers_double_sums(k, d, seed, spread):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 12, size=k)  # unequal class sizes: classes are weighted equally
    y = np.repeat(np.arange(k), sizes)
    x = rng.normal(size=(k, d))[y] * 2 + spread * rng.normal(size=(len(y), d))
    got = class_separation(torch.tensor(x), torch.tensor(y))
    assert got == pytest.approx(paper_r2(x, y), abs=1e-10)


def test_hand_computed_two_classes():
    # class 0: (1, 0), (0, 1); class 1: their negatives. Mean unit vectors (1/2, 1/2) and
    # (-1/2, -1/2): d_within = 1 - 1/2, d_total = 1 - 0, R^2 = 1/2.
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert class_separation(x, torch.tensor([0, 0, 1, 1])) == pytest.approx(0.5)


def test_only_directions_matter():
    g = torch.Generator().manual_seed(0)
    x = (
        torch.randn(60, 4, generator=g, dtype=torch.float64)
        + 3 * torch.eye(4)[torch.arange(60) % 3]
    )
    y = torch.arange(60) % 3
    scale = torch.rand(60, 1, generator=g, dtype=torch.float64) * 10 + 0.1
    assert class_separation(x * scale, y) == pytest.approx(class_separation(x, y), abs=1e-12)
    # a Euclidean variance ratio would change: check the scaling really moved the points
    assert not torch.allclose(x * scale, x)


def test_limits():
    y = torch.arange(30) % 3
    collapsed = torch.eye(3)[y] * torch.linspace(1, 5, 30)[:, None]  # one direction per class
    assert class_separation(collapsed, y) == pytest.approx(1.0)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(6000, 5, generator=g)
    assert abs(class_separation(noise, torch.arange(6000) % 4)) < 0.01


@pytest.mark.parametrize(
    "x, y, match",
    [
        (torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([0, 1]), "all zero"),
        (torch.ones(3, 2), torch.tensor([0, 0, 0]), "at least two classes"),
        (torch.ones(3, 2), torch.tensor([0, 1]), "one label per feature row"),
        (torch.ones(3, 2, dtype=torch.long), torch.tensor([0, 1, 0]), "floating-point"),
        (torch.tensor([[1.0, float("nan")], [1.0, 0.0]]), torch.tensor([0, 1]), "nan"),
        (torch.tensor([[1.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]), "all point the same way"),
    ],
)
def test_bad_inputs(x, y, match):
    with pytest.raises(ValueError, match=match):
        class_separation(x, y)
