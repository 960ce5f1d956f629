"""Bad input, tried as a new user would, gets a clear error from every public function.

Each row of ``BAD`` is one misuse: the call, the exception it must raise (``ValueError``;
``TypeError`` only where Python's own convention is one) and a regex the message must match, which
names the argument and what is allowed. Never a silent result, never an error from inside torch.
``GOOD`` lists inputs that are valid and must be accepted (half-precision probabilities, numpy
integers, lists).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lsutils import (  # noqa: E402
    calibration,
    charlm,
    cifar,
    data,
    distill,
    fairness,
    floor,
    gan,
    gradients,
    losses,
    plots,
    privacy,
    probe,
    profiles,
    representations,
    selective,
    stats,
    targets,
    value_targets,
)

NAN, INF = math.nan, math.inf
G = torch.Generator().manual_seed(0)
Z = 2 * torch.randn(6, 4, generator=G)  # logits [N, K]
Y = torch.tensor([0, 1, 2, 3, 0, 1])  # labels [N]
P = Z.softmax(1)  # probabilities [N, K]
P5 = torch.randn(6, 5, generator=G).softmax(1)
Y_FLOAT = Y.float() + 0.7  # 1.7 must not count as class 1
Y_IGNORE = torch.tensor([0, 1, -100, 3, 0, 1])  # torch's ignore_index
Y_BIG = torch.tensor([0, 1, 2, 4, 0, 1])


def _with(x: torch.Tensor, value: float) -> torch.Tensor:
    x = x.clone()
    x[1, 1] = value
    return x


Z_NAN, Z_INF = _with(Z, NAN), _with(Z, INF)
XQ, XR = torch.randn(3, 2, generator=G), torch.randn(4, 2, generator=G)  # query, reference rows
YR = torch.tensor([0, 1, 0, 1])
IV = stats.mean_interval([0.1, 0.2, 0.3])  # an Interval for plot_intervals
S3 = torch.tensor([[0.0, 0.3, 0.1], [0.3, 0.0, 0.2], [0.1, 0.2, 0.0]])  # class similarity
CONF = torch.tensor([0.9, 0.8, 0.7, 0.6])
RIGHT = torch.tensor([True, True, False, True])
X = torch.randn(8, 3, generator=G)  # features [N, D]
XY = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
EDGES = value_targets.uniform_bins(-2.0, 2.0, 20)
CENTERS = value_targets.bin_centers(EDGES)
U8 = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8, generator=G)
IDS = torch.tensor([[0, 1], [1, 2], [2, 0], [0, 0]])
NEXT = torch.tensor([2, 0, 1, 1])
COORDS = torch.randn(9, 2, generator=G)
THREE = torch.tensor([0, 1, 2] * 3)
VERTS = torch.tensor([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
W = torch.randn(3, 5, generator=G, dtype=torch.float64)
PROBE = probe.fit_linear_probe(X, XY, 3, max_iter=5)


class WithFeatures(torch.nn.Module):
    def features(self, x):
        return 2 * x


def tiny_gan():
    return gan.train_gan(steps=0, hidden=4, batch_size=2, latent_dim=2)


def row(name, call, match, exc=ValueError):
    return pytest.param(call, exc, match, id=name)


ALPHA_NUMBER = r"alpha must be a number in \[0, 1\]"
PROBS = r"probs must hold probabilities: entries in \[0, 1\] and rows that sum to 1.*softmax"
LABELS_INT = r"labels must be an integer tensor of class indices, got dtype torch.float32"
IGNORE = r"labels must lie in \[0, 3\].*-100 \(torch's ignore_index\) is not supported"
RANGE = r"labels must lie in \[0, 3\] for num_classes=4, got values in \[0, 4\]"
T_RANGE = r"temperature must be a finite number in \(0, inf\)"
N_BINS = r"n_bins must be an integer >= 1"
CONVENTION = r"unknown convention .*; use 'uniform' .* or 'others'"
NUM_CLASSES = r"num_classes must be (at least 2|an integer >= 2)"

BAD = [
    # targets
    row("target_probs alpha=True", lambda: targets.target_probs(4, True), ALPHA_NUMBER),
    row("target_probs alpha='0.1'", lambda: targets.target_probs(4, "0.1"), ALPHA_NUMBER),
    row("target_probs K=1", lambda: targets.target_probs(1, 0.1), NUM_CLASSES),
    row("target_probs K=4.0", lambda: targets.target_probs(4.0, 0.1), NUM_CLASSES),
    row(
        "target_probs allow_negative='yes'",
        lambda: targets.target_probs(4, -0.1, allow_negative="yes"),
        r"allow_negative must be True or False",
    ),
    row(
        "smooth_targets dtype=int64",
        lambda: targets.smooth_targets(Y, 4, 0.1, dtype=torch.int64),
        r"dtype must be a floating-point torch dtype",
    ),
    row(
        "smooth_targets dtype=bool",
        lambda: targets.smooth_targets(Y, 4, 0.1, dtype=torch.bool),
        r"dtype must be a floating-point torch dtype",
    ),
    row(
        "smooth_targets dtype='float32'",
        lambda: targets.smooth_targets(Y, 4, 0.1, dtype="float32"),
        r"dtype must be a floating-point torch dtype",
    ),
    row("smooth_targets float labels", lambda: targets.smooth_targets(Y_FLOAT, 4, 0.1), LABELS_INT),
    row("smooth_targets label -100", lambda: targets.smooth_targets(Y_IGNORE, 4, 0.1), IGNORE),
    row("smooth_targets label 4 of 4", lambda: targets.smooth_targets(Y_BIG, 4, 0.1), RANGE),
    row(
        "smooth_targets convention 'Uniform'",
        lambda: targets.smooth_targets(Y, 4, 0.1, "Uniform"),
        CONVENTION,
    ),
    row(
        "convert_alpha others eps beyond (K-1)/K",
        lambda: targets.convert_alpha(0.9, 4, "others", "uniform"),
        r"'others' eps=0.9 exceeds \(K-1\)/K=0.75",
    ),
    row(
        "convert_alpha negative",
        lambda: targets.convert_alpha(-0.1, 4, "uniform", "others"),
        r"alpha must be in \[0, 1\], got -0.1; convert_alpha takes a smoothing strength",
    ),
    row(
        "convert_alpha target None",
        lambda: targets.convert_alpha(0.1, 4, "uniform", None),
        CONVENTION,
    ),
    row(
        "to_uniform_alpha alpha='0.1'",
        lambda: targets.to_uniform_alpha(4, "0.1", "others"),
        ALPHA_NUMBER,
    ),
    row(
        "to_uniform_alpha alpha=2",
        lambda: targets.to_uniform_alpha(4, 2.0, "uniform"),
        r"alpha must be in \[-1, 1\], got 2",
    ),
    row("to_uniform_alpha K=1", lambda: targets.to_uniform_alpha(1, 0.1, "uniform"), NUM_CLASSES),
    # losses
    row("loss alpha=True", lambda: losses.smoothed_cross_entropy(Z, Y, True), ALPHA_NUMBER),
    row("loss alpha='0.1'", lambda: losses.smoothed_cross_entropy(Z, Y, "0.1"), ALPHA_NUMBER),
    row(
        "loss alpha=numpy True",
        lambda: losses.smoothed_cross_entropy(Z, Y, np.True_),
        ALPHA_NUMBER,
    ),
    row(
        "loss alpha=nan",
        lambda: losses.smoothed_cross_entropy(Z, Y, NAN),
        ALPHA_NUMBER + ", got nan",
    ),
    row("loss float labels", lambda: losses.smoothed_cross_entropy(Z, Y_FLOAT, 0.1), LABELS_INT),
    row("loss label -100", lambda: losses.smoothed_cross_entropy(Z, Y_IGNORE, 0.1), IGNORE),
    row(
        "loss label -100 others",
        lambda: losses.smoothed_cross_entropy(Z, Y_IGNORE, 0.1, "others"),
        IGNORE,
    ),
    row(
        "loss reduction 'avg'",
        lambda: losses.smoothed_cross_entropy(Z, Y, 0.1, reduction="avg"),
        r"reduction must be one of \('mean', 'sum', 'none'\)",
    ),
    row(
        "loss allow_negative=1",
        lambda: losses.smoothed_cross_entropy(Z, Y, 0.1, allow_negative=1),
        r"allow_negative must be True or False, got 1",
    ),
    row(
        "loss validate='no'",
        lambda: losses.smoothed_cross_entropy(Z, Y, 0.1, validate="no"),
        r"validate must be True or False, got 'no'",
    ),
    row(
        "loss integer logits",
        lambda: losses.smoothed_cross_entropy(Z.long(), Y, 0.1),
        r"logits must be a floating-point tensor of shape \[N, K\]",
    ),
    row(
        "loss labels too short",
        lambda: losses.smoothed_cross_entropy(Z, Y[:3], 0.1),
        r"logits have 6 rows but labels have 3 entries",
    ),
    row(
        "ce_from_targets shape",
        lambda: losses.cross_entropy_from_targets(Z, P[:, :3]),
        r"logits and targets must have the same shape \[N, K\], got \(6, 4\) and \(6, 3\)",
    ),
    row(
        "ce_from_targets reduction",
        lambda: losses.cross_entropy_from_targets(Z, P, reduction="batchmean"),
        r"reduction must be one of",
    ),
    row(
        "ce_from_targets list targets",
        lambda: losses.cross_entropy_from_targets(Z, P.tolist()),
        r"targets must be a tensor of shape \[N, K\], got list",
    ),
    row(
        "ce_from_targets complex targets",
        lambda: losses.cross_entropy_from_targets(Z, P.to(torch.complex64)),
        r"targets must be real numbers \[N, K\]",
    ),
    # floor
    row("target_exprs convention", lambda: floor.target_exprs("szegedy"), CONVENTION),
    row("floor_derivation convention", lambda: floor.floor_derivation("other"), CONVENTION),
    row("floor_expr list convention", lambda: floor.floor_expr(["uniform"]), CONVENTION),
    row("gap_expr convention None", lambda: floor.gap_expr(None), CONVENTION),
    row(
        "loss_floor negative alpha",
        lambda: floor.loss_floor(10, -0.1),
        r"alpha must be in \[0, 1\], got -0.1; negative smoothing has no loss floor",
    ),
    row("loss_floor alpha=True", lambda: floor.loss_floor(10, True), ALPHA_NUMBER),
    row("optimal_logit_gap K=1", lambda: floor.optimal_logit_gap(1, 0.1), NUM_CLASSES),
    row(
        "optimal_logit_gap alpha=1.5",
        lambda: floor.optimal_logit_gap(10, 1.5),
        r"alpha must be in \[0, 1\], got 1.5",
    ),
    # gradients
    row(
        "logit_gradient shape",
        lambda: gradients.logit_gradient(Z, P[:, :2]),
        r"logits and targets must have the same shape",
    ),
    row(
        "logit_gradient integer logits",
        lambda: gradients.logit_gradient(Z.int(), P),
        r"logits must be a floating-point tensor",
    ),
    row("gradient_derivation K=1", lambda: gradients.gradient_derivation(1), NUM_CLASSES),
    row("gradient_derivation K=3.0", lambda: gradients.gradient_derivation(3.0), NUM_CLASSES),
    # calibration
    row("ece of logits", lambda: calibration.expected_calibration_error(Z, Y), PROBS),
    row(
        "ece of unnormalised rows", lambda: calibration.expected_calibration_error(P * 2, Y), PROBS
    ),
    row("ece nan probs", lambda: calibration.expected_calibration_error(_with(P, NAN), Y), PROBS),
    row(
        "ece n_bins=0",
        lambda: calibration.expected_calibration_error(P, Y, n_bins=0),
        N_BINS + ", got 0",
    ),
    row("ece n_bins=2.5", lambda: calibration.expected_calibration_error(P, Y, 2.5), N_BINS),
    row("ece float labels", lambda: calibration.expected_calibration_error(P, Y_FLOAT), LABELS_INT),
    row("ece label -100", lambda: calibration.expected_calibration_error(P, Y_IGNORE), IGNORE),
    row(
        "ece empty",
        lambda: calibration.expected_calibration_error(P[:0], Y[:0]),
        r"probs must have at least one row",
    ),
    row(
        "ece labels too short",
        lambda: calibration.expected_calibration_error(P, Y[:3]),
        r"labels must have shape \[6\] \(one per row\), got \(3,\)",
    ),
    row("mce of logits", lambda: calibration.max_calibration_error(Z, Y), PROBS),
    row("mce n_bins=True", lambda: calibration.max_calibration_error(P, Y, True), N_BINS),
    row("nll of logits", lambda: calibration.negative_log_likelihood(Z, Y), PROBS),
    row("nll label 4 of 4", lambda: calibration.negative_log_likelihood(P, Y_BIG), RANGE),
    row(
        "brier integer probs",
        lambda: calibration.brier_score(P.long(), Y),
        r"probs must be a floating-point tensor \[N, K\], got torch.int64",
    ),
    row(
        "brier one column",
        lambda: calibration.brier_score(torch.ones(6, 1), Y * 0),
        r"probs must have K >= 2 columns \[N, K\]",
    ),
    row("reliability n_bins='15'", lambda: calibration.reliability_data(P, Y, "15"), N_BINS),
    row(
        "reliability 1-D probs",
        lambda: calibration.reliability_data(P[0], Y),
        r"probs must be 2-D \[N, K\]",
    ),
    row(
        "fit_temperature nan logit",
        lambda: calibration.fit_temperature(Z_NAN, Y),
        r"logits must be finite, got a tensor containing nan",
    ),
    row(
        "fit_temperature bounds (0, 10)",
        lambda: calibration.fit_temperature(Z, Y, bounds=(0, 10)),
        r"bounds\[0\] \(the lowest temperature\) must be a finite number in \(0, inf\), got 0",
    ),
    row(
        "fit_temperature bounds reversed",
        lambda: calibration.fit_temperature(Z, Y, bounds=(10, 1)),
        r"bounds must be two finite numbers \(low, high\) with 0 < low < high",
    ),
    row(
        "fit_temperature bounds=5",
        lambda: calibration.fit_temperature(Z, Y, bounds=5),
        r"bounds must be two finite numbers \(low, high\) with 0 < low < high",
    ),
    row(
        "fit_temperature empty batch",
        lambda: calibration.fit_temperature(Z[:0], Y[:0]),
        r"logits must have at least one row",
    ),
    row(
        "fit_temperature tol=0",
        lambda: calibration.fit_temperature(Z, Y, tol=0),
        r"tol must be a finite number in \(0, 1\]",
    ),
    row(
        "fit_temperature float labels", lambda: calibration.fit_temperature(Z, Y_FLOAT), LABELS_INT
    ),
    row("fit_temperature label 4 of 4", lambda: calibration.fit_temperature(Z, Y_BIG), RANGE),
    row("temperature_scale T=0", lambda: calibration.temperature_scale(Z, 0.0), T_RANGE),
    row("temperature_scale T=inf", lambda: calibration.temperature_scale(Z, INF), T_RANGE),
    row("temperature_scale T='2'", lambda: calibration.temperature_scale(Z, "2"), T_RANGE),
    row(
        "temperature_scale inf logit",
        lambda: calibration.temperature_scale(Z_INF, 2.0),
        r"logits must be finite, got a tensor containing inf",
    ),
    row("summary float labels", lambda: calibration.calibration_summary(Z, Y_FLOAT), LABELS_INT),
    row(
        "summary nan logit",
        lambda: calibration.calibration_summary(Z_NAN, Y),
        r"logits must be finite",
    ),
    row("summary n_bins=0", lambda: calibration.calibration_summary(Z, Y, 0), N_BINS),
    row(
        "summary empty",
        lambda: calibration.calibration_summary(Z[:0], Y[:0]),
        r"logits must have at least one row",
    ),
    row("summary label -100", lambda: calibration.calibration_summary(Z, Y_IGNORE), IGNORE),
    row(
        "summary one class",
        lambda: calibration.calibration_summary(Z[:, :1], Y * 0),
        NUM_CLASSES,
    ),
    # selective prediction
    row(
        "msp 1-D logits",
        lambda: selective.max_softmax_probability(Z[0]),
        r"logits must be 2-D \[N, K\]",
    ),
    row(
        "msp nan logit",
        lambda: selective.max_softmax_probability(Z_NAN),
        r"logits must be finite",
    ),
    row(
        "risk_coverage lengths",
        lambda: selective.risk_coverage_curve(CONF, RIGHT[:3]),
        r"confidence and correct must have the same length, got 4 and 3",
    ),
    row(
        "risk_coverage correct=2",
        lambda: selective.risk_coverage_curve(CONF, torch.tensor([1, 2, 0, 1])),
        r"correct must be boolean \(or 0/1\)",
    ),
    row(
        "risk_coverage nan confidence",
        lambda: selective.risk_coverage_curve(torch.tensor([0.1, NAN, 0.2, 0.3]), RIGHT),
        r"confidence must not contain nan",
    ),
    row(
        "aurc empty",
        lambda: selective.aurc(torch.tensor([]), torch.tensor([])),
        r"confidence must hold at least one example",
    ),
    row(
        "aurc 2-D confidence",
        lambda: selective.aurc(torch.ones(2, 2), torch.ones(2, 2)),
        r"confidence must be 1-D \[N\]",
    ),
    row(
        "aurc string confidence",
        lambda: selective.aurc("high", RIGHT),
        r"confidence must be a tensor, got str",
    ),
    row(
        "optimal_aurc float correct 1.7",
        lambda: selective.optimal_aurc(torch.tensor([1.7, 0.0, 1.0])),
        r"correct must be boolean \(or 0/1\)",
    ),
    row(
        "optimal_aurc empty",
        lambda: selective.optimal_aurc(torch.tensor([])),
        r"correct must hold at least one example",
    ),
    row(
        "excess_aurc correct=-1",
        lambda: selective.excess_aurc(CONF, torch.tensor([1, -1, 0, 1])),
        r"correct must be boolean \(or 0/1\)",
    ),
    row(
        "failure_auroc all right",
        lambda: selective.failure_auroc(CONF, torch.ones(4, dtype=torch.bool)),
        r"correct must hold at least one positive and one negative example",
    ),
    row(
        "auroc no positive",
        lambda: selective.auroc(CONF, torch.zeros(4, dtype=torch.bool)),
        r"positive must hold at least one positive and one negative example",
    ),
    row(
        "auroc bool scores",
        lambda: selective.auroc(RIGHT, RIGHT),
        r"scores must be real numbers \[N\], got dtype torch.bool",
    ),
    row(
        "normalised_logit_confidence p=0.5",
        lambda: selective.normalised_logit_confidence(Z, 0.5),
        r"p must be a finite number in \[1, inf\), got 0.5",
    ),
    row(
        "normalised_logit_confidence nan logits",
        lambda: selective.normalised_logit_confidence(Z_NAN),
        r"logits must be finite, got a tensor containing nan",
    ),
    row(
        "normalised_logit_confidence centre='yes'",
        lambda: selective.normalised_logit_confidence(Z, centre="yes"),
        r"centre must be True or False, got 'yes'",
    ),
    row(
        "normalised_logit_confidence 1-D logits",
        lambda: selective.normalised_logit_confidence(Z[0]),
        r"logits must be 2-D \[N, K\]",
    ),
    row(
        "select_norm_p no ps",
        lambda: selective.select_norm_p(Z, Y > 0, ps=()),
        r"ps must name at least one p",
    ),
    row(
        "select_norm_p correct too short",
        lambda: selective.select_norm_p(Z, (Y > 0)[:3]),
        r"logits rows and correct must have the same length, got 6 and 3",
    ),
    row(
        "select_norm_p p=0 in ps",
        lambda: selective.select_norm_p(Z, Y > 0, ps=(0.0,)),
        r"p must be a finite number in \[1, inf\), got 0",
    ),
    row(
        "select_norm_p correct=2",
        lambda: selective.select_norm_p(Z, Y),
        r"correct must be boolean \(or 0/1\)",
    ),
    # privacy
    row("per_example_loss float labels", lambda: privacy.per_example_loss(Z, Y_FLOAT), LABELS_INT),
    row("per_example_loss label 4 of 4", lambda: privacy.per_example_loss(Z, Y_BIG), RANGE),
    row("per_example_loss label -100", lambda: privacy.per_example_loss(Z, Y_IGNORE), IGNORE),
    row(
        "per_example_loss 1-D logits",
        lambda: privacy.per_example_loss(Z[0], Y),
        r"logits must be 2-D \[N, K\]",
    ),
    row(
        "per_example_loss labels too short",
        lambda: privacy.per_example_loss(Z, Y[:2]),
        r"labels must have shape \[6\]",
    ),
    row(
        "per_example_loss nan logit",
        lambda: privacy.per_example_loss(Z_NAN, Y),
        r"logits must be finite",
    ),
    row(
        "membership_auc no members",
        lambda: privacy.membership_auc(torch.tensor([]), torch.ones(3)),
        r"member_loss must hold at least one loss",
    ),
    row(
        "membership_auc nan",
        lambda: privacy.membership_auc(torch.ones(3), torch.tensor([NAN])),
        r"nonmember_loss must not contain nan",
    ),
    row(
        "membership_advantage nan",
        lambda: privacy.membership_advantage(torch.tensor([NAN]), torch.ones(3)),
        r"member_loss must not contain nan",
    ),
    row(
        "membership_advantage string",
        lambda: privacy.membership_advantage("low", torch.ones(3)),
        r"member_loss must be a tensor, got str",
    ),
    # fairness
    row("per_class_accuracy of logits", lambda: fairness.per_class_accuracy(Z, Y), PROBS),
    row(
        "per_class_accuracy float labels",
        lambda: fairness.per_class_accuracy(P, Y_FLOAT),
        LABELS_INT,
    ),
    row("per_class_ece of logits", lambda: fairness.per_class_ece(Z, Y), PROBS),
    row("per_class_ece unnormalised", lambda: fairness.per_class_ece(P * 3, Y), PROBS),
    row("per_class_ece n_bins=0", lambda: fairness.per_class_ece(P, Y, 0), N_BINS),
    row("per_class_ece n_bins=15.0", lambda: fairness.per_class_ece(P, Y, 15.0), N_BINS),
    row("per_class_ece label -100", lambda: fairness.per_class_ece(P, Y_IGNORE), IGNORE),
    row(
        "per_class_deltas shapes",
        lambda: fairness.per_class_deltas(P, P5, Y),
        r"probs_a and probs_b \(the two models' probabilities\) must have the same shape",
    ),
    row(
        "per_class_deltas logits",
        lambda: fairness.per_class_deltas(Z, P, Y),
        r"probs_a must hold probabilities",
    ),
    # linear probe
    row(
        "fit_linear_probe nan features",
        lambda: probe.fit_linear_probe(_with(X, NAN), XY),
        r"features must be finite",
    ),
    row(
        "fit_linear_probe float labels",
        lambda: probe.fit_linear_probe(X, XY.float() + 0.5),
        r"labels must be an integer tensor",
    ),
    row(
        "fit_linear_probe l2=-1",
        lambda: probe.fit_linear_probe(X, XY, l2=-1.0),
        r"l2 must be a finite number in \[0, inf\), got -1",
    ),
    row(
        "fit_linear_probe max_iter=0",
        lambda: probe.fit_linear_probe(X, XY, max_iter=0),
        r"max_iter must be an integer >= 1, got 0",
    ),
    row(
        "fit_linear_probe K=1",
        lambda: probe.fit_linear_probe(X, XY * 0, 1),
        NUM_CLASSES,
    ),
    row(
        "fit_linear_probe one row",
        lambda: probe.fit_linear_probe(X[:1], XY[:1]),
        r"features must have at least 2 rows",
    ),
    row(
        "fit_linear_probe labels too short",
        lambda: probe.fit_linear_probe(X, XY[:3]),
        r"labels must hold one label per feature row",
    ),
    row(
        "fit_linear_probe integer features",
        lambda: probe.fit_linear_probe(X.long(), XY),
        r"features must be a floating-point tensor \[N, D\]",
    ),
    row(
        "LinearProbe.logits width",
        lambda: PROBE.logits(X[:, :2]),
        r"features must be \[N, 3\], got \(8, 2\)",
    ),
    row(
        "LinearProbe.accuracy label 9",
        lambda: PROBE.accuracy(X, XY + 7),
        r"labels must lie in \[0, 2\] for num_classes=3",
    ),
    row(
        "extract_features without .features",
        lambda: probe.extract_features(torch.nn.Linear(3, 3), X),
        r"model must be a torch.nn.Module with .features\(x\)",
    ),
    row(
        "extract_features batch_size=0",
        lambda: probe.extract_features(WithFeatures(), X, batch_size=0),
        r"batch_size must be an integer >= 1, got 0",
    ),
    row(
        "class_separation float labels",
        lambda: probe.class_separation(X, XY.float()),
        r"labels must be an integer tensor",
    ),
    row(
        "class_separation nan features",
        lambda: probe.class_separation(_with(X, NAN), XY),
        r"features must be finite",
    ),
    row(
        "class_separation constant features",
        lambda: probe.class_separation(torch.ones(8, 3), XY),
        r"features must vary in direction: all point the same way \(d_total is 0\)",
    ),
    row(
        "class_separation labels too short",
        lambda: probe.class_separation(X, XY[:2]),
        r"labels must hold one label per feature row",
    ),
    row(
        "template_distances D differs",
        lambda: representations.template_distances(torch.zeros(3, 2), torch.zeros(2, 3)),
        r"features \[N, D\] and templates \[K, D\] need the same D, got 2 and 3",
    ),
    row(
        "template_distances nan templates",
        lambda: representations.template_distances(torch.zeros(3, 2), torch.full((2, 2), NAN)),
        r"templates must be finite",
    ),
    row(
        "template_distances integer features",
        lambda: representations.template_distances(torch.zeros(3, 2).long(), torch.zeros(2, 2)),
        r"features must be a floating-point tensor \[N, D\], got torch.int64",
    ),
    row(
        "wrong_class_spread label 4 of 4",
        lambda: representations.wrong_class_spread(Z, Y_BIG),
        RANGE,
    ),
    row(
        "wrong_class_spread labels too short",
        lambda: representations.wrong_class_spread(Z, Y[:3]),
        r"labels must have shape \[6\], got \(3,\)",
    ),
    row(
        "wrong_class_spread inf scores",
        lambda: representations.wrong_class_spread(Z_INF, Y),
        r"scores must be finite",
    ),
    row(
        "plot_intervals lengths differ",
        lambda: plots.plot_intervals([1, 2], [IV]),
        r"x and intervals must have the same length, got 2 and 1",
    ),
    row(
        "plot_intervals tuples not Interval",
        lambda: plots.plot_intervals([1], [(0.0, -1.0, 1.0)]),
        r"intervals must be a non-empty sequence of lsutils.stats.Interval",
    ),
    row(
        "plot_intervals offset=0",
        lambda: plots.plot_intervals([1], [IV], offset=0),
        r"offset must be a finite number in \(0, inf\)",
    ),
    row(
        "plot_intervals x nan",
        lambda: plots.plot_intervals([NAN], [IV]),
        r"x must be a finite number",
    ),
    # distillation
    row(
        "neighbour_class_probs k > reference rows",
        lambda: distill.neighbour_class_probs(XQ, XR, YR, 2, k=5),
        r"k must be at most the number of reference rows \(4\), got 5",
    ),
    row(
        "neighbour_class_probs integer query",
        lambda: distill.neighbour_class_probs(XQ.long(), XR, YR, 2),
        r"x_query must be a floating-point tensor \[N, \.\.\.\], got torch.int64",
    ),
    row(
        "neighbour_class_probs sizes differ",
        lambda: distill.neighbour_class_probs(torch.randn(3, 3), XR, YR, 2),
        r"query and reference inputs differ in size: 3 and 2",
    ),
    row(
        "neighbour_class_probs labels too short",
        lambda: distill.neighbour_class_probs(XQ, XR, YR[:3], 2),
        r"got 4 reference rows but 3 reference labels",
    ),
    row(
        "neighbour_class_probs label 2 of 2",
        lambda: distill.neighbour_class_probs(XQ, XR, torch.tensor([0, 1, 0, 2]), 2),
        r"labels must lie in \[0, 1\] for num_classes=2, got values in \[0, 2\]",
    ),
    row(
        "similarity_rank_correlation shapes differ",
        lambda: distill.similarity_rank_correlation(S3, torch.rand(4, 4)),
        r"the matrices differ in shape: \(3, 3\) and \(4, 4\)",
    ),
    row(
        "similarity_rank_correlation not square",
        lambda: distill.similarity_rank_correlation(S3[:, :2], S3[:, :2]),
        r"similarity must be a square tensor \[K, K\]",
    ),
    row(
        "similarity_rank_correlation K=2",
        lambda: distill.similarity_rank_correlation(S3[:2, :2], S3[:2, :2]),
        r"a rank correlation needs at least 3 classes",
    ),
    row(
        "similarity_rank_correlation constant",
        lambda: distill.similarity_rank_correlation(torch.ones(3, 3), S3),
        r"a matrix with the same value for every class pair has no ranking",
    ),
    row(
        "similarity_rank_correlation nan reference",
        lambda: distill.similarity_rank_correlation(S3, torch.full((3, 3), NAN)),
        r"reference contains nan or inf",
    ),
    row("soft_targets T=0", lambda: distill.soft_targets(Z, 0), T_RANGE),
    row("soft_targets T=inf", lambda: distill.soft_targets(Z, INF), T_RANGE),
    row("soft_targets T='2'", lambda: distill.soft_targets(Z, "2"), T_RANGE),
    row("distillation_loss T=inf", lambda: distill.distillation_loss(Z, Z, INF), T_RANGE),
    row("distillation_loss T=nan", lambda: distill.distillation_loss(Z, Z, NAN), T_RANGE),
    row(
        "distillation_loss hard_weight=1.5",
        lambda: distill.distillation_loss(Z, Z, 2.0, hard_weight=1.5),
        r"hard_weight must be a finite number in \[0, 1\], got 1.5",
    ),
    row(
        "distillation_loss no labels",
        lambda: distill.distillation_loss(Z, Z, 2.0, hard_weight=0.5),
        r"hard_weight > 0 needs the hard labels",
    ),
    row(
        "distillation_loss shapes",
        lambda: distill.distillation_loss(Z, Z[:, :3], 2.0),
        r"student_logits and teacher_logits must have the same shape",
    ),
    row(
        "distillation_loss float labels",
        lambda: distill.distillation_loss(Z, Z, 2.0, Y_FLOAT, 0.5),
        LABELS_INT,
    ),
    row("wrong_class_probs of logits", lambda: distill.wrong_class_probs(Z, Y), PROBS),
    row(
        "wrong_class_entropy labels too short",
        lambda: distill.wrong_class_entropy(P, Y[:2]),
        r"labels must have shape \[6\]",
    ),
    row(
        "class_similarity unnormalised",
        lambda: distill.class_similarity_from_probs(P * 2, Y),
        PROBS,
    ),
    row("confusion_similarity K=1", lambda: distill.confusion_similarity(Y, Y, 1), NUM_CLASSES),
    row(
        "confusion_similarity float predictions",
        lambda: distill.confusion_similarity(Y.float(), Y, 4),
        r"predictions must be an integer tensor of class indices",
    ),
    row(
        "confusion_similarity lengths",
        lambda: distill.confusion_similarity(Y, Y[:3], 4),
        r"predictions and labels must have the same length, got 6 and 3",
    ),
    # value targets
    row(
        "uniform_bins num_bins=10.5",
        lambda: value_targets.uniform_bins(0, 1, 10.5),
        r"num_bins must be an integer >= 2",
    ),
    row(
        "uniform_bins num_bins=True",
        lambda: value_targets.uniform_bins(0, 1, True),
        r"num_bins must be an integer >= 2",
    ),
    row(
        "uniform_bins high=inf",
        lambda: value_targets.uniform_bins(0, INF, 10),
        r"high must be a finite number",
    ),
    row(
        "uniform_bins low > high",
        lambda: value_targets.uniform_bins(1, 0, 10),
        r"low must be below high",
    ),
    row(
        "bin_centers two edges",
        lambda: value_targets.bin_centers(torch.tensor([0.0, 1.0])),
        r"edges must be a 1-D tensor with at least 3 entries",
    ),
    row(
        "bin_centers unsorted",
        lambda: value_targets.bin_centers(torch.tensor([0.0, 2.0, 1.0])),
        r"edges must be strictly increasing, got edges\[2\] = 1 after edges\[1\] = 2",
    ),
    row(
        "one_hot_bins 2-D y",
        lambda: value_targets.one_hot_bins(torch.zeros(2, 2), EDGES),
        r"y must be 1-D \[N\]",
    ),
    row(
        "one_hot_bins nan y",
        lambda: value_targets.one_hot_bins(torch.tensor([NAN]), EDGES),
        r"y must not contain nan",
    ),
    row(
        "two_hot bool y",
        lambda: value_targets.two_hot(torch.tensor([True]), CENTERS),
        r"y must be a real tensor of scalar targets",
    ),
    row(
        "two_hot one centre",
        lambda: value_targets.two_hot(torch.zeros(2), torch.tensor([1.0])),
        r"centers must be a 1-D tensor with at least 2 entries",
    ),
    row(
        "hl_gauss sigma=0",
        lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, 0.0),
        r"sigma must be a finite number in \(0, inf\)",
    ),
    row(
        "hl_gauss sigma='wide'",
        lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, "wide"),
        r"sigma must be a finite number in \(0, inf\)",
    ),
    row(
        "hl_gauss sigma=nan",
        lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, NAN),
        r"sigma must be a finite number in \(0, inf\)",
    ),
    row(
        "hl_gauss sigma=inf",
        lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, INF),
        r"sigma must be a finite number in \(0, inf\)",
    ),
    row(
        "hl_gauss sigma=1.7e308",
        lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, 1.7e308),
        r"sigma=1.7e\+308 is too extreme for these bins",
    ),
    row(
        "hl_gauss infinite edge",
        lambda: value_targets.hl_gauss(torch.zeros(2), torch.tensor([0.0, INF, 2.0]), 1.0),
        r"edges must be finite",
    ),
    row(
        "expected_value width",
        lambda: value_targets.expected_value(torch.zeros(3, 5), CENTERS),
        r"logits have 5 columns but there are 20 bin centres",
    ),
    row(
        "expected_value integer logits",
        lambda: value_targets.expected_value(torch.zeros(3, 20, dtype=torch.long), CENTERS),
        r"logits must be a floating-point tensor \[N, B\]",
    ),
    row(
        "expected_value nan logit",
        lambda: value_targets.expected_value(_with(torch.zeros(3, 20), NAN), CENTERS),
        r"logits must be finite",
    ),
    # data
    row(
        "load_fashion_mnist split 'val'",
        lambda: data.load_fashion_mnist("val"),
        r"split must be one of \('train', 'test'\), got 'val'",
    ),
    row(
        "load_fashion_mnist root=5",
        lambda: data.load_fashion_mnist("train", root=5),
        r"root must be a path \(str or os.PathLike\) or None, got 5",
        TypeError,
    ),
    row(
        "fashion_tensors split",
        lambda: data.fashion_tensors("validation"),
        r"split must be one of \('train', 'test'\)",
    ),
    row(
        "label_noise rate=1.5",
        lambda: data.symmetric_label_noise(Y, 1.5, 4),
        r"rate must be a finite number in \[0, 1\], got 1.5",
    ),
    row(
        "label_noise rate='0.1'",
        lambda: data.symmetric_label_noise(Y, "0.1", 4),
        r"rate must be a finite number in \[0, 1\]",
    ),
    row(
        "label_noise float labels",
        lambda: data.symmetric_label_noise(Y_FLOAT, 0.1, 4),
        LABELS_INT,
    ),
    row(
        "label_noise seed=-1",
        lambda: data.symmetric_label_noise(Y, 0.1, 4, seed=-1),
        r"seed must be an integer >= 0, got -1",
    ),
    row(
        "label_noise labels beyond K",
        lambda: data.symmetric_label_noise(Y, 0.1, 3),
        r"labels must lie in \[0, 2\] for num_classes=3",
    ),
    row("label_noise K=1", lambda: data.symmetric_label_noise(Y * 0, 0.1, 1), NUM_CLASSES),
    # cifar
    row(
        "cifar_available root=3",
        lambda: cifar.cifar_available(3),
        r"root must be a path \(str or os.PathLike\) or None, got 3",
        TypeError,
    ),
    row(
        "data_source root=None",
        lambda: cifar.data_source(None),
        r"root must be a path \(str or os.PathLike\), got None",
        TypeError,
    ),
    row(
        "write_synthetic n_train=7",
        lambda: cifar.write_synthetic_cifar10("/nonexistent/c10", n_train=7),
        r"n_train must be a multiple of 5 \(five batches\), got 7",
    ),
    row(
        "write_synthetic n_test=0",
        lambda: cifar.write_synthetic_cifar10("/nonexistent/c10", n_train=10, n_test=0),
        r"n_test must be an integer >= 1, got 0",
    ),
    row(
        "write_synthetic n_train=10.0",
        lambda: cifar.write_synthetic_cifar10("/nonexistent/c10", n_train=10.0),
        r"n_train must be an integer >= 5",
    ),
    row(
        "resolve_root allow_synthetic='yes'",
        lambda: cifar.resolve_root(allow_synthetic="yes"),
        r"allow_synthetic must be True or False",
    ),
    row(
        "load_cifar10 split 'val'",
        lambda: cifar.load_cifar10(split="val"),
        r"split must be one of \('train', 'test'\)",
    ),
    row(
        "load_cifar10 download=1",
        lambda: cifar.load_cifar10(download=1),
        r"download must be True or False, got 1",
    ),
    row(
        "augment_batch float images",
        lambda: cifar.augment_batch(U8.float(), torch.Generator()),
        r"x must be a uint8 batch of images \[B, C, H, W\]",
    ),
    row(
        "augment_batch generator",
        lambda: cifar.augment_batch(U8, 0),
        r"generator must be a torch.Generator on x's device",
    ),
    row(
        "augment_batch pad=-1",
        lambda: cifar.augment_batch(U8, torch.Generator(), pad=-1),
        r"pad must be an integer >= 0, got -1",
    ),
    row(
        "augment_batch flip='no'",
        lambda: cifar.augment_batch(U8, torch.Generator(), flip="no"),
        r"flip must be True or False",
    ),
    row(
        "prepare_batch size=0",
        lambda: cifar.prepare_batch(U8, size=0),
        r"size must be an integer >= 1, got 0",
    ),
    row(
        "prepare_batch two means",
        lambda: cifar.prepare_batch(U8, mean=(0.5, 0.5)),
        r"mean must be 3 finite numbers \(one per channel\)",
    ),
    row(
        "prepare_batch std=0",
        lambda: cifar.prepare_batch(U8, std=(0.2, 0.0, 0.2)),
        r"std must be positive \(one value per channel\)",
    ),
    row(
        "prepare_batch float images",
        lambda: cifar.prepare_batch(U8.float()),
        r"x must be a uint8 batch of images",
    ),
    row(
        "prepare_batch channels_last=None",
        lambda: cifar.prepare_batch(U8, channels_last=None),
        r"channels_last must be True or False",
    ),
    # profiles
    row(
        "select_profile 'fast'",
        lambda: profiles.select_profile("fast"),
        r"value \(LSUTILS_PROFILE\) must be one of \('auto', 'full', 'smoke'\), got 'fast'",
    ),
    row(
        "select_profile 3",
        lambda: profiles.select_profile(3),
        r"value \(LSUTILS_PROFILE\) must be one of",
    ),
    row(
        "select_profile cuda_available=True",
        lambda: profiles.select_profile("auto", cuda_available=True),
        r"cuda_available must be a function returning a bool",
    ),
    row(
        "get_profile 'gpu'",
        lambda: profiles.get_profile("gpu"),
        r"value \(LSUTILS_PROFILE\) must be one of",
    ),
    # character model
    row(
        "stdlib_corpus max_chars=0",
        lambda: charlm.stdlib_corpus(max_chars=0),
        r"max_chars must be an integer >= 1, got 0",
    ),
    row(
        "stdlib_corpus modules='re'",
        lambda: charlm.stdlib_corpus("re"),
        r"modules must be a tuple of module names",
    ),
    row(
        "Vocabulary.from_text empty",
        lambda: charlm.Vocabulary.from_text(""),
        r"text must be a non-empty string",
    ),
    row(
        "Vocabulary repeated chars",
        lambda: charlm.Vocabulary("aab"),
        r"chars must not repeat a character",
    ),
    row(
        "Vocabulary.encode unknown char",
        lambda: charlm.Vocabulary("ab").encode("abc"),
        r"character 'c' is not in the vocabulary",
    ),
    row(
        "Vocabulary.encode non-string",
        lambda: charlm.Vocabulary("ab").encode(5),
        r"text must be a string, got int",
    ),
    row(
        "context_windows too short",
        lambda: charlm.context_windows(torch.arange(3), 5),
        r"ids must be longer than context=5",
    ),
    row(
        "context_windows context=0",
        lambda: charlm.context_windows(torch.arange(10), 0),
        r"context must be an integer >= 1, got 0",
    ),
    row(
        "context_windows float ids",
        lambda: charlm.context_windows(torch.arange(10.0), 2),
        r"ids must be an integer tensor",
    ),
    row(
        "CharMLP vocab_size=1", lambda: charlm.CharMLP(1, 4), r"vocab_size must be an integer >= 2"
    ),
    row("CharMLP context=2.5", lambda: charlm.CharMLP(10, 2.5), r"context must be an integer >= 1"),
    row(
        "train_char_mlp alpha=1",
        lambda: charlm.train_char_mlp(IDS, NEXT, 3, alpha=1.0),
        r"alpha must lie in \[0, 1\)",
    ),
    row(
        "train_char_mlp alpha=True",
        lambda: charlm.train_char_mlp(IDS, NEXT, 3, alpha=True),
        ALPHA_NUMBER,
    ),
    row(
        "train_char_mlp steps=-1",
        lambda: charlm.train_char_mlp(IDS, NEXT, 3, steps=-1),
        r"steps must be an integer >= 0, got -1",
    ),
    row(
        "train_char_mlp id beyond vocabulary",
        lambda: charlm.train_char_mlp(IDS, NEXT + 3, 3),
        r"y must lie in \[0, 2\] for num_classes=3",
    ),
    row(
        "train_char_mlp float windows",
        lambda: charlm.train_char_mlp(IDS.float(), NEXT, 3),
        r"x must hold integer character ids",
    ),
    row(
        "train_char_mlp lr=0",
        lambda: charlm.train_char_mlp(IDS, NEXT, 3, lr=0),
        r"lr must be a finite number in \(0, inf\)",
    ),
    row(
        "evaluate_char_model not a model",
        lambda: charlm.evaluate_char_model("model", IDS, NEXT),
        r"model must be a torch.nn.Module, got str",
    ),
    row(
        "evaluate_char_model id beyond vocabulary",
        lambda: charlm.evaluate_char_model(charlm.CharMLP(3, 2), IDS, NEXT + 5),
        r"y must lie in \[0, 2\]",
    ),
    # GAN
    row(
        "ring_centers num_modes=0",
        lambda: gan.ring_centers(0),
        r"num_modes must be an integer >= 1",
    ),
    row(
        "ring_centers radius=-1",
        lambda: gan.ring_centers(8, -1.0),
        r"radius must be a finite number in \(0, inf\)",
    ),
    row(
        "sample_ring n=0",
        lambda: gan.sample_ring(0, torch.Generator()),
        r"n must be an integer >= 1, got 0",
    ),
    row(
        "sample_ring generator='seed'",
        lambda: gan.sample_ring(5, "seed"),
        r"generator must be a torch.Generator",
    ),
    row(
        "sample_ring std=0",
        lambda: gan.sample_ring(5, torch.Generator(), std=0),
        r"std must be a finite number in \(0, inf\)",
    ),
    row(
        "train_gan real_target=1.1",
        lambda: gan.train_gan(1.1, 0.0, steps=1),
        r"real_target must be a finite number in \[0, 1\], got 1.1",
    ),
    row(
        "train_gan equal targets",
        lambda: gan.train_gan(0.5, 0.5, steps=1),
        r"fake_target must be below real_target",
    ),
    row(
        "train_gan steps=1.5",
        lambda: gan.train_gan(steps=1.5),
        r"steps must be an integer >= 0",
    ),
    row(
        "train_gan lr=inf",
        lambda: gan.train_gan(steps=1, lr=INF),
        r"lr must be a finite number in \(0, inf\)",
    ),
    row(
        "train_gan radius=-2",
        lambda: gan.train_gan(steps=1, radius=-2.0),
        r"radius must be a finite number in \(0, inf\)",
    ),
    row(
        "train_gan unknown keyword",
        lambda: gan.train_gan(steps=1, modes=8),
        r"train_gan got unexpected keyword arguments \['modes'\]",
        TypeError,
    ),
    row("GanResult.sample n=0", lambda: tiny_gan().sample(0), r"n must be an integer >= 1"),
    row(
        "mode_coverage columns",
        lambda: gan.mode_coverage(torch.zeros(3, 3), gan.ring_centers(), 0.05),
        r"samples must have 2 columns \[n, 2\]",
    ),
    row(
        "mode_coverage std=0",
        lambda: gan.mode_coverage(torch.zeros(3, 2), gan.ring_centers(), 0),
        r"std must be a finite number in \(0, inf\)",
    ),
    row(
        "mode_coverage min_share=2",
        lambda: gan.mode_coverage(torch.zeros(3, 2), gan.ring_centers(), 0.05, min_share=2),
        r"min_share must be a finite number in \[0, 1\]",
    ),
    row(
        "mode_coverage nan samples",
        lambda: gan.mode_coverage(_with(torch.zeros(3, 2), NAN), gan.ring_centers(), 0.05),
        r"samples must be finite",
    ),
    row(
        "energy_distance columns",
        lambda: gan.energy_distance(torch.zeros(3, 2), torch.zeros(3, 3)),
        r"y must have 2 columns",
    ),
    row(
        "energy_distance empty",
        lambda: gan.energy_distance(torch.zeros(0, 2), torch.zeros(3, 2)),
        r"x must have at least one row",
    ),
    row(
        "train_discriminator targets",
        lambda: gan.train_discriminator(torch.zeros(2, 2), torch.zeros(2, 2), 0.2, 0.3),
        r"fake_target must be below real_target",
    ),
    row(
        "train_discriminator columns",
        lambda: gan.train_discriminator(torch.zeros(2, 2), torch.zeros(2, 3)),
        r"fake must have 2 columns",
    ),
    row(
        "train_discriminator steps=-1",
        lambda: gan.train_discriminator(torch.zeros(2, 2), torch.ones(2, 2), steps=-1),
        r"steps must be an integer >= 0",
    ),
    # representations
    row("logit_gaps float labels", lambda: representations.logit_gaps(Z, Y_FLOAT), LABELS_INT),
    row(
        "logit_gaps inf logit",
        lambda: representations.logit_gaps(Z_INF, Y),
        r"logits must be finite",
    ),
    row(
        "logit_gaps labels too short",
        lambda: representations.logit_gaps(Z, Y[:2]),
        r"labels must have shape \[6\]",
    ),
    row("logit_gaps label -100", lambda: representations.logit_gaps(Z, Y_IGNORE), IGNORE),
    row(
        "template_plane two templates",
        lambda: representations.template_plane_projection(X[:, :2], W[:2, :2]),
        r"templates must have shape \[3, D\]",
    ),
    row(
        "template_plane feature width",
        lambda: representations.template_plane_projection(X, W),
        r"features must have shape \[N, 5\]",
    ),
    row(
        "template_plane collinear",
        lambda: representations.template_plane_projection(
            W, torch.stack([W[0], W[1], 2 * W[1] - W[0]])
        ),
        r"templates are degenerate",
    ),
    row(
        "cluster_geometry two classes",
        lambda: representations.cluster_geometry(COORDS, THREE % 2, VERTS),
        r"labels must contain each of the classes 0, 1, 2",
    ),
    row(
        "cluster_geometry float labels",
        lambda: representations.cluster_geometry(COORDS, THREE.float(), VERTS),
        r"labels must be an integer tensor",
    ),
    row(
        "cluster_geometry 3-D coords",
        lambda: representations.cluster_geometry(torch.zeros(9, 3), THREE, VERTS),
        r"coords must have shape \[N, 2\]",
    ),
    row(
        "cluster_geometry two vertices",
        lambda: representations.cluster_geometry(COORDS, THREE, VERTS[:2]),
        r"vertices must have shape \[3, 2\]",
    ),
    # plots
    row("reliability_diagram of logits", lambda: plots.reliability_diagram(Z, Y), PROBS),
    row("reliability_diagram n_bins=0", lambda: plots.reliability_diagram(P, Y, 0), N_BINS),
    row("confidence_histogram of logits", lambda: plots.confidence_histogram(Z), PROBS),
    row(
        "confidence_histogram bins=0",
        lambda: plots.confidence_histogram(P, bins=0),
        r"bins must be an integer >= 1, got 0",
    ),
    row(
        "logit_gap_histogram float labels",
        lambda: plots.logit_gap_histogram(Z, Y_FLOAT),
        LABELS_INT,
    ),
    row(
        "logit_gap_histogram bins=0",
        lambda: plots.logit_gap_histogram(Z, Y, bins=0),
        r"bins must be an integer >= 1",
    ),
    row(
        "plot_template_projection names",
        lambda: plots.plot_template_projection(COORDS, THREE, VERTS, class_names=["a"]),
        r"class_names must name the 3 classes",
    ),
    row(
        "plot_template_projection max_points=0",
        lambda: plots.plot_template_projection(COORDS, THREE, VERTS, max_points=0),
        r"max_points must be an integer >= 1, got 0",
    ),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input_gets_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_table_is_large_and_has_unique_rows():
    assert len(BAD) >= 100
    ids = [p.id for p in BAD]
    assert len(ids) == len(set(ids))


PUBLIC_MODULES = (
    targets, losses, floor, gradients, calibration, selective, privacy, fairness, probe, distill,
    value_targets, data, cifar, profiles, charlm, gan, representations, plots,
)  # fmt: skip


def test_every_public_function_has_a_row():
    """Each function in a module's __all__ (and each public method of its classes) appears in the
    table, by name, in at least one row's id."""
    ids = " ".join(p.id for p in BAD)
    exempt = {  # no argument a user could get wrong, or constants
        "default_cifar_root", "synthetic_cifar_root", "synthetic_reader", "K", "alpha",
        "FASHION_CLASSES", "FASHION_MEAN", "FASHION_STD", "DEBIAN_DIR", "FASHION_MD5",
        "CIFAR10_CLASSES", "IMAGENET_MEAN", "IMAGENET_STD", "PROFILES", "Profile", "LinearProbe",
        "GanResult", "gradient_derivation",
        # the seed ensembles of charlm and gan: rows in tests/test_bad_inputs_core.py
        "StackedCharMLP", "train_char_mlps", "evaluate_char_models", "GanEnsemble", "train_gans",
    }  # fmt: skip
    short = {
        "smoothed_cross_entropy": "loss", "cross_entropy_from_targets": "ce_from_targets",
        "expected_calibration_error": "ece", "max_calibration_error": "mce",
        "negative_log_likelihood": "nll", "brier_score": "brier", "reliability_data": "reliability",
        "calibration_summary": "summary", "max_softmax_probability": "msp",
        "risk_coverage_curve": "risk_coverage", "symmetric_label_noise": "label_noise",
        "class_similarity_from_probs": "class_similarity",
        "write_synthetic_cifar10": "write_synthetic",
        "template_plane_projection": "template_plane",
    }  # fmt: skip
    missing = [
        f"{module.__name__}.{name}"
        for module in PUBLIC_MODULES
        for name in module.__all__
        if name not in exempt and short.get(name, name) not in ids
    ]
    assert not missing, missing
    assert (
        "gradient_derivation" in ids and "LinearProbe.logits" in ids and "GanResult.sample" in ids
    )


