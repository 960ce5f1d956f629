"""Tests for lsutils.stacked: several small MLPs as one batched model."""

import pytest
import torch

from lsutils.models import small_mlp
from lsutils.stacked import StackedSmallMLP


def _seeded_mlp(seed, *args):
    torch.manual_seed(seed)
    return small_mlp(*args)


def test_members_start_as_seeded_small_mlps_and_forward_matches():
    stack = StackedSmallMLP(3, 2, [5, 7, 5], hidden=8)
    x = torch.randn(4, 3)
    out = stack(x)
    assert out.shape == (3, 4, 2)
    for m, seed in enumerate([5, 7, 5]):
        torch.testing.assert_close(out[m], _seeded_mlp(seed, 3, 2, 8)(x))
        torch.testing.assert_close(stack.member(m)(x), out[m].detach())
    torch.testing.assert_close(out[0], out[2])  # same seed, same start


def test_global_random_state_is_left_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    StackedSmallMLP(2, 1, [1, 2])
    torch.testing.assert_close(torch.rand(3), expected)


def test_adam_on_the_summed_loss_trains_each_member_as_alone():
    nets = [_seeded_mlp(s, 2, 3, 6) for s in (0, 1)]
    stack = StackedSmallMLP.from_networks(nets)
    x = torch.randn(2, 10, 2, generator=torch.Generator().manual_seed(3))
    y = torch.randint(3, (2, 10), generator=torch.Generator().manual_seed(4))
    opt = torch.optim.Adam(stack.parameters(), lr=0.01)
    for _ in range(5):
        out = stack(x)
        loss = sum(torch.nn.functional.cross_entropy(out[m], y[m]) for m in range(2))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for m, net in enumerate(nets):
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        for _ in range(5):
            loss = torch.nn.functional.cross_entropy(net(x[m]), y[m])
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.testing.assert_close(stack.member(m)(x[m]), net(x[m]).detach(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: StackedSmallMLP(2, 1, []),
        lambda: StackedSmallMLP(2, 1, [-1]),
        lambda: StackedSmallMLP(2, 1, [0])(torch.zeros(2, 4, 2)),
        lambda: StackedSmallMLP(2, 1, [0])(torch.zeros(4, 3)),
        lambda: StackedSmallMLP(2, 1, [0]).member(1),
        lambda: StackedSmallMLP.from_networks([small_mlp(2, 1, 4), small_mlp(2, 1, 5)]),
        lambda: StackedSmallMLP.from_networks([]),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
