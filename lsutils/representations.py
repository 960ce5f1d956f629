"""The geometry of what a classifier learns: logit gaps and penultimate-layer clusters.

- :func:`logit_gaps`: per example, the true-class logit minus the mean of the other logits (nats).
  At the smoothed loss floor every gap equals :func:`lsutils.optimal_logit_gap`.
- :func:`template_plane_projection`: the visualisation of Muller, Kornblith and Hinton (2019):
  activations of examples from three classes projected onto the plane through those classes'
  templates (rows of the final layer's weight matrix).
- :func:`cluster_geometry`: how tight and how evenly spaced the projected clusters are.
- :func:`template_distances` and :func:`wrong_class_spread`: the per-example form of Muller et
  al.'s claim, that each activation sits equidistant from the wrong classes' templates.
"""

from __future__ import annotations

import torch

from ._validate import check_float_tensor, check_labels, check_logits, check_num_classes

__all__ = [
    "logit_gaps",
    "template_plane_projection",
    "cluster_geometry",
    "template_distances",
    "wrong_class_spread",
]


def logit_gaps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per example: true-class logit minus the mean of the other logits (nats of log-odds).

    At the smoothed loss floor every gap equals :func:`lsutils.optimal_logit_gap`.
    """
    z = check_float_tensor(logits, "logits", "[N, K]", convert=True, finite=True)
    check_num_classes(z.shape[1])
    labels = check_labels(labels, z.shape[1])
    if labels.shape != (z.shape[0],):
        raise ValueError(
            f"labels must have shape [{z.shape[0]}] (one per row of logits), "
            f"got {tuple(labels.shape)}"
        )
    z = z.double()
    true = z.gather(1, labels[:, None]).squeeze(1)
    return true - (z.sum(1) - true) / (z.shape[1] - 1)


def template_plane_projection(
    features: torch.Tensor, templates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project ``features [N, D]`` onto the plane through the three ``templates [3, D]``.

    The plane's origin is the templates' centroid; its orthonormal basis comes from Gram-Schmidt on
    ``t1 - t0`` and ``t2 - t0``. Returns ``(coords [N, 2], vertices [3, 2])``, the vertices being
    the templates' own coordinates (they keep their pairwise distances). Float64.
    """
    w = check_float_tensor(templates, "templates", "[3, D]", convert=True, finite=True).double()
    if w.shape[0] != 3:
        raise ValueError(f"templates must have shape [3, D], got {tuple(w.shape)}")
    f = check_float_tensor(features, "features", "[N, D]", convert=True, finite=True).double()
    if f.shape[1] != w.shape[1]:
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
    triangle (smaller = tighter). ``separation``: mean distance between class means over the mean
    triangle side. ``spacing_cv``: coefficient of variation of the three distances between class
    means (0 = equidistant). ``labels`` are 0, 1, 2 in the order of the vertices.
    """
    c, y, v = _check_projection(coords, labels, vertices)
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


def _check_projection(
    coords: object, labels: object, vertices: object
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Planar ``coords [N, 2]``, labels in {0, 1, 2} (each present), ``vertices [3, 2]``."""
    c = check_float_tensor(coords, "coords", "[N, 2]", convert=True, finite=True).double()
    if c.shape[1] != 2:
        raise ValueError(f"coords must have shape [N, 2], got {tuple(c.shape)}")
    y = check_labels(labels, 3)
    if y.shape != (c.shape[0],):
        raise ValueError(
            f"labels must have shape [{c.shape[0]}] (one per point), got {tuple(y.shape)}"
        )
    if y.unique().numel() != 3:
        raise ValueError(
            f"labels must contain each of the classes 0, 1, 2, got {y.unique().tolist()}"
        )
    v = check_float_tensor(vertices, "vertices", "[3, 2]", convert=True, finite=True).double()
    if v.shape != (3, 2):
        raise ValueError(f"vertices must have shape [3, 2], got {tuple(v.shape)}")
    return c, y, v


def template_distances(features: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """Euclidean distance from each activation to each class template, ``[N, K]`` float64.

    ``features [N, D]`` are penultimate activations ``h``, ``templates [K, D]`` the rows ``w_k`` of
    the final layer. With logits ``z_k = w_k . h + b_k`` the squared distance is
    ``|h|^2 + |w_k|^2 + 2 b_k - 2 z_k``: for one example, differences between classes' squared
    distances are ``-2`` times their logit differences, up to the templates' norms and biases.
    """
    f = check_float_tensor(features, "features", "[N, D]", convert=True, finite=True).double()
    w = check_float_tensor(templates, "templates", "[K, D]", convert=True, finite=True).double()
    if f.shape[1] != w.shape[1]:
        raise ValueError(
            "features [N, D] and templates [K, D] need the same D, "
            f"got {f.shape[1]} and {w.shape[1]}"
        )
    # the direct form sqrt(sum (h - w)^2): exact, unlike |h|^2 - 2 h.w + |w|^2 for large |h|
    return torch.cdist(f, w, compute_mode="donot_use_mm_for_euclid_dist")


def wrong_class_spread(scores: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per example: how evenly the ``K - 1`` wrong classes are placed around it.

    ``scores [N, K]`` are logits (nats) or :func:`template_distances`; ``labels [N]`` the true
    classes. Returns float64 tensors ``[N]``: ``own`` (the true class's score), ``wrong_mean`` and
    ``wrong_std`` (mean and population standard deviation over the wrong classes), and
    ``relative_spread = wrong_std / |own - wrong_mean|``, a scale-free measure: 0 when every wrong
    class has the same score (the example is equidistant from the wrong templates, as at the
    smoothed loss floor, where all wrong logits are equal), 1 when the wrong classes spread as much
    as the own class stands apart, ``inf`` where the own score equals the wrong mean but the wrong
    scores differ. With ``K = 2`` there is one wrong class and the spread is 0.
    """
    z = check_logits(torch.as_tensor(scores)).double()
    y = check_labels(labels, z.shape[1])
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"labels must have shape [{z.shape[0]}], got {tuple(y.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("scores must be finite")
    own_mask = torch.nn.functional.one_hot(y, z.shape[1]).bool()
    own = z[own_mask]
    wrong = z[~own_mask].view(z.shape[0], z.shape[1] - 1)
    mean = wrong.mean(1)
    std = wrong.std(1, unbiased=False) if wrong.shape[1] > 1 else torch.zeros_like(mean)
    apart = (own - mean).abs()
    relative = torch.where(std == 0, torch.zeros_like(std), std / apart)  # x / 0 = inf for x > 0
    return {"own": own, "wrong_mean": mean, "wrong_std": std, "relative_spread": relative}