# Valid inputs that must be accepted (the issue found some rejected).
GOOD = [
    pytest.param(
        lambda dtype=dtype: calibration.expected_calibration_error(P.to(dtype), Y),
        id=f"ece of {dtype} softmax",
    )
    for dtype in (torch.bfloat16, torch.float16)
] + [
    pytest.param(
        lambda: calibration.expected_calibration_error(P, Y, np.int64(10)), id="np n_bins"
    ),
    pytest.param(lambda: calibration.calibration_summary(Z, Y, np.int32(5)), id="np summary bins"),
    pytest.param(
        lambda: calibration.expected_calibration_error(P.tolist(), Y.tolist()), id="lists"
    ),
    pytest.param(
        lambda: calibration.brier_score(
            torch.randn(50, 1000).softmax(1).half(), torch.zeros(50).long()
        ),
        id="fp16 probs, K=1000",
    ),
    pytest.param(lambda: fairness.per_class_ece(P.bfloat16(), Y), id="per_class_ece bf16"),
    pytest.param(lambda: distill.wrong_class_entropy(P.half(), Y), id="wrong_class_entropy fp16"),
    pytest.param(
        lambda: targets.smooth_targets(Y.numpy(), np.int64(4), np.float32(0.1)), id="numpy"
    ),
    pytest.param(lambda: floor.loss_floor(np.int64(10), np.float64(0.1)), id="np loss_floor"),
    pytest.param(lambda: value_targets.uniform_bins(0, 1, np.int64(10)), id="np num_bins"),
    pytest.param(lambda: charlm.context_windows(torch.arange(10), np.int64(3)), id="np context"),
    pytest.param(
        lambda: calibration.fit_temperature(Z, Y, bounds=[0.1, 5], tol=1e-3), id="list bounds"
    ),
    pytest.param(lambda: selective.aurc([0.9, 0.1], [1, 0]), id="aurc lists"),
    pytest.param(lambda: calibration.temperature_scale(Z, np.float32(2.0)), id="np temperature"),
    pytest.param(lambda: distill.soft_targets(Z, 1e-30), id="tiny temperature"),
    pytest.param(lambda: value_targets.hl_gauss(torch.zeros(2), EDGES, 1e20), id="huge sigma"),
]


