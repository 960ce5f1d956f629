"""Figures for the calibration and representation chapters, and the math behind them.

Includes the penultimate-layer projection of Muller, Kornblith and Hinton (2019): activations of examples
from three classes projected onto the plane through those classes' templates (rows of the final layer's
weight matrix). :func:`template_plane_projection` does the math; :func:`plot_template_projection` draws it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .calibration import reliability_data

__all__ = [
    "reliability_diagram",
    "confidence_histogram",
    "logit_gaps",
    "logit_gap_histogram",
    "template_plane_projection",
    "cluster_geometry",
    "plot_template_projection",
]


def _ax(ax):
    return ax if ax is not None else plt.subplots(figsize=(4.5, 4))[1]


def reliability_diagram(
    probs, labels, n_bins: int = 15, ax=None, title: str | None = None, color: str = "C0"
):
    """Bars of accuracy per equal-width confidence bin against the diagonal of perfect calibration."""
    ax = _ax(ax)
    d = reliability_data(probs, labels, n_bins)
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
    ax = _ax(ax)
    conf = torch.as_tensor(probs).double().max(1).values.numpy()
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


def logit_gaps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per example: true-class logit minus the mean of the other logits (nats of log-odds).

    At the smoothed loss floor every gap equals :func:`lsutils.optimal_logit_gap`.
    """
    z = torch.as_tensor(logits).double()
    labels = torch.as_tensor(labels).long()
    if z.ndim != 2 or labels.shape != (z.shape[0],):
        raise ValueError(
            f"need logits [N, K] and labels [N], got {tuple(z.shape)} and {tuple(labels.shape)}"
        )
    true = z.gather(1, labels[:, None]).squeeze(1)
    return true - (z.sum(1) - true) / (z.shape[1] - 1)


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
    ax = _ax(ax)
    g = logit_gaps(logits, labels).numpy()
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


def template_plane_projection(
    features: torch.Tensor, templates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project ``features [N, D]`` onto the plane through the three ``templates [3, D]``.

    The plane's origin is the templates' centroid; its orthonormal basis comes from Gram-Schmidt on
    ``t1 - t0`` and ``t2 - t0``. Returns ``(coords [N, 2], vertices [3, 2])``, the vertices being the
    templates' own coordinates (they keep their pairwise distances). Float64.
    """
    f = torch.as_tensor(features).double()
    w = torch.as_tensor(templates).double()
    if w.ndim != 2 or w.shape[0] != 3:
        raise ValueError(f"templates must have shape [3, D], got {tuple(w.shape)}")
    if f.ndim != 2 or f.shape[1] != w.shape[1]:
        raise ValueError(f"features must have shape [N, {w.shape[1]}], got {tuple(f.shape)}")
    e1 = w[1] - w[0]
    if e1.norm() == 0:
        raise ValueError("templates are degenerate (two coincide)")
    e1 = e1 / e1.norm()
    e2 = (w[2] - w[0]) - ((w[2] - w[0]) @ e1) * e1
    if e2.norm() <= 1e-12 * (w[2] - w[0]).norm().clamp_min(1e-300):
        raise ValueError("templates are degenerate (collinear)")
    e2 = e2 / e2.norm()
    basis = torch.stack([e1, e2], dim=1)  # [D, 2]
    origin = w.mean(0)
    return (f - origin) @ basis, (w - origin) @ basis


def cluster_geometry(
    coords: torch.Tensor, labels: torch.Tensor, vertices: torch.Tensor
) -> dict[str, float]:
    """How tight and how evenly spaced three projected clusters are.

    ``spread``: mean distance of a point to its class mean, divided by the mean side of the template
    triangle (smaller = tighter). ``separation``: mean distance between class means over the mean triangle
    side. ``spacing_cv``: coefficient of variation of the three distances between class means (0 =
    equidistant). ``labels`` are 0, 1, 2 in the order of the vertices.
    """
    c = torch.as_tensor(coords).double()
    y = torch.as_tensor(labels).long()
    v = torch.as_tensor(vertices).double()
    if set(y.unique().tolist()) != {0, 1, 2}:
        raise ValueError("labels must contain exactly the classes 0, 1, 2")
    means = torch.stack([c[y == k].mean(0) for k in range(3)])
    side = torch.stack([(v[i] - v[j]).norm() for i, j in ((0, 1), (0, 2), (1, 2))]).mean()
    spread = torch.cat([(c[y == k] - means[k]).norm(dim=1) for k in range(3)]).mean()
    dists = torch.stack([(means[i] - means[j]).norm() for i, j in ((0, 1), (0, 2), (1, 2))])
    return {
        "spread": float(spread / side),
        "separation": float(dists.mean() / side),
        "spread_over_separation": float(spread / dists.mean()),
        "spacing_cv": float(dists.std(unbiased=False) / dists.mean()),
    }


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
    ax = _ax(ax)
    c = torch.as_tensor(coords).double()
    y = torch.as_tensor(labels).long()
    v = torch.as_tensor(vertices).double()
    names = class_names or [f"class {k}" for k in range(3)]
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
