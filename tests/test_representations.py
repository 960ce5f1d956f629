"""Per-example template geometry: distances to the class templates and the spread of the wrong
classes (lsutils.representations.template_distances, wrong_class_spread)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lsutils
from lsutils.representations import template_distances, wrong_class_spread


def test_distances_of_a_hand_computed_case():
    h = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, -4.0]])
    d = template_distances(h, w)
    assert d.dtype == torch.float64 and d.shape == (2, 3)
    expected = [[1.0, 2.0, 4.0], [math.sqrt(4 + 16), math.sqrt(9 + 4), math.sqrt(9 + 64)]]
    assert torch.allclose(d, torch.tensor(expected, dtype=torch.float64), atol=1e-12)


def test_spread_of_hand_computed_cases():
    # distances [1, 2, 4] with label 0: own 1, wrong mean 3, wrong std 1, relative 1 / 2
    out = wrong_class_spread(torch.tensor([[1.0, 2.0, 4.0]]), torch.tensor([0]))
    assert out["own"].item() == 1.0 and out["wrong_mean"].item() == 3.0
    assert out["wrong_std"].item() == pytest.approx(1.0)
    assert out["relative_spread"].item() == pytest.approx(0.5)
    # logits [3, 5, 1] with label 1: own 5, wrong mean 2, wrong std 1, relative 1 / 3
    out = wrong_class_spread(torch.tensor([[3.0, 5.0, 1.0]]), torch.tensor([1]))
    assert out["own"].item() == 5.0 and out["wrong_mean"].item() == 2.0
    assert out["relative_spread"].item() == pytest.approx(1 / 3)


def test_equidistant_example_has_zero_spread_and_degenerate_cases():
    h = torch.zeros(1, 2)
    w = torch.tensor([[1.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]])
    out = wrong_class_spread(template_distances(h, w), torch.tensor([0]))
    assert out["wrong_std"].item() == 0.0 and out["relative_spread"].item() == 0.0
    # own score equal to the wrong mean while the wrong scores differ: infinitely spread
    out = wrong_class_spread(torch.tensor([[2.0, 1.0, 3.0]]), torch.tensor([0]))
    assert out["relative_spread"].item() == math.inf
    # two classes: one wrong class, no spread
    out = wrong_class_spread(torch.tensor([[2.0, -1.0]]), torch.tensor([1]))
    assert out["wrong_std"].item() == 0.0 and out["relative_spread"].item() == 0.0


def test_smoothed_floor_logits_have_zero_wrong_class_spread():
    # at the smoothed loss floor every wrong logit is equal (lsutils.floor): spread 0, and the gap
    # between own and wrong logits is the optimal logit gap
    k, alpha = 10, 0.1
    gap = lsutils.optimal_logit_gap(k, alpha)
    labels = torch.tensor([0, 3, 9])
    z = torch.zeros(3, k, dtype=torch.float64)
    z[torch.arange(3), labels] = gap
    out = wrong_class_spread(z + torch.tensor([[0.0], [5.0], [-2.0]]), labels)
    assert torch.all(out["wrong_std"] == 0)
    assert torch.allclose(
        out["own"] - out["wrong_mean"], torch.full((3,), gap, dtype=torch.float64)
    )


@given(
    n=st.integers(1, 6),
    k=st.integers(2, 7),
    d=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    scale=st.floats(1e-3, 1e3),
)
def test_squared_distances_are_logits_up_to_norms_and_biases(n, k, d, seed, scale):
    g = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(d, k).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(k, d, generator=g, dtype=torch.float64))
        layer.bias.copy_(torch.randn(k, generator=g, dtype=torch.float64))
    h = scale * torch.randn(n, d, generator=g, dtype=torch.float64)
    dist = template_distances(h, layer.weight.detach())
    # oracles: the norm of each difference, and the identity with the layer's own logits
    explicit = torch.stack([(h - w).norm(dim=1) for w in layer.weight.detach()], dim=1)
    assert torch.allclose(dist, explicit, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        z = layer(h)
    w2 = layer.weight.detach().pow(2).sum(1)
    identity = h.pow(2).sum(1, keepdim=True) + w2 + 2 * layer.bias.detach() - 2 * z
    assert torch.allclose(dist**2, identity, rtol=1e-9, atol=1e-9 * (1 + scale**2))


@given(
    n=st.integers(1, 8),
    k=st.integers(3, 8),
    seed=st.integers(0, 10_000),
    shift=st.floats(-50, 50),
    factor=st.floats(0.01, 100),
)
def test_relative_spread_is_invariant_to_shift_scale_and_wrong_class_order(
    n, k, seed, shift, factor
):
    g = torch.Generator().manual_seed(seed)
    z = 3 * torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.randint(0, k, (n,), generator=g)
    base = wrong_class_spread(z, y)
    moved = wrong_class_spread(factor * z + shift, y)
    assert torch.allclose(moved["relative_spread"], base["relative_spread"], rtol=1e-9)
    assert torch.allclose(moved["wrong_std"], factor * base["wrong_std"], rtol=1e-9, atol=1e-12)
    # permuting the classes (and relabelling) changes nothing per example
    perm = torch.randperm(k, generator=g)
    inverse = torch.argsort(perm)
    permuted = wrong_class_spread(z[:, perm], inverse[y])
    for key in base:
        assert torch.allclose(permuted[key], base[key], rtol=1e-12, atol=1e-12)
    # against a direct per-example computation with torch.std
    for i in range(n):
        wrong = torch.cat([z[i, : y[i]], z[i, y[i] + 1 :]])
        assert base["wrong_std"][i].item() == pytest.approx(wrong.std(unbiased=False).item())
        assert base["wrong_mean"][i].item() == pytest.approx(wrong.mean().item())


@pytest.mark.parametrize(
    ("features", "templates", "match"),
    [
        (torch.zeros(3), torch.zeros(2, 3), r"features must be 2-D \[N, D\]"),
        (torch.zeros(3, 2), torch.zeros(2, 3), "same D"),
        (torch.zeros(3, 2, dtype=torch.int64), torch.zeros(2, 2), "floating-point tensor"),
        (torch.full((1, 2), math.nan), torch.zeros(2, 2), "finite"),
    ],
)
def test_distances_reject_bad_input(features, templates, match):
    with pytest.raises(ValueError, match=match):
        template_distances(features, templates)


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        (torch.zeros(4), torch.zeros(4, dtype=torch.int64), "2-D"),
        (torch.zeros(2, 3), torch.tensor([0, 3]), r"labels must lie in \[0, 2\]"),
        (torch.zeros(2, 3), torch.tensor([0.0, 1.0]), "integer"),
        (torch.zeros(2, 3), torch.tensor([0, 1, 2]), r"shape \[2\]"),
        (torch.tensor([[0.0, math.inf, 1.0]]), torch.tensor([0]), "finite"),
        (torch.zeros(2, 1), torch.tensor([0, 0]), "num_classes"),
    ],
)
def test_spread_rejects_bad_input(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        wrong_class_spread(scores, labels)
