"""Tests for lsutils.privacy: loss-threshold membership inference against brute force and
torchmetrics."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import binary_auroc

from lsutils.privacy import membership_advantage, membership_auc, per_example_loss

losses = st.lists(st.integers(0, 6).map(lambda v: v / 2), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(losses, losses)
def test_advantage_matches_brute_force(members, nonmembers):
    m, n = np.array(members), np.array(nonmembers)
    best = 0.0
    for thr in np.concatenate([m, n, [-1.0]]):
        best = max(best, (m <= thr).mean() - (n <= thr).mean())
    assert membership_advantage(torch.tensor(members), torch.tensor(nonmembers)) == pytest.approx(
        best
    )


@settings(max_examples=60, deadline=None)
@given(losses, losses)
def test_auc_matches_torchmetrics(members, nonmembers):
    scores = -torch.tensor(members + nonmembers, dtype=torch.float64)
    target = torch.tensor([1] * len(members) + [0] * len(nonmembers))
    expected = float(binary_auroc(scores, target))
    assert membership_auc(torch.tensor(members), torch.tensor(nonmembers)) == pytest.approx(
        expected, abs=1e-6
    )


def test_separated_losses_give_a_perfect_attack():
    assert membership_auc(torch.zeros(5), torch.ones(5)) == 1.0
    assert membership_advantage(torch.zeros(5), torch.ones(5)) == 1.0
    assert membership_auc(torch.ones(5), torch.ones(5)) == 0.5
    assert membership_advantage(torch.ones(5), torch.ones(5)) == 0.0


def test_per_example_loss_is_cross_entropy():
    logits, labels = torch.randn(9, 4), torch.randint(0, 4, (9,))
    assert torch.allclose(
        per_example_loss(logits, labels), F.cross_entropy(logits, labels, reduction="none")
    )


def test_bad_input():
    with pytest.raises(ValueError):
        membership_auc(torch.tensor([]), torch.ones(3))
    with pytest.raises(ValueError):
        membership_advantage(torch.tensor([float("nan")]), torch.ones(3))
    with pytest.raises(ValueError):
        per_example_loss(torch.randn(3), torch.zeros(3))
