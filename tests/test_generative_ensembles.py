"""Tests for the batched trainers of lsutils.gan and lsutils.charlm: each member equals the model
the one-at-a-time trainer gives."""

import math

import pytest
import torch
import torch.nn.functional as F

from lsutils.calibration import expected_calibration_error
from lsutils.charlm import (
    Vocabulary,
    context_windows,
    evaluate_char_models,
    stdlib_corpus,
    train_char_mlp,
    train_char_mlps,
)
from lsutils.gan import train_gan, train_gans

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_gan_member_equals_train_gan():
    gans = train_gans([(1.0, 0.0), (0.9, 0.1)], [3, 4], steps=15, hidden=16, batch_size=32)
    assert gans.targets == [(1.0, 0.0), (1.0, 0.0), (0.9, 0.1), (0.9, 0.1)]
    assert gans.seeds == [3, 4, 3, 4]
    samples = gans.sample(50, seed=2)
    assert samples.shape == (4, 50, 2)
    for m, ((a, b), seed) in enumerate(zip(gans.targets, gans.seeds, strict=True)):
        alone = train_gan(a, b, steps=15, hidden=16, batch_size=32, seed=seed)
        torch.testing.assert_close(samples[m], alone.sample(50, seed=2), atol=1e-4, rtol=1e-4)


def test_gan_settings_of_one_seed_start_alike_and_then_differ():
    gans = train_gans([(1.0, 0.0), (0.9, 0.1)], [0], steps=5, hidden=8, batch_size=16)
    s = gans.sample(20)
    assert not torch.allclose(s[0], s[1])  # different targets, different training
    untrained = train_gans([(1.0, 0.0), (0.9, 0.1)], [0], steps=1, hidden=8, lr=1e-12)
    u = untrained.sample(20)
    torch.testing.assert_close(u[0], u[1])  # same initial weights and draws


def _corpus():
    text = stdlib_corpus(max_chars=6000)
    vocab = Vocabulary.from_text(text)
    x, y = context_windows(vocab.encode(text), 4)
    return vocab, x, y


def test_each_char_member_equals_train_char_mlp():
    vocab, x, y = _corpus()
    kw = {"steps": 20, "batch_size": 32, "embed": 8, "hidden": 16}
    stack = train_char_mlps(x, y, len(vocab), [0.0, 0.2], [1, 2], **kw)
    out = stack(x[:100])
    for m, (alpha, seed) in enumerate([(0.0, 1), (0.0, 2), (0.2, 1), (0.2, 2)]):
        alone = train_char_mlp(x, y, len(vocab), alpha=alpha, seed=seed, **kw)
        torch.testing.assert_close(out[m], alone(x[:100]), atol=1e-5, rtol=1e-4)


def test_char_metrics_match_definitions():
    vocab, x, y = _corpus()
    stack = train_char_mlps(x, y, len(vocab), [0.0], [0, 1], steps=30, embed=8, hidden=16)
    rows = evaluate_char_models(stack, x, y)
    logits = stack(x).detach()
    for m, r in enumerate(rows):
        assert r["nll"] == pytest.approx(float(F.cross_entropy(logits[m], y)), rel=1e-5)
        assert r["perplexity"] == pytest.approx(math.exp(r["nll"]))
        assert r["accuracy"] == pytest.approx(float((logits[m].argmax(1) == y).float().mean()))
        assert r["ece"] == pytest.approx(
            expected_calibration_error(logits[m].softmax(1), y), abs=1e-9
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda: train_gans([(1.0, 1.0)], [0], steps=1),
        lambda: train_gans([(1.0, 0.0)], [0, 0], steps=1),
        lambda: train_gans([], [0], steps=1),
        lambda: train_gans([(1.0, 0.0)], [0], steps=0),
        lambda: train_char_mlps(
            torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long), 3, [1.0], [0]
        ),
        lambda: train_char_mlps(
            torch.zeros(4, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long), 3, [0.1], [0]
        ),
        lambda: train_char_mlps(
            torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long), 3, [0.1], []
        ),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
