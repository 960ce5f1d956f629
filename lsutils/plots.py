"""Figures for the calibration and representation chapters. Drawing only: the quantities drawn come
from :mod:`lsutils.calibration` and :mod:`lsutils.representations`."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ._validate import check_float, check_int, check_probs
from .calibration import reliability_data
from .representations import _check_projection, logit_gaps

__all__ = [
    "reliability_diagram",
    "confidence_histogram",
    "logit_gap_histogram",
    "plot_template_projection",
    "plot_intervals",
]


def _ax(ax):
    return ax if ax is not None else plt.subplots(figsize=(4.5, 4))[1]


def reliability_diagram(
    probs, labels, n_bins: int = 15, ax=None, title: str | None = None, color: str = "C0"
):
    """Bars of accuracy per equal-width confidence bin against the diagonal of perfect
    calibration."""
    d = reliability_data(probs, labels, n_bins)
    ax = _ax(ax)
    edges, width = d["edges"][:-1].numpy(), 1.0 / n_bins
    nonempty = (d["count"] > 0).numpy()
    acc, conf = d["accuracy"].numpy(), d["confidence"].numpy()
    ax.bar(
        edges[nonempty],
        acc[nonempty],
        width=width,
        align="edge",
        color=color,
        edgecolor="k",
        lw=0.5,
        label="accuracy",
    )
    ax.bar(
        edges[nonempty],
        (conf - acc)[nonempty],
        bottom=acc[nonempty],
        width=width,
        align="edge",
        color="none",
        edgecolor="C3",
        hatch="//",
        lw=0.5,
        label="gap to confidence",
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top-label probability)", ylabel="accuracy")
    if title:
        ax.set_title(title)
    return ax


def confidence_histogram(probs, ax=None, bins: int = 30, label: str | None = None, color=None):
    """Histogram (fraction of examples) of the top-label confidence ``max_k p_k``."""
    probs = check_probs(probs)
    bins = check_int(bins, "bins", 1)
    ax = _ax(ax)
    conf = probs.detach().double().max(1).values.cpu().numpy()
    ax.hist(
        conf,
        bins=bins,
        range=(0, 1),
        weights=[1 / len(conf)] * len(conf),
        histtype="step",
        lw=1.5,
        label=label,
        color=color,
    )
    ax.set(xlabel="confidence (top-label probability)", ylabel="fraction of examples")
    return ax


def logit_gap_histogram(
    logits,
    labels,
    ax=None,
    bins: int = 60,
    label: str | None = None,
    color=None,
    range_: tuple[float, float] | None = None,
):
    """Histogram (fraction of examples) of :func:`logit_gaps`."""
    g = logit_gaps(logits, labels).detach().cpu().numpy()
    bins = check_int(bins, "bins", 1)
    ax = _ax(ax)
    ax.hist(
        g,
        bins=bins,
        range=range_,
        weights=[1 / len(g)] * len(g),
        histtype="step",
        lw=1.5,
        label=label,
        color=color,
    )
    ax.set(xlabel="logit gap: true minus mean other (nats)", ylabel="fraction of examples")
    return ax


def plot_template_projection(
    coords,
    labels,
    vertices,
    ax=None,
    class_names=None,
    title: str | None = None,
    max_points: int = 600,
):
    """Scatter of projected activations (colour = class) with the template triangle's vertices."""
    c, y, v = _check_projection(coords, labels, vertices)
    max_points = check_int(max_points, "max_points", 1)
    names = list(class_names) if class_names is not None else [f"class {k}" for k in range(3)]
    if len(names) != 3:
        raise ValueError(f"class_names must name the 3 classes, got {class_names!r}")
    ax = _ax(ax)
    for k in range(3):
        pts = c[y == k][:max_points]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=4, alpha=0.4, color=f"C{k}", label=names[k], rasterized=True
        )
        ax.scatter(v[k, 0], v[k, 1], marker="*", s=200, color=f"C{k}", edgecolor="k", zorder=3)
    ax.set(
        xlabel="plane coordinate 1 (activation units)",
        ylabel="plane coordinate 2 (activation units)",
    )
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return ax


def plot_intervals(
    x,
    intervals,
    ax=None,
    scale: float = 1.0,
    offset: float = 1.0,
    label: str | None = None,
    color=None,
    marker: str = "o",
):
    """Means of ``intervals`` (:class:`lsutils.stats.Interval`, one per ``x``) joined by a line,
    with each interval drawn as an error bar, and a dotted line at 0.

    Values are multiplied by ``scale`` (e.g. 100 for percentage points); ``offset`` multiplies the
    x positions, to set several series side by side on a logarithmic axis.
    """
    from .stats import Interval

    intervals = list(intervals)
    if not intervals or not all(isinstance(iv, Interval) for iv in intervals):
        raise ValueError("intervals must be a non-empty sequence of lsutils.stats.Interval")
    x = [check_float(v, "x") for v in x]
    if len(x) != len(intervals):
        raise ValueError(
            f"x and intervals must have the same length, got {len(x)} and {len(intervals)}"
        )
    scale = check_float(scale, "scale")
    offset = check_float(offset, "offset", 0.0, low_open=True)
    ax = _ax(ax)
    xs = [v * offset for v in x]
    means = [iv.mean * scale for iv in intervals]
    below = [(iv.mean - iv.low) * scale for iv in intervals]
    above = [(iv.high - iv.mean) * scale for iv in intervals]
    ax.errorbar(
        xs, means, yerr=[below, above], fmt=f"{marker}-", capsize=3, label=label, color=color
    )
    ax.axhline(0.0, color="k", lw=0.8, ls=":")
    return ax
