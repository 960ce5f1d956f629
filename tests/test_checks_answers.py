"""Red team: answers a student might really write. Right answers in their natural forms pass; wrong
answers that an earlier version of the checkers let through fail, with a message that names the kind
of mistake; odd answers fail with a clear message, never a traceback from inside the checker."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from lsutils import checks
from lsutils.checks.framework import REGISTRY
from lsutils.floor import K, alpha


def passes(exercise_id, answer, capsys, seeds=(0, 1)):
    for seed in seeds:
        checks.check(exercise_id, answer, seed=seed)
    assert capsys.readouterr().out.count("passed") == len(seeds)


def fails(exercise_id, answer, seed=0):
    with pytest.raises(checks.CheckFailed) as info:
        checks.check(exercise_id, answer, seed=seed)
    assert info.value.__cause__ is None
    return str(info.value)


# ------------------------------------------------------------------ right answers, natural forms


def test_sympy_solve_lists_and_dicts_are_accepted(capsys):
    eps = sp.Symbol("eps", positive=True)
    floor_others = -((1 - eps) * sp.log(1 - eps) + eps * sp.log(eps / (K - 1)))
    derivative = sp.diff(floor_others, eps)
    passes("1.6", sp.solve(derivative, eps), capsys)  # [(K - 1)/K]
    passes("1.6", sp.solve(derivative, eps, dict=True), capsys)  # [{eps: (K - 1)/K}]
    passes("1.6", tuple(sp.solve(derivative, eps)), capsys)


def test_a_series_with_its_order_term_is_accepted(capsys):
    floor_u = -(
        (1 - alpha + alpha / K) * sp.log(1 - alpha + alpha / K)
        + (K - 1) * alpha / K * sp.log(alpha / K)
    )
    passes("1.7", sp.series(floor_u, alpha, 0, 2), capsys)  # ... + O(alpha**2)


def test_the_derivation_with_lagrange_multipliers_is_accepted(capsys):
    def floor_of(p_true, p_other):
        q_t, q_o, lam = sp.symbols("q_t q_o lambda", positive=True)
        objective = -(p_true * sp.log(q_t) + (K - 1) * p_other * sp.log(q_o))
        lagrangian = objective + lam * (q_t + (K - 1) * q_o - 1)
        (solution,) = sp.solve(
            [sp.diff(lagrangian, v) for v in (q_t, q_o, lam)], [q_t, q_o, lam], dict=True
        )
        return objective.subs(solution)  # not simplified

    passes("1.3", floor_of, capsys, seeds=(0,))


@pytest.mark.parametrize(
    "form",
    [
        lambda v: v,
        lambda v: list(v),
        lambda v: np.array(v),
        lambda v: torch.tensor(v),
        lambda v: tuple(np.float64(x) for x in v),
        lambda v: tuple(torch.tensor(x) for x in v),  # 0-d tensors
        lambda v: tuple(torch.tensor([x]) for x in v),  # one-element tensors
    ],
)
def test_pairs_in_any_natural_container(form, capsys):
    def floors(num_classes, smoothing):
        k, a = num_classes, smoothing

        def entropy(p_true, p_other):
            return -sum(n * p * math.log(p) for n, p in ((1, p_true), (k - 1, p_other)) if p > 0)

        return form((entropy(1 - a + a / k, a / k), entropy(1 - a, a / (k - 1))))

    passes("1.4", floors, capsys)


def test_numbers_as_numpy_and_tensor_scalars(capsys):
    passes("1.2", lambda a, k: np.float64(a * (k - 1) / k), capsys)
    passes("1.2", lambda a, k: torch.tensor(a * (k - 1) / k), capsys)
    passes("3.4", lambda acc, k: np.float32((1 - acc) * k / (k - 1)), capsys)


def test_half_precision_results_with_right_values(capsys):
    def smooth(labels, num_classes, smoothing):
        t = torch.full((len(labels), num_classes), smoothing / num_classes, dtype=torch.float16)
        t[torch.arange(len(labels)), labels] += 1 - smoothing
        return t

    passes("1.1", smooth, capsys)

    def log_softmax(x):
        shifted = x - x.max(dim=-1, keepdim=True).values
        return (shifted - shifted.exp().sum(dim=-1, keepdim=True).log()).half()

    passes("2.5", log_softmax, capsys)


def test_float32_computations_pass(capsys):
    def my_loss(logits, labels, smoothing):
        z = logits.float()
        log_q = z - z.logsumexp(dim=1, keepdim=True)  # allowed in 2.4
        targets = torch.full_like(log_q, smoothing / z.shape[1])
        targets[torch.arange(len(labels)), labels] += 1 - smoothing
        return -(targets * log_q).sum(dim=1).mean()

    passes("2.4", my_loss, capsys)


def test_numpy_arrays_as_tensor_results(capsys):
    passes("4.12", lambda real, a: np.where(real.numpy(), 1.0 - a, 0.0), capsys)


def test_mutating_the_inputs_in_place_is_harmless(capsys):
    def one_sided(is_real, alpha):
        out = torch.where(is_real, 1.0 - alpha, 0.0)
        is_real.zero_()  # a careless in-place edit of the caller's tensor
        return out

    passes("4.12", one_sided, capsys)

    def aurc(confidence, correct):
        confidence.neg_()  # sorts ascending afterwards: the right order, in place
        order = torch.argsort(confidence)
        errors = torch.cumsum((~correct[order]).double(), dim=0)
        return float((errors / torch.arange(1, len(order) + 1)).mean())

    passes("4.9", aurc, capsys)


# ------------------------------------------------------------------ wrong answers that used to pass


def test_hard_coded_numbers_fail():
    assert "same value for every input" in fails("1.4", lambda k, a: (0.5003, 0.5448))
    assert "same value for every input" in fails("2.6", lambda *a: math.log(91))
    assert "same value for every input" in fails("3.3", lambda lg, y: 2.5)
    assert "same value for every input" in fails("3.4", lambda acc, k: 0.15 * 10 / 9)
    assert "expression in the symbols" in fails("1.6", 0.9)


def test_the_unexpanded_floor_is_not_an_expansion():
    floor_u = -(
        (1 - alpha + alpha / K) * sp.log(1 - alpha + alpha / K)
        + (K - 1) * alpha / K * sp.log(alpha / K)
    )
    assert "the floor itself" in fails("1.7", sp.simplify(floor_u))


def test_log_softmax_over_dim_1_fails_on_other_shapes():
    def log_softmax(x):
        shifted = x - x.max(dim=1, keepdim=True).values
        return shifted - shifted.exp().sum(dim=1, keepdim=True).log()

    assert REGISTRY["2.5"].mistake("dim 1").hint in fails("2.5", log_softmax)


def test_the_overflowing_loss_fails_on_large_logits():
    def my_loss(logits, labels, smoothing):
        q = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
        targets = torch.full_like(q, smoothing / q.shape[1])
        targets[torch.arange(len(labels)), labels] += 1 - smoothing
        return -(targets * torch.log(q)).sum(dim=1).mean()

    assert "overflows" in fails("2.4", my_loss)


def test_ece_must_use_n_bins_and_right_closed_bins():
    def ece_15(probs, labels, n_bins=15):
        return REGISTRY["3.1"].reference(probs, labels, 15)

    def ece_floor_binning(probs, labels, n_bins=15):
        confidence, predicted = probs.double().max(dim=1)
        correct = (predicted == labels).double()
        index = (confidence * n_bins).floor().long().clamp(max=n_bins - 1)
        total = 0.0
        for b in range(n_bins):
            in_bin = index == b
            if in_bin.any():
                gap = (correct[in_bin].mean() - confidence[in_bin].mean()).abs()
                total += float(in_bin.double().mean() * gap)
        return total

    assert "n_bins" in fails("3.1", ece_15)
    assert "bin edges" in fails("3.1", ece_floor_binning)


def test_a_temperature_fitted_on_another_criterion_fails():
    def fit_ece(logits, labels):  # a student's grid search on the ECE
        grid = torch.linspace(math.log(0.05), math.log(20.0), 400).exp()
        scores = [
            REGISTRY["3.1"].reference(torch.softmax(logits.double() / t, 1), labels) for t in grid
        ]
        return float(grid[int(torch.tensor(scores).argmin())])

    message = fails("3.3", fit_ece)
    assert "minimise" in message and "NLL" in message


def test_two_hot_needs_search_and_the_end_clamp():
    def even(y, centers):
        step = (centers[-1] - centers[0]) / (len(centers) - 1)
        lower = ((y - centers[0]) / step).floor().long().clamp(0, len(centers) - 2)
        w = (y - centers[lower]) / (centers[lower + 1] - centers[lower])
        t = torch.zeros(len(y), len(centers), dtype=torch.float64)
        t[torch.arange(len(y)), lower] = 1 - w
        t[torch.arange(len(y)), lower + 1] += w
        return t

    def unclamped(y, centers):
        upper = torch.bucketize(y, centers, right=True)
        lower = upper - 1
        w = (y - centers[lower]) / (centers[upper] - centers[lower])
        t = torch.zeros(len(y), len(centers), dtype=torch.float64)
        t[torch.arange(len(y)), lower] = 1 - w
        t[torch.arange(len(y)), upper] += w
        return t

    assert "evenly spaced" in fails("4.11", even)
    assert "last centre" in fails("4.11", unclamped)


def test_one_minus_a_bool_tensor_shows_torchs_message_and_the_fix():
    def aurc(confidence, correct):
        order = torch.argsort(confidence, descending=True)
        errors = torch.cumsum(1 - correct[order], dim=0)
        return float((errors / torch.arange(1, len(order) + 1)).mean())

    message = fails("4.9", aurc)
    assert "Subtraction, the `-` operator, with a bool tensor is not supported" in message
    assert "`~mask`" in message


def test_euclidean_class_separation_is_not_kornblith():
    def class_separation(features, labels):  # a variance ratio of the raw features
        f = features.double()
        total = ((f - f.mean(0)) ** 2).sum()
        within = sum(
            ((f[labels == c] - f[labels == c].mean(0)) ** 2).sum() for c in labels.unique()
        )
        return float(1 - within / total)

    assert "cosine" in fails("4.8", class_separation)


def test_choosing_on_the_test_split_fails():
    def select_alpha(alphas, val_logits, val_labels, test_logits, test_labels):
        nll = [float(F.cross_entropy(z, test_labels)) for z in test_logits]
        best = min(range(len(alphas)), key=nll.__getitem__)
        return alphas[best], float((test_logits[best].argmax(1) == test_labels).double().mean())

    assert "validation split only" in fails("4.4", select_alpha)


def test_forbidden_shortcuts_inside_torch_modules_are_caught():
    def my_loss(logits, labels, smoothing):
        return torch.nn.CrossEntropyLoss(label_smoothing=smoothing)(logits, labels)

    assert "torch.nn.functional.cross_entropy" in fails("2.4", my_loss)

    def grad(logits, targets):
        z = logits.clone().requires_grad_(True)
        (-(targets * z.log_softmax(1)).sum()).backward()
        return z.grad

    assert "not to use torch.Tensor.backward" in fails("2.1", grad)


def test_shortcuts_kept_in_a_variable_or_a_default_argument_are_refused():
    shortcut = torch.log_softmax
    assert "refers to it" in fails("2.5", lambda x: shortcut(x, -1))

    def log_softmax(x, normalise=torch.log_softmax):
        return normalise(x, -1)

    assert "refers to it" in fails("2.5", log_softmax)

    def log_softmax_by_name(x):
        return getattr(torch, "log_" + "softmax")(x, -1)

    assert "called it" in fails("2.5", log_softmax_by_name)


# ------------------------------------------------------------------ odd answers: clear failures


@pytest.mark.parametrize(
    "answer",
    [
        "smooth",
        3.0,
        sp.Symbol("x"),
        lambda labels, k, a: "targets",
        lambda labels, k, a: None,
        lambda labels, k, a: {"targets": labels},
        lambda labels, k: labels,  # wrong number of arguments
        lambda labels, k, a: torch.zeros(len(labels), k, dtype=torch.complex64),
        lambda labels, k, a: F.one_hot(labels, k).bool(),
    ],
)
def test_odd_answers_fail_clearly(answer):
    message = fails("1.1", answer)
    assert len(message) > 30


@pytest.mark.parametrize(
    ("exercise_id", "answer", "expected"),
    [
        ("1.3", lambda pt, po: sp.Symbol("x") * pt, "contains the symbols ['x']"),
        ("1.6", [K, alpha], "expected a sympy expression"),
        ("1.6", sp.Eq(K, 2), "equation"),
        ("1.6", "not an expression (", "expected a sympy expression"),
        ("2.3", lambda q, k, a: q - 1, "answer with a tuple (g_hard, g_smooth)"),
        ("2.3", lambda q, k, a: (1, 2, 3), "got 3 values"),
        ("2.4", lambda lg, y, a: torch.ones(3), "single number"),
        ("3.1", lambda p, y, n_bins=15: True, "should be a number, got bool"),
        ("4.12", lambda real, a: 0.5, "should be a torch.Tensor"),
    ],
)
def test_wrong_types_are_named(exercise_id, answer, expected):
    assert expected in fails(exercise_id, answer)


def test_a_function_passed_called_instead_of_itself():
    assert "pass the function itself" in fails("1.2", 0.09)
