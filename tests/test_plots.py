"""The plotting helpers draw what they are given (smoke tests on the Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lsutils import plots, representations  # noqa: E402


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(300, 10, generator=g)
    return logits, torch.randint(0, 10, (300,), generator=g)


def test_reliability_diagram_draws_one_bar_per_nonempty_bin(data):
    logits, labels = data
    probs = logits.softmax(1)
    fig, ax = plt.subplots()
    plots.reliability_diagram(probs, labels, n_bins=10, ax=ax, title="t")
    nonempty = int((plots.reliability_data(probs, labels, 10)["count"] > 0).sum())
    assert len(ax.patches) == 2 * nonempty and ax.get_title() == "t"
    plt.close(fig)


def test_histograms_and_projection_plot(data):
    logits, labels = data
    fig, axes = plt.subplots(1, 3)
    plots.confidence_histogram(logits.softmax(1), ax=axes[0], label="a")
    plots.logit_gap_histogram(logits, labels, ax=axes[1], range_=(-5, 5))
    w = torch.eye(3, 8)
    coords, vertices = representations.template_plane_projection(torch.randn(30, 8), w)
    plots.plot_template_projection(coords, torch.arange(30) % 3, vertices, ax=axes[2])
    assert "nats" in axes[1].get_xlabel() and len(axes[2].collections) == 6
    plt.close(fig)
