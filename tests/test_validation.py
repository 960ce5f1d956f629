"""One test per bad input: every public core function raises ValueError with a message that says
what is allowed."""

import math

import numpy as np
import pytest
import torch

from lsutils import (
    convert_alpha,
    cross_entropy_from_targets,
    floor_expr,
    gap_expr,
    logit_gradient,
    loss_floor,
    optimal_logit_gap,
    smooth_targets,
    smoothed_cross_entropy,
    target_probs,
)
from lsutils.gradients import gradient_derivation

LOGITS = torch.zeros(3, 4)
LABELS = torch.tensor([0, 1, 3])
TARGETS = torch.full((3, 4), 0.25)

# Functions taking (alpha) in a fixed context, for the alpha checks.
ALPHA_FUNCS = {
    "smooth_targets": lambda a: smooth_targets(LABELS, 4, a),
    "target_probs": lambda a: target_probs(4, a),
    "convert_alpha": lambda a: convert_alpha(a, 4, "uniform", "others"),
    "smoothed_cross_entropy": lambda a: smoothed_cross_entropy(LOGITS, LABELS, a),
    "loss_floor": lambda a: loss_floor(4, a),
    "optimal_logit_gap": lambda a: optimal_logit_gap(4, a),
}
# Functions taking (num_classes) in a fixed context.
K_FUNCS = {
    "smooth_targets": lambda k: smooth_targets(torch.tensor([0]), k, 0.1),
    "target_probs": lambda k: target_probs(k, 0.1),
    "convert_alpha": lambda k: convert_alpha(0.1, k, "uniform", "others"),
    "loss_floor": lambda k: loss_floor(k, 0.1),
    "optimal_logit_gap": lambda k: optimal_logit_gap(k, 0.1),
    "gradient_derivation": gradient_derivation,
}
CONVENTION_FUNCS = {
    "smooth_targets": lambda c: smooth_targets(LABELS, 4, 0.1, c),
    "target_probs": lambda c: target_probs(4, 0.1, c),
    "convert_alpha source": lambda c: convert_alpha(0.1, 4, c, "uniform"),
    "convert_alpha target": lambda c: convert_alpha(0.1, 4, "uniform", c),
    "smoothed_cross_entropy": lambda c: smoothed_cross_entropy(LOGITS, LABELS, 0.1, c),
    "loss_floor": lambda c: loss_floor(4, 0.1, c),
    "optimal_logit_gap": lambda c: optimal_logit_gap(4, 0.1, c),
    "floor_expr": floor_expr,
    "gap_expr": gap_expr,
}
LABEL_FUNCS = {
    "smooth_targets": lambda y: smooth_targets(y, 4, 0.1),
    "smoothed_cross_entropy": lambda y: smoothed_cross_entropy(torch.zeros(len(y), 4), y, 0.1),
}
LOGIT_FUNCS = {
    "smoothed_cross_entropy": lambda z: smoothed_cross_entropy(z, LABELS, 0.1),
    "cross_entropy_from_targets": lambda z: cross_entropy_from_targets(z, TARGETS),
    "logit_gradient": lambda z: logit_gradient(z, TARGETS),
}
TARGET_FUNCS = {
    "cross_entropy_from_targets": lambda t: cross_entropy_from_targets(LOGITS, t),
    "logit_gradient": lambda t: logit_gradient(LOGITS, t),
}


@pytest.mark.parametrize("name", ALPHA_FUNCS)
@pytest.mark.parametrize("bad", [1.5, 1 + 1e-9, math.inf, -math.inf])
def test_alpha_above_range(name, bad):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        ALPHA_FUNCS[name](bad)


@pytest.mark.parametrize("name", ALPHA_FUNCS)
def test_alpha_nan(name):
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\], got nan"):
        ALPHA_FUNCS[name](math.nan)


@pytest.mark.parametrize("name", ALPHA_FUNCS)
@pytest.mark.parametrize("bad", ["0.1x", None, torch.tensor([0.1, 0.2])])
def test_alpha_not_a_number(name, bad):
    with pytest.raises(ValueError, match="alpha must be a number"):
        ALPHA_FUNCS[name](bad)


@pytest.mark.parametrize("name", ["smooth_targets", "target_probs", "smoothed_cross_entropy"])
def test_negative_alpha_points_to_allow_negative(name):
    with pytest.raises(ValueError, match=r"got -0.1; negative smoothing needs allow_negative=True"):
        ALPHA_FUNCS[name](-0.1)


@pytest.mark.parametrize("name", ["loss_floor", "optimal_logit_gap"])
def test_negative_alpha_has_no_floor(name):
    # These functions have no allow_negative: the message must not point to one.
    with pytest.raises(ValueError, match="negative smoothing has no loss floor") as info:
        ALPHA_FUNCS[name](-0.1)
    assert "allow_negative" not in str(info.value)


