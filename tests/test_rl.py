"""Tests for lsutils.rl: the chain, and value learning by temporal differences."""

import pytest
import torch

from lsutils.rl import TD_METHODS, chain_random_walk, td_value_learning
from lsutils.value_targets import uniform_bins

REWARD = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
GAMMA = 0.5
EDGES = uniform_bins(0.0, 2.0, 11)  # returns lie in [0, 1 / (1 - 0.5)]


pytestmark = pytest.mark.usefixtures("one_thread")


def test_chain_values_solve_the_bellman_equation():
    P, V = chain_random_walk(5, GAMMA, REWARD)
    torch.testing.assert_close(P.sum(1), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(V, REWARD + GAMMA * P @ V)


def test_td_learns_the_exact_values_with_every_loss():
    _, V = chain_random_walk(5, GAMMA, REWARD)
    res = td_value_learning(
        REWARD, GAMMA, TD_METHODS, [0, 1], EDGES, hidden=32, steps=600, log_every=300
    )
    assert res.values.shape == (3, len(TD_METHODS), 2, 5) and res.steps == [0, 300, 600]
    rmse = (res.values - V).pow(2).mean(-1).sqrt()
    for i, m in enumerate(TD_METHODS):
        # one-hot targets are limited by the bin width (0.2 here): they improve less
        assert rmse[-1, i].mean() < (0.8 if m == "one_hot" else 0.5) * rmse[0, i].mean(), m
    assert rmse[-1, TD_METHODS.index("hl_gauss")].mean() < 0.2
    torch.testing.assert_close(res.final("two_hot"), res.values[-1, TD_METHODS.index("two_hot")])


def test_losses_of_one_seed_share_the_start_and_members_train_as_alone():
    res = td_value_learning(
        REWARD, GAMMA, ["two_hot", "hl_gauss"], [0, 3], EDGES, steps=20, log_every=10
    )
    torch.testing.assert_close(res.values[0, 0], res.values[0, 1])  # same initial network
    alone = td_value_learning(REWARD, GAMMA, ["hl_gauss"], [3], EDGES, steps=20, log_every=10)
    torch.testing.assert_close(alone.values[:, 0, 0], res.values[:, 1, 1], atol=1e-5, rtol=1e-5)


def test_without_discount_the_values_are_the_mean_rewards():
    res = td_value_learning(
        REWARD, 0.0, ["mse", "two_hot"], [0], uniform_bins(0.0, 1.0, 6), steps=800, hidden=32
    )
    torch.testing.assert_close(res.values[-1, :, 0], REWARD.expand(2, 5), atol=0.15, rtol=0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: td_value_learning(REWARD, GAMMA, ["huber"], [0], EDGES),
        lambda: td_value_learning(REWARD, GAMMA, [], [0], EDGES),
        lambda: td_value_learning(REWARD, GAMMA, ["mse"], [0, 0], EDGES),
        lambda: td_value_learning(REWARD, 1.0, ["mse"], [0], EDGES),
        lambda: td_value_learning(REWARD + 1, GAMMA, ["mse"], [0], EDGES),
        lambda: td_value_learning(REWARD, GAMMA, ["mse"], [0], EDGES, steps=0),
        lambda: td_value_learning(REWARD, GAMMA, ["mse"], [0], EDGES, target_every=0),
        lambda: td_value_learning(REWARD, GAMMA, ["mse"], [0], torch.tensor([0.0, 1.0])),
        lambda: td_value_learning(REWARD, GAMMA, ["hl_gauss"], [0], EDGES, sigma_bins=0.0),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
