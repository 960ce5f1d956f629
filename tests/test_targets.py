"""Tests for lsutils.targets: smoothed target rows in both conventions and the map between them."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from lsutils import convert_alpha, smooth_targets, target_probs
from lsutils.targets import to_uniform_alpha

Ks = st.integers(2, 1000)
alphas = st.floats(0.0, 1.0)
conventions = st.sampled_from(["uniform", "others"])


@st.composite
def labels_for(draw, K):
    n = draw(st.integers(1, 8))
    return torch.tensor(draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n)))


def test_worked_example_uniform():
    t = smooth_targets(torch.tensor([2]), 5, 0.1)
    torch.testing.assert_close(t, torch.tensor([[0.02, 0.02, 0.92, 0.02, 0.02]]))


def test_worked_example_others():
    t = smooth_targets(torch.tensor([0, 9]), 10, 0.1, "others", dtype=torch.float64)
    assert t[0, 0].item() == pytest.approx(0.9)
    assert t[1, 9].item() == pytest.approx(0.9)
    wrong = t[0, 1:]
    torch.testing.assert_close(wrong, torch.full((9,), 0.1 / 9, dtype=torch.float64))


def test_uniform_matches_torch_label_smoothing_definition():
    # torch documents label_smoothing as mixing the one-hot target with the uniform distribution.
    labels = torch.tensor([0, 3, 1])
    expected = (1 - 0.3) * F.one_hot(labels, 4).double() + 0.3 / 4
    torch.testing.assert_close(smooth_targets(labels, 4, 0.3, dtype=torch.float64), expected)


@given(Ks, alphas, conventions, st.data())
def test_rows_sum_to_one_and_match_target_probs(K, a, convention, data):
    labels = data.draw(labels_for(K))
    t = smooth_targets(labels, K, a, convention, dtype=torch.float64)
    assert t.shape == (labels.shape[0], K)
    torch.testing.assert_close(t.sum(dim=1), torch.ones(labels.shape[0], dtype=torch.float64))
    assert (t >= 0).all()
    p_true, p_other = target_probs(K, a, convention)
    rows = torch.arange(labels.shape[0])
    torch.testing.assert_close(t[rows, labels], torch.full_like(t[rows, labels], p_true))
    mask = torch.ones_like(t, dtype=torch.bool)
    mask[rows, labels] = False
    torch.testing.assert_close(t[mask], torch.full_like(t[mask], p_other))


@given(Ks, alphas, st.data())
def test_conventions_agree_under_convert_alpha(K, a, data):
    labels = data.draw(labels_for(K))
    eps = convert_alpha(a, K, "uniform", "others")
    u = smooth_targets(labels, K, a, "uniform", dtype=torch.float64)
    o = smooth_targets(labels, K, eps, "others", dtype=torch.float64)
    torch.testing.assert_close(u, o, rtol=0, atol=1e-12)


@given(Ks, alphas)
def test_convert_alpha_mapping_and_round_trip(K, a):
    eps = convert_alpha(a, K, "uniform", "others")
    assert eps == pytest.approx(a * (K - 1) / K, abs=1e-15)
    assert convert_alpha(eps, K, "others", "uniform") == pytest.approx(a, abs=1e-12)
    assert to_uniform_alpha(K, eps, "others") == pytest.approx(a, abs=1e-12)
    assert convert_alpha(a, K, "uniform", "uniform") == a
    assert convert_alpha(a, K, "others", "others") == a


@given(Ks, st.floats(0.0, 1.0))
def test_convert_alpha_round_trip_from_others(K, frac):
    eps = frac * (K - 1) / K  # the whole range with a "uniform" counterpart
    a = convert_alpha(eps, K, "others", "uniform")
    assert 0.0 <= a <= 1.0
    assert convert_alpha(a, K, "uniform", "others") == pytest.approx(eps, abs=1e-12)


def test_convert_alpha_others_endpoint_is_uniform_one():
    assert convert_alpha(0.9, 10, "others", "uniform") == 1.0


@pytest.mark.parametrize("K, eps", [(2, 0.6), (10, 0.95), (10, 1.0), (1000, 0.9995)])
def test_convert_alpha_rejects_others_beyond_uniform(K, eps):
    with pytest.raises(ValueError, match=r"exceeds \(K-1\)/K"):
        convert_alpha(eps, K, "others", "uniform")


def test_others_beyond_uniform_range_still_gives_targets():
    # eps > (K-1)/K is a valid target (true class below a wrong one); it maps to uniform alpha > 1.
    t = smooth_targets(torch.tensor([1]), 4, 0.9, "others", dtype=torch.float64)
    torch.testing.assert_close(t, torch.tensor([[0.3, 0.1, 0.3, 0.3]], dtype=torch.float64))
    assert to_uniform_alpha(4, 0.9, "others") == pytest.approx(1.2)


def test_alpha_zero_is_one_hot_and_uniform_one_is_flat():
    labels = torch.tensor([1, 0, 2])
    for convention in ("uniform", "others"):
        torch.testing.assert_close(
            smooth_targets(labels, 3, 0.0, convention), F.one_hot(labels, 3).float()
        )
    torch.testing.assert_close(smooth_targets(labels, 3, 1.0), torch.full((3, 3), 1 / 3))


@pytest.mark.parametrize("convention", ["uniform", "others"])
def test_allow_negative(convention):
    labels = torch.tensor([0, 2])
    t = smooth_targets(labels, 5, -0.1, convention, allow_negative=True, dtype=torch.float64)
    torch.testing.assert_close(t.sum(dim=1), torch.ones(2, dtype=torch.float64))
    p_true, p_other = (1.08, -0.02) if convention == "uniform" else (1.1, -0.025)
    assert t[0, 0].item() == pytest.approx(p_true)
    assert t[0, 1].item() == pytest.approx(p_other)
    assert (t[0, 1:] < 0).all()
    with pytest.raises(ValueError, match="allow_negative=True"):
        smooth_targets(labels, 5, -0.1, convention)


def test_dtype_device_and_list_labels():
    t = smooth_targets([0, 1], 3, 0.3, dtype=torch.float64)
    assert t.dtype == torch.float64 and t.device == torch.device("cpu")
    assert t[0, 0].item() == pytest.approx(0.8)
    assert smooth_targets(torch.tensor([1], dtype=torch.uint8), 2, 0.2)[
        0, 1
    ].item() == pytest.approx(0.9)