def test_negative_alpha_convert_alpha():
    with pytest.raises(ValueError, match=r"convert_alpha takes a smoothing strength in \[0, 1\]"):
        convert_alpha(-0.1, 4, "uniform", "others")


@pytest.mark.parametrize(
    "call",
    [
        lambda: smooth_targets(LABELS, 4, -1.5, allow_negative=True),
        lambda: target_probs(4, -1.01, allow_negative=True),
        lambda: smoothed_cross_entropy(LOGITS, LABELS, -2.0, allow_negative=True),
    ],
)
def test_alpha_below_negative_range(call):
    with pytest.raises(ValueError, match=r"alpha must be in \[-1, 1\]"):
        call()


@pytest.mark.parametrize("name", K_FUNCS)
@pytest.mark.parametrize("bad", [1, 0, -3])
def test_num_classes_too_small(name, bad):
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        K_FUNCS[name](bad)


@pytest.mark.parametrize("name", K_FUNCS)
@pytest.mark.parametrize("bad", [2.5, 10.0, "10", None, True, False])
def test_num_classes_not_an_integer(name, bad):
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        K_FUNCS[name](bad)


def test_num_classes_numpy_integer_is_accepted():
    assert target_probs(np.int64(4), 0.2) == pytest.approx((0.85, 0.05))


@pytest.mark.parametrize("name", LABEL_FUNCS)
@pytest.mark.parametrize(
    "bad, shown", [([0, 4], r"\[0, 4\]"), ([-1, 2], r"\[-1, 2\]"), ([7], r"\[7, 7\]")]
)
def test_labels_out_of_range(name, bad, shown):
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 3\] for num_classes=4, got values in " + shown
    ):
        LABEL_FUNCS[name](torch.tensor(bad))


@pytest.mark.parametrize("name", LABEL_FUNCS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bool])
def test_labels_wrong_dtype(name, dtype):
    with pytest.raises(ValueError, match="labels must be an integer tensor of class indices"):
        LABEL_FUNCS[name](torch.tensor([0, 1]).to(dtype))


def test_labels_float_list():
    with pytest.raises(ValueError, match="integer tensor"):
        smooth_targets([0.0, 1.0], 4, 0.1)


@pytest.mark.parametrize("bad", [torch.tensor([[0, 1, 3]]), torch.tensor(1)])
def test_labels_not_1d(bad):
    with pytest.raises(ValueError, match=r"labels must be 1-D \[N\]"):
        smooth_targets(bad, 4, 0.1)
    with pytest.raises(ValueError, match=r"labels must be 1-D \[N\]"):
        smoothed_cross_entropy(LOGITS[:1], bad, 0.1)


def test_labels_logits_row_count_mismatch():
    with pytest.raises(ValueError, match="logits have 3 rows but labels have 2 entries"):
        smoothed_cross_entropy(LOGITS, torch.tensor([0, 1]), 0.1)
    with pytest.raises(ValueError, match="logits have 3 rows but labels have 4 entries"):
        smoothed_cross_entropy(LOGITS, torch.tensor([0, 1, 2, 3]), 0.1, validate=False)


@pytest.mark.parametrize("name", LOGIT_FUNCS)
@pytest.mark.parametrize("bad", [torch.zeros(4), torch.zeros(2, 3, 4)])
def test_logits_not_2d(name, bad):
    with pytest.raises(ValueError, match=r"logits must be 2-D \[N, K\]"):
        LOGIT_FUNCS[name](bad)


@pytest.mark.parametrize("name", LOGIT_FUNCS)
@pytest.mark.parametrize("bad", [torch.zeros(3, 4, dtype=torch.long), [[0.0] * 4] * 3])
def test_logits_not_float_tensor(name, bad):
    with pytest.raises(ValueError, match="logits must be a floating-point tensor"):
        LOGIT_FUNCS[name](bad)


def test_logits_single_class():
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        smoothed_cross_entropy(torch.zeros(3, 1), torch.tensor([0, 0, 0]), 0.1)


@pytest.mark.parametrize("name", TARGET_FUNCS)
@pytest.mark.parametrize(
    "bad", [torch.zeros(3, 5), torch.zeros(2, 4), torch.zeros(4, 3), torch.zeros(12)]
)
def test_logits_targets_shape_mismatch(name, bad):
    with pytest.raises(ValueError, match=r"logits and targets must have the same shape \[N, K\]"):
        TARGET_FUNCS[name](bad)


@pytest.mark.parametrize("name", TARGET_FUNCS)
def test_targets_not_a_tensor(name):
    with pytest.raises(ValueError, match=r"targets must be a tensor of shape \[N, K\], got list"):
        TARGET_FUNCS[name]([[0.25] * 4] * 3)