@pytest.mark.parametrize("call", GOOD)
def test_valid_input_is_accepted(call):
    out = call()
    values = out.values() if isinstance(out, dict) else out if isinstance(out, tuple) else [out]
    for v in values:
        assert torch.isfinite(torch.as_tensor(v, dtype=torch.float64)).all()


def test_extreme_but_valid_settings_give_finite_answers():
    # the NaN results: a huge HL-Gauss width gives flat-by-width bins, a tiny temperature
    # one-hot teacher rows
    flat = value_targets.hl_gauss(torch.tensor([0.3]), EDGES, 1e20)
    torch.testing.assert_close(flat, torch.full((1, 20), 0.05, dtype=torch.float64))
    hard = distill.soft_targets(Z, 1e-30)
    torch.testing.assert_close(hard, torch.nn.functional.one_hot(Z.argmax(1), 4).float())
    loss = distill.distillation_loss(Z, Z + 0.5, 1e3)
    assert torch.isfinite(loss)


@pytest.mark.parametrize("convention", ["uniform", "others"])
def test_ignore_index_is_never_dropped_silently_even_without_validation(convention):
    """validate=False skips the range check, but -100 still fails (inside torch) rather than being
    skipped as torch's ignore_index."""
    with pytest.raises((IndexError, RuntimeError), match="out of bounds"):
        losses.smoothed_cross_entropy(Z, Y_IGNORE, 0.1, convention, validate=False)
