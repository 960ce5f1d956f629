"""Tests for lsutils.gan and lsutils.charlm: the ring data, the metrics, the discriminator optimum,
the char model."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lsutils.charlm import (
    CharMLP,
    Vocabulary,
    context_windows,
    evaluate_char_model,
    stdlib_corpus,
    train_char_mlp,
)
from lsutils.gan import (
    energy_distance,
    mode_coverage,
    ring_centers,
    sample_ring,
    train_discriminator,
    train_gan,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_ring_centers_on_circle():
    c = ring_centers(8, radius=2.0)
    torch.testing.assert_close(c.norm(dim=1), torch.full((8,), 2.0))
    assert torch.pdist(c).min() > 1.5


def test_sample_ring_is_seeded_and_near_centres():
    a = sample_ring(500, torch.Generator().manual_seed(3))
    b = sample_ring(500, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    assert torch.cdist(a, ring_centers()).min(dim=1).values.max() < 6 * 0.05


def test_mode_coverage_counts():
    c = ring_centers(8)
    samples = torch.cat(
        [c[:3].repeat(10, 1), torch.zeros(30, 2)]
    )  # 3 modes hit, 30 points off the data
    modes, quality = mode_coverage(samples, c, std=0.05)
    assert modes == 3 and quality == pytest.approx(0.5)
    assert mode_coverage(sample_ring(4000, torch.Generator().manual_seed(0)), c, 0.05)[0] == 8


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.integers(1, 3), st.integers(0, 10_000))
def test_energy_distance_matches_brute_force(n, m, d, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = (
        torch.randn(n, d, generator=g, dtype=torch.float64),
        torch.randn(m, d, generator=g, dtype=torch.float64) + 1,
    )
    dist = lambda a, b: (
        sum((a[i] - b[j]).norm() for i in range(len(a)) for j in range(len(b))) / (len(a) * len(b))
    )
    expected = 2 * dist(x, y) - dist(x, x) - dist(y, y)
    assert energy_distance(x, y) == pytest.approx(float(expected), abs=1e-9)
    assert energy_distance(x, y) >= -1e-12  # a squared distance between distributions
    assert energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)


def test_discriminator_reaches_smoothed_optimum():
    """Separated real and fake sets: D* = real_target on data, fake_target on generated points."""
    g = torch.Generator().manual_seed(0)
    real = torch.randn(200, 2, generator=g) * 0.1 + 1
    fake = torch.randn(200, 2, generator=g) * 0.1 - 1
    D = train_discriminator(real, fake, 0.9, 0.1, steps=300, seed=0)
    with torch.no_grad():
        assert torch.sigmoid(D(real)).mean() == pytest.approx(0.9, abs=0.02)
        assert torch.sigmoid(D(fake)).mean() == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("real_target, fake_target", [(0.9, 0.1), (0.9, 0.0), (1.0, 0.0)])
def test_discriminator_optimum_where_data_and_model_overlap(real_target, fake_target):
    """D*(x) = (a p_data + b p_model) / (p_data + p_model) with targets (a, b). The fake set puts a
    third of its mass on the real points (the rest far away), so there p_data = 3 p_model and
    D* = (3a + b) / 4; far away, D* = b."""
    g = torch.Generator().manual_seed(1)
    real = torch.randn(40, 2, generator=g)
    far = torch.randn(80, 2, generator=g) + 8.0
    D = train_discriminator(real, torch.cat([real, far]), real_target, fake_target, steps=400)
    with torch.no_grad():
        on_data, off_data = torch.sigmoid(D(real)), torch.sigmoid(D(far))
    assert on_data.mean() == pytest.approx((3 * real_target + fake_target) / 4, abs=0.02)
    assert off_data.mean() == pytest.approx(fake_target, abs=0.02)


def test_train_gan_is_seeded_and_learns():
    a = train_gan(steps=300, hidden=32, seed=1)
    b = train_gan(steps=300, hidden=32, seed=1)
    torch.testing.assert_close(a.sample(100), b.sample(100))
    assert len(a.real_logit) == len(a.fake_logit) == 7  # steps 0, 50, ..., 250 and the last
    # the untrained generator puts its points near the origin; training moves them out towards the
    # ring
    untrained = train_gan(steps=0, hidden=32, seed=1).sample(500).norm(dim=1)
    assert (a.sample(500).norm(dim=1) - 2).abs().mean() < (untrained - 2).abs().mean() - 0.5


@pytest.mark.parametrize(
    "call",
    [
        lambda: train_gan(1.1, 0.0, steps=1),
        lambda: train_gan(0.5, 0.5, steps=1),
        lambda: train_discriminator(torch.zeros(2, 2), torch.zeros(2, 2), 0.2, 0.3),
        lambda: sample_ring(0, torch.Generator()),
        lambda: energy_distance(torch.zeros(3, 2), torch.zeros(3, 3)),
        lambda: mode_coverage(torch.zeros(3, 3), ring_centers(), 0.05),
        lambda: context_windows(torch.arange(3), 5),
        lambda: Vocabulary("ab").encode("abc"),
        lambda: train_char_mlp(
            torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long), 3, alpha=1.0
        ),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_corpus_and_windows():
    text = stdlib_corpus(max_chars=5000)
    assert len(text) == 5000 and text.isascii()
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    assert "".join(vocab.chars[i] for i in ids[:50]) == text[:50]
    x, y = context_windows(ids, 4)
    assert x.shape == (len(text) - 4, 4)
    torch.testing.assert_close(x[10], ids[10:14])
    assert y[10] == ids[14]


def test_char_model_metrics_match_definitions_and_training_helps():
    text = stdlib_corpus(max_chars=8000)
    vocab = Vocabulary.from_text(text)
    x, y = context_windows(vocab.encode(text), 4)
    untrained = evaluate_char_model(CharMLP(len(vocab), 4, embed=8, hidden=32), x, y)
    model = train_char_mlp(x, y, len(vocab), steps=200, embed=8, hidden=32)
    r = evaluate_char_model(model, x, y)
    logits = model(x).detach()
    assert r["nll"] == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)
    assert r["perplexity"] == pytest.approx(math.exp(r["nll"]))
    assert r["nll"] < untrained["nll"] - 0.5
