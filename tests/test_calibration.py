"""Calibration metrics against torchmetrics, temperature scaling, and the template-plane
projection."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import multiclass_calibration_error

import lsutils
from lsutils import calibration as C
from lsutils.representations import cluster_geometry, logit_gaps, template_plane_projection


def _random_probs(seed: int, n: int = 2000, k: int = 10, scale: float = 3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, k, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (n,), generator=g)
    return logits.softmax(1), labels


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_ece_and_mce_match_torchmetrics(seed, n_bins):
    # random float64 confidences never sit exactly on a bin edge, where the two bin conventions
    # differ
    probs, labels = _random_probs(seed, scale=1.0 + seed)
    k = probs.shape[1]
    ece = multiclass_calibration_error(probs, labels, num_classes=k, n_bins=n_bins, norm="l1")
    mce = multiclass_calibration_error(probs, labels, num_classes=k, n_bins=n_bins, norm="max")
    assert lsutils.expected_calibration_error(probs, labels, n_bins=n_bins) == pytest.approx(
        float(ece), abs=1e-6
    )
    assert C.max_calibration_error(probs, labels, n_bins=n_bins) == pytest.approx(
        float(mce), abs=1e-6
    )


def test_perfectly_calibrated_bins_have_zero_ece():
    # 4 examples at confidence 0.75 (3 right), 2 at 0.5 (1 right): every bin is exact
    probs = torch.tensor([[0.75, 0.25]] * 4 + [[0.5, 0.5]] * 2, dtype=torch.float64)
    probs[4] = torch.tensor([0.5, 0.5])
    labels = torch.tensor([0, 0, 0, 1, 0, 1])
    assert lsutils.expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(
        0.0, abs=1e-12
    )
    # all-wrong confident predictions: ECE = confidence
    probs = torch.tensor([[0.9, 0.1]] * 5, dtype=torch.float64)
    assert lsutils.expected_calibration_error(
        probs, torch.ones(5, dtype=torch.long)
    ) == pytest.approx(0.9)


def test_nll_and_brier_against_direct_formulas():
    probs, labels = _random_probs(7)
    assert C.negative_log_likelihood(probs, labels) == pytest.approx(
        float(F.nll_loss(probs.log(), labels)), rel=1e-9
    )
    onehot = F.one_hot(labels, 10).double()
    assert C.brier_score(probs, labels) == pytest.approx(
        float(((probs - onehot) ** 2).sum(1).mean())
    )


def test_reliability_data_counts_and_edges():
    probs, labels = _random_probs(3)
    d = C.reliability_data(probs, labels, n_bins=15)
    assert d["count"].sum() == len(labels) and d["edges"].shape == (16,)
    nonempty = d["count"] > 0
    assert ((d["confidence"] > d["edges"][:-1]) & (d["confidence"] <= d["edges"][1:]))[
        nonempty
    ].all()


def test_inputs_are_validated():
    probs, labels = _random_probs(0, n=10)
    with pytest.raises(ValueError, match="n_bins"):
        lsutils.expected_calibration_error(probs, labels, n_bins=0)
    with pytest.raises(ValueError, match="sum to 1"):
        lsutils.expected_calibration_error(probs * 2, labels)
    with pytest.raises(ValueError, match="shape"):
        lsutils.expected_calibration_error(probs[:, 0], labels)
    with pytest.raises(ValueError, match="labels"):
        lsutils.expected_calibration_error(probs, labels[:5])
    with pytest.raises(ValueError, match="labels"):
        lsutils.expected_calibration_error(probs, labels + 10)


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_known_temperature(true_t):
    # labels drawn from softmax(z / T): the NLL-optimal temperature for logits z is T
    g = torch.Generator().manual_seed(0)
    z = 3.0 * torch.randn(40000, 10, generator=g, dtype=torch.float64)
    labels = torch.multinomial((z / true_t).softmax(1), 1, generator=g).squeeze(1)
    t = lsutils.fit_temperature(z, labels)
    assert t == pytest.approx(true_t, rel=0.05)
    # and it is the minimiser of the NLL
    nll = lambda s: float(F.cross_entropy(z / s, labels))
    assert nll(t) <= min(nll(t * 1.02), nll(t / 1.02))


def test_temperature_scaling_keeps_predictions():
    probs, labels = _random_probs(1)
    logits = probs.log()
    scaled = C.temperature_scale(logits, 2.0)
    assert torch.equal(scaled.argmax(1), probs.argmax(1))
    with pytest.raises(ValueError):
        C.temperature_scale(logits, 0.0)


def test_template_plane_projection_maps_templates_to_triangle():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 20, generator=g, dtype=torch.float64)
    coords, vertices = template_plane_projection(w, w)
    assert torch.allclose(coords, vertices)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert (vertices[i] - vertices[j]).norm() == pytest.approx(float((w[i] - w[j]).norm()))
    assert torch.allclose(vertices.mean(0), torch.zeros(2, dtype=torch.float64), atol=1e-12)
    # a point in the plane keeps its barycentric combination; an orthogonal offset is removed
    bary = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    point = bary @ w
    normal = torch.randn(20, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.cat([(w[1:] - w[0]).T, normal[:, None]], 1))
    off = point + 3.0 * q[:, 2]
    c, _ = template_plane_projection(torch.stack([point, off]), w)
    assert torch.allclose(c[0], bary @ vertices) and torch.allclose(c[1], c[0])
    with pytest.raises(ValueError, match="degenerate"):
        template_plane_projection(w, torch.stack([w[0], w[1], 2 * w[1] - w[0]]))


def test_cluster_geometry_of_points_at_the_vertices():
    v = torch.tensor(
        [[1.0, 0.0], [-0.5, math.sqrt(3) / 2], [-0.5, -math.sqrt(3) / 2]], dtype=torch.float64
    )
    labels = torch.tensor([0, 1, 2] * 4)
    geo = cluster_geometry(v[labels], labels, v)
    assert geo["spread"] == pytest.approx(0.0, abs=1e-12) and geo["spacing_cv"] == pytest.approx(
        0.0, abs=1e-12
    )
    assert geo["separation"] == pytest.approx(1.0)


def test_logit_gaps_at_the_optimum():
    k, alpha = 10, 0.1
    gap = lsutils.optimal_logit_gap(k, alpha)
    logits = torch.zeros(4, k, dtype=torch.float64)
    labels = torch.tensor([0, 3, 5, 9])
    logits[torch.arange(4), labels] = gap
    assert torch.allclose(logit_gaps(logits, labels), torch.full((4,), gap, dtype=torch.float64))


def test_calibration_summary_matches_its_oracles_even_for_underflowing_probabilities():
    from lsutils.calibration import calibration_summary, expected_calibration_error

    gen = torch.Generator().manual_seed(0)
    z = 3 * torch.randn(200, 10, generator=gen, dtype=torch.float64)
    z[0] = 0.0
    z[0, 3] = 100.0  # the true class 0 gets probability ~e^-100, far below any clamp
    y = torch.randint(0, 10, (200,), generator=gen)
    y[0] = 0
    s = calibration_summary(z, y)
    assert s["nll"] == pytest.approx(float(torch.nn.functional.cross_entropy(z, y)), rel=1e-12)
    probs = z.softmax(1)
    assert s["ece"] == pytest.approx(float(expected_calibration_error(probs, y)), abs=1e-12)
    assert s["accuracy"] == pytest.approx(float((z.argmax(1) == y).double().mean()))
    assert s["confidence"] == pytest.approx(float(probs.max(1).values.mean()))


def _summary_reference(z: torch.Tensor, y: torch.Tensor, n_bins: int = 15) -> dict[str, float]:
    """The definitions, in float64 from the probabilities (the previous implementation)."""
    z = z.double()
    p = z.softmax(1)
    onehot = F.one_hot(y, z.shape[1]).double()
    return {
        "accuracy": float((p.argmax(1) == y).double().mean()),
        "nll": float(F.cross_entropy(z, y)),
        "ece": C.expected_calibration_error(p, y, n_bins),
        "mce": C.max_calibration_error(p, y, n_bins),
        "brier": float(((p - onehot) ** 2).sum(1).mean()),
        "confidence": float(p.max(1).values.mean()),
    }


@pytest.mark.parametrize(
    "dtype, rel", [(torch.float64, 1e-12), (torch.float32, 1e-6), (torch.bfloat16, 1e-6)]
)
@pytest.mark.parametrize("scale", [0.01, 1.0, 5.0, 50.0])
def test_calibration_summary_matches_the_float64_definitions(dtype, rel, scale):
    # rel is against the same logits in float64: the summary works in the logits' precision
    g = torch.Generator().manual_seed(int(scale * 100))
    z = (scale * torch.randn(5000, 7, generator=g, dtype=torch.float64)).to(dtype)
    y = torch.randint(0, 7, (5000,), generator=g)
    got, ref = C.calibration_summary(z, y), _summary_reference(z, y)
    for key in ref:
        assert got[key] == pytest.approx(ref[key], rel=rel, abs=1e-9), key


def test_calibration_summary_ties_count_like_argmax_and_blocks_do_not_matter(monkeypatch):
    # all-equal logits: argmax predicts class 0, so only label 0 is a hit
    z = torch.zeros(6, 3)
    y = torch.tensor([0, 1, 2, 0, 2, 1])
    s = C.calibration_summary(z, y)
    assert s["accuracy"] == pytest.approx(2 / 6) and s["confidence"] == pytest.approx(1 / 3)
    assert s["nll"] == pytest.approx(math.log(3)) and s["brier"] == pytest.approx(2 / 3)
    # a tie between classes 1 and 2 at the top: class 1 is predicted
    z = torch.tensor([[0.0, 5.0, 5.0]] * 2)
    assert C.calibration_summary(z, torch.tensor([1, 2]))["accuracy"] == 0.5
    # the block size changes nothing but the rounding of float32 row sums
    g = torch.Generator().manual_seed(3)
    z, y = 4 * torch.randn(1000, 5, generator=g), torch.randint(0, 5, (1000,), generator=g)
    whole = C.calibration_summary(z, y)
    monkeypatch.setattr(C, "_BLOCK", 7)
    assert C.calibration_summary(z, y) == pytest.approx(whole, rel=1e-8)


def test_one_exact_nll():
    """negative_log_likelihood (from probabilities) and calibration_summary (from logits) agree,
    far below the old 1e-12 clamp (which capped an example's loss at 27.6 nats)."""
    z = torch.zeros(3, 4, dtype=torch.float64)
    z[:, 1] = 60.0  # the true class 0 gets probability ~e^-60 ~ 1e-26
    y = torch.zeros(3, dtype=torch.long)
    from_logits = C.calibration_summary(z, y)["nll"]
    assert from_logits == pytest.approx(60.0 + math.log1p(3 * math.exp(-60.0)), rel=1e-12)
    assert C.negative_log_likelihood(z.softmax(1), y) == pytest.approx(from_logits, rel=1e-12)
    # a true class with probability exactly 0 has an infinite NLL, not a capped one
    probs = torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    assert C.negative_log_likelihood(probs, torch.tensor([0, 0])) == math.inf


def test_bin_index_is_bucketize():
    g = torch.Generator().manual_seed(0)
    for n_bins in (1, 3, 10, 15, 100):
        edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
        # random confidences, the edges themselves and their neighbours one ulp away
        conf = torch.cat(
            [
                torch.rand(10_000, generator=g, dtype=torch.float64).clamp_min(1e-9),
                edges[1:],
                torch.nextafter(edges[1:], torch.zeros(())),
                torch.nextafter(edges[1:-1], torch.ones(())),
                torch.arange(1, n_bins + 1, dtype=torch.float64) / n_bins,
            ]
        )
        expected = (torch.bucketize(conf, edges) - 1).clamp(0, n_bins - 1)
        assert torch.equal(C._bin_index(conf, edges), expected)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_probabilities_are_accepted(dtype):
    # softmax in half precision sums to 1 only within the dtype's rounding: still probabilities
    g = torch.Generator().manual_seed(0)
    for k in (10, 1000):
        z = 3 * torch.randn(500, k, generator=g)
        y = torch.randint(0, k, (500,), generator=g)
        probs = z.to(dtype).softmax(1)
        ece = C.expected_calibration_error(probs, y)
        ref = float(
            multiclass_calibration_error(
                probs.double() / probs.double().sum(1, keepdim=True), y, num_classes=k, n_bins=15
            )
        )
        assert 0.0 <= ece <= 1.0 and ece == pytest.approx(ref, abs=0.01)


def test_metrics_restore_the_thread_setting():
    """The metrics run on one CPU thread; the caller's setting comes back, after an error too."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        probs, labels = _random_probs(0, n=50)
        C.expected_calibration_error(probs, labels)
        C.calibration_summary(probs.log(), labels)
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError):
            C.calibration_summary(probs.log(), labels + 10)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
