"""Tests for lsutils.selective: risk-coverage curve, AURC, E-AURC and AUROC against brute force and
torchmetrics."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import binary_auroc

from lsutils.selective import (
    aurc,
    auroc,
    excess_aurc,
    failure_auroc,
    max_softmax_probability,
    optimal_aurc,
    risk_coverage_curve,
)

pairs = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 5), min_size=n, max_size=n),  # few values: many ties
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


def brute_risk(conf, correct):
    """Risk at coverage k/N, keeping every example whose confidence is >= the k-th largest (ties
    together)."""
    conf, correct = np.asarray(conf, float), np.asarray(correct, bool)
    n = len(conf)
    out = []
    for k in range(1, n + 1):
        thr = np.sort(conf)[::-1][k - 1]
        kept = conf >= thr
        out.append(1 - correct[kept].mean())
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_risk_matches_brute_force(pair):
    conf, correct = pair
    cov, risk = risk_coverage_curve(torch.tensor(conf, dtype=torch.float64), torch.tensor(correct))
    n = len(conf)
    np.testing.assert_allclose(cov.numpy(), np.arange(1, n + 1) / n)
    np.testing.assert_allclose(risk.numpy(), brute_risk(conf, correct), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_auroc_matches_torchmetrics(pair):
    conf, correct = pair
    if all(correct) or not any(correct):
        return
    s = torch.tensor(conf, dtype=torch.float64) / 5
    c = torch.tensor(correct)
    assert auroc(s, c) == pytest.approx(float(binary_auroc(s, c.long())), abs=1e-6)
    assert failure_auroc(s, c) == auroc(s, c)


def test_perfect_and_reversed_ranking():
    correct = torch.tensor([True] * 8 + [False] * 2)
    good = torch.linspace(1, 0, 10)
    assert aurc(good, correct) == pytest.approx(optimal_aurc(correct))
    assert excess_aurc(good, correct) == pytest.approx(0.0, abs=1e-12)
    assert failure_auroc(good, correct) == 1.0
    assert failure_auroc(-good, correct) == 0.0
    assert excess_aurc(-good, correct) > 0.3
    # oracle AURC has a closed form: sum_{k > n_correct} (k - n_correct) / k, over N
    expected = sum((k - 8) / k for k in range(9, 11)) / 10
    assert optimal_aurc(correct) == pytest.approx(expected)


def test_constant_confidence_gives_overall_error():
    correct = torch.tensor([1, 0, 1, 1])
    _, risk = risk_coverage_curve(torch.ones(4), correct)
    assert torch.allclose(risk, torch.full((4,), 0.25, dtype=torch.float64))
    assert aurc(torch.ones(4), correct) == pytest.approx(0.25)


def test_msp():
    logits = torch.randn(7, 5)
    assert torch.allclose(max_softmax_probability(logits), logits.softmax(1).max(1).values)


@pytest.mark.parametrize(
    "conf, correct",
    [
        (torch.ones(3), torch.ones(4)),
        (torch.ones(2, 2), torch.ones(2, 2)),
        (torch.ones(2), torch.tensor([0, 2])),
        (torch.tensor([]), torch.tensor([])),
    ],
)
def test_bad_input(conf, correct):
    with pytest.raises(ValueError):
        aurc(conf, correct)


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError, match="positive and one negative"):
        auroc(torch.rand(5), torch.ones(5, dtype=torch.bool))


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_oracle_aurc_is_a_lower_bound(pair):
    conf, correct = pair
    c = torch.tensor(correct)
    assert optimal_aurc(c) <= aurc(torch.tensor(conf, dtype=torch.float64), c) + 1e-12
    # breaking the oracle's ties strictly reaches the bound
    strict = c.double() + torch.linspace(0, 1e-3, len(correct), dtype=torch.float64)
    assert aurc(strict, c) == pytest.approx(optimal_aurc(c))