@pytest.mark.parametrize("name", CONVENTION_FUNCS)
@pytest.mark.parametrize("bad", ["Uniform", "other", "szegedy", ""])
def test_unknown_convention(name, bad):
    with pytest.raises(ValueError, match=f"unknown convention {bad!r}; use 'uniform'.*or 'others'"):
        CONVENTION_FUNCS[name](bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: smoothed_cross_entropy(LOGITS, LABELS, 0.1, reduction=r),
        lambda r: smoothed_cross_entropy(
            LOGITS, LABELS, 0.99, "others", reduction=r
        ),  # explicit path
        lambda r: cross_entropy_from_targets(LOGITS, TARGETS, reduction=r),
    ],
)
@pytest.mark.parametrize("bad", ["avg", "MEAN", None, "batchmean"])
def test_unknown_reduction(call, bad):
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\)"):
        call(bad)


@pytest.mark.parametrize("K, eps", [(4, 0.8), (2, 0.51)])
def test_convert_alpha_others_beyond_uniform(K, eps):
    with pytest.raises(ValueError, match="no 'uniform' alpha in \\[0, 1\\] matches it"):
        convert_alpha(eps, K, "others", "uniform")


# --- the validators added for issue 14 ------------------------------------------------------------

from lsutils import _validate as V  # noqa: E402


@pytest.mark.parametrize(
    "dtype, tol",
    [
        (torch.float64, 1e-4),
        (torch.float32, 1e-4),
        (torch.float16, 0.0039),
        (torch.bfloat16, 0.031),
    ],
)
def test_row_sum_tolerance_scales_with_the_dtype(dtype, tol):
    assert V.row_sum_tolerance(dtype) == pytest.approx(tol, rel=0.01)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_check_probs_accepts_softmax_in_every_dtype_and_refuses_logits(dtype):
    g = torch.Generator().manual_seed(0)
    for k in (2, 10, 1000, 32000):
        z = 4 * torch.randn(64, k, generator=g)
        assert V.check_probs(z.to(dtype).softmax(1)) is not None
        assert V.check_probs(z.softmax(1).to(dtype)) is not None
        with pytest.raises(ValueError, match="pass softmax\\(logits\\), not logits"):
            V.check_probs(z.to(dtype))
        with pytest.raises(ValueError, match="rows that sum to 1"):
            V.check_probs((z.softmax(1) * 1.1).to(dtype).clamp_max(1))


def test_check_probs_catches_nan_negative_and_shape():
    p = torch.full((3, 4), 0.25)
    for bad in (float("nan"), -0.1, float("inf")):
        q = p.clone()
        q[0, 0] = bad
        with pytest.raises(ValueError, match="entries in \\[0, 1\\]"):
            V.check_probs(q)
    with pytest.raises(ValueError, match="at least one row"):
        V.check_probs(p[:0])
    with pytest.raises(ValueError, match="K >= 2"):
        V.check_probs(torch.ones(3, 1))
    with pytest.raises(ValueError, match="2-D"):
        V.check_probs(p[0])
    assert V.check_probs([[0.5, 0.5]]).dtype == torch.float32  # lists are converted


def test_check_finite_names_what_it_found():
    x = torch.zeros(5)
    assert V.check_finite(x, "x") is x
    assert V.check_finite(torch.zeros(0), "x").numel() == 0
    x[2] = float("nan")
    with pytest.raises(ValueError, match="x must be finite, got a tensor containing nan"):
        V.check_finite(x, "x")
    x[2] = -float("inf")
    with pytest.raises(ValueError, match="containing inf"):
        V.check_finite(x.half(), "x")


def test_check_binary_bool_dtype_and_misc():
    assert V.check_binary([1, 0, 1], "c").dtype == torch.bool
    assert V.check_binary(torch.tensor([1.0, 0.0]), "c").tolist() == [True, False]
    for bad in ([1.7, 0.0], [2, 0], [[1, 0]]):
        with pytest.raises(ValueError, match="c must be"):
            V.check_binary(bad, "c")
    assert V.check_bool(np.bool_(True), "flag") is True
    for bad in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="flag must be True or False"):
            V.check_bool(bad, "flag")
    assert V.check_dtype(torch.bfloat16) == torch.bfloat16
    for bad in (torch.int64, torch.bool, "float32", float):
        with pytest.raises(ValueError, match="dtype must be a floating-point torch dtype"):
            V.check_dtype(bad)
    with pytest.raises(TypeError, match="root must be a path"):
        V.check_path(3, "root")
    with pytest.raises(TypeError, match="root must be a path"):
        V.check_path("", "root")
    with pytest.raises(ValueError, match="x must be a tensor, got str"):
        V.as_tensor("abc", "x")


def test_check_labels_names_the_argument_and_explains_ignore_index():
    with pytest.raises(ValueError, match="predictions must lie in \\[0, 2\\]"):
        V.check_labels(torch.tensor([0, 3]), 3, name="predictions")
    with pytest.raises(ValueError, match="-100 \\(torch's ignore_index\\) is not supported"):
        V.check_labels(torch.tensor([0, -100]), 3)
    # unsigned and narrow integer labels are fine
    assert V.check_labels(torch.tensor([0, 2], dtype=torch.uint8), 3).dtype == torch.int64
