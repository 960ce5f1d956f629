"""Checkers of the Hands-On notebook 02, gradients and the loss from scratch (exercises 2.1 to
2.6)."""

from __future__ import annotations

import math

import sympy as sp
import torch
import torch.nn.functional as F

from ..floor import K, alpha
from .framework import (
    BITS_HINT,
    OTHERS_HINT,
    SIGN_HINT,
    SYMBOLS,
    Case,
    Exercise,
    Expr,
    Mistake,
    Number,
    Parts,
    Tensor,
    register,
)
from .inputs import Draw, describe

#: the logit symbol of exercise 2.2
z = SYMBOLS["z"]

_OVERFLOW = (
    "exp overflows for large logits (inf / inf = nan): subtract each row's maximum before "
    "exponentiating (the log-sum-exp trick)"
)


def _targets(labels, num_classes, p_true, p_other):
    hot = F.one_hot(labels, num_classes).double()
    return hot * p_true + (1 - hot) * p_other


def _uniform(labels, k, a):
    return _targets(labels, k, 1 - a + a / k, a / k)


def _others(labels, k, a):
    return _targets(labels, k, 1 - a, a / (k - 1))


# ------------------------------------------------------------------ 2.1 the gradient


def _grad(logits, targets):
    return torch.softmax(logits, dim=1) - targets


def _cases_2_1(d: Draw) -> list[Case]:
    n, k = d.integer(2, 8), d.integer(2, 10)
    raw = [
        (d.logits(n, k), d.dirichlet(n, k), ""),
        (d.logits(4, 3), F.one_hot(d.labels(4, 3), 3).double(), "one-hot targets"),
        (d.logits(3, 5, scale=1000.0), d.dirichlet(3, 5), "logits of size about 1e3"),
        (d.logits(1, 4), d.dirichlet(1, 4), "one example"),
    ]
    return [Case((lg, t), describe("logits, targets", (lg, t), note)) for lg, t, note in raw]


register(
    Exercise(
        "2.1",
        "The gradient from scratch",
        reference=_grad,
        output=Tensor("gradient"),
        cases=_cases_2_1,
        mistakes=(
            Mistake("sign", lambda lg, t: t - torch.softmax(lg, dim=1), SIGN_HINT),
            Mistake(
                "mean",
                lambda lg, t: _grad(lg, t) / lg.shape[0],
                "this is the gradient of the MEAN loss; the exercise asks for the summed loss",
            ),
            Mistake(
                "softmax over examples",
                lambda lg, t: torch.softmax(lg, dim=0) - t,
                "the softmax runs over the wrong dimension (classes are dim 1)",
            ),
        ),
        forbidden=(
            "torch.autograd.grad",
            "torch.autograd.backward",
            "torch.Tensor.backward",
            "torch.func.grad",
            "torch.func.vjp",
        ),
        nonfinite=_OVERFLOW,
        passed="the gradient matches autograd's, large logits included",
    )
)

# ------------------------------------------------------------------ 2.2 symbolic derivative


def _dz(p_true):
    return sp.exp(z) / (sp.exp(z) + K - 1) - p_true


def _cases_2_2(d: Draw) -> list[Case]:
    at = [{"K": 10.0, "alpha": 0.1, "z": 3.0}, {"K": 2.0, "alpha": 0.5, "z": -1.0}]
    at += [
        {"K": float(d.integer(2, 100)), "alpha": d.uniform(0.01, 0.99), "z": d.uniform(-4, 8)}
        for _ in range(4)
    ]
    return [Case(at=tuple(at))]


register(
    Exercise(
        "2.2",
        "The true-logit derivative, symbolically",
        reference=_dz(1 - alpha + alpha / K),
        output=Expr(("K", "alpha", "z"), "derivative"),
        cases=_cases_2_2,
        takes="value",
        mistakes=(
            Mistake("sign", -_dz(1 - alpha + alpha / K), SIGN_HINT),
            Mistake("others", _dz(1 - alpha), OTHERS_HINT),
            Mistake(
                "hard",
                _dz(1),
                "this is the hard-label derivative: the smoothed target is missing",
            ),
        ),
        passed="dL/dz is right at every (K, alpha, z) tried",
    )
)

# ------------------------------------------------------------------ 2.3 which way it pushes


def _pushes(q_true, num_classes, smoothing):
    k, a = num_classes, smoothing
    return q_true - 1.0, q_true - (1 - a + a / k)


def _cases_2_3(d: Draw) -> list[Case]:
    raw = [(0.99, 10, 0.1), (0.5, 3, 0.0)]
    raw += [(d.uniform(0.05, 0.999), d.integer(2, 100), d.uniform(0.01, 0.9)) for _ in range(3)]
    return [Case(args, describe("q_true, num_classes, smoothing", args)) for args in raw]


register(
    Exercise(
        "2.3",
        "Which way does the gradient push?",
        reference=_pushes,
        output=Parts(Number("g_hard"), Number("g_smooth")),
        cases=_cases_2_3,
        mistakes=(
            Mistake(
                "sign",
                lambda q, k, a: tuple(-g for g in _pushes(q, k, a)),
                "both signs are flipped: the gradient of the loss is q - p",
            ),
            Mistake("others", lambda q, k, a: (q - 1.0, q - (1 - a)), OTHERS_HINT),
            Mistake(
                "swapped",
                lambda q, k, a: _pushes(q, k, a)[::-1],
                "the two values are swapped: the first is for hard targets",
            ),
        ),
        passed="right: smoothing pushes a confident true logit down, hard targets push it up",
    )
)

# ------------------------------------------------------------------ 2.4 the loss from scratch


def _log_softmax(x, dim=-1):
    shifted = x - x.max(dim=dim, keepdim=True).values
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def _loss(logits, labels, smoothing):
    targets = _uniform(labels, logits.shape[1], smoothing)
    return -(targets * _log_softmax(logits, 1)).sum(1).mean()


def _naive_loss(logits, labels, smoothing):
    q = logits.exp() / logits.exp().sum(1, keepdim=True)
    return -(_uniform(labels, logits.shape[1], smoothing) * q.log()).sum(1).mean()


def _cases_2_4(d: Draw) -> list[Case]:
    n, k = d.integer(2, 8), d.integer(3, 12)
    raw = [
        (d.logits(n, k), d.labels(n, k), d.uniform(0.05, 0.5), ""),
        (d.logits(6, 4, scale=1000.0), d.labels(6, 4), 0.1, "logits of size about 1e3"),
        (d.logits(1, 2), d.labels(1, 2), 0.2, "one example"),
        (d.logits(5, 5), d.labels(5, 5), 0.0, "no smoothing"),
        (d.logits(4, 6), d.labels(4, 6), 1.0, "smoothing 1"),
    ]
    return [
        Case((lg, y, a), describe("logits, labels, smoothing", (lg, y, a), note))
        for lg, y, a, note in raw
    ]


register(
    Exercise(
        "2.4",
        "The smoothed loss from scratch",
        reference=_loss,
        output=Number("loss"),
        cases=_cases_2_4,
        mistakes=(
            Mistake(
                "others",
                lambda lg, y, a: -(_others(y, lg.shape[1], a) * _log_softmax(lg, 1)).sum(1).mean(),
                OTHERS_HINT,
            ),
            Mistake(
                "sum",
                lambda lg, y, a: _loss(lg, y, a) * lg.shape[0],
                "this is the summed loss; F.cross_entropy's default reduction is the mean over "
                "the batch",
            ),
            Mistake("bits", lambda lg, y, a: _loss(lg, y, a) / math.log(2), BITS_HINT),
            Mistake("sign", lambda lg, y, a: -_loss(lg, y, a), SIGN_HINT),
            Mistake("overflow", _naive_loss, _OVERFLOW),
        ),
        forbidden=(
            "torch.nn.functional.cross_entropy",
            "torch.nn.functional.log_softmax",
            "torch.log_softmax",
            "torch.Tensor.log_softmax",
            "torch.special.log_softmax",
            "lsutils.smoothed_cross_entropy",
            "lsutils.cross_entropy_from_targets",
            "lsutils.losses.smoothed_cross_entropy",
            "lsutils.losses.cross_entropy_from_targets",
        ),
        nonfinite=_OVERFLOW,
        passed="matches F.cross_entropy(..., label_smoothing=smoothing), large logits included",
    )
)

# ------------------------------------------------------------------ 2.5 a stable log-softmax


def _naive_log_softmax(x):
    return torch.log(x.exp() / x.exp().sum(-1, keepdim=True))


def _cases_2_5(d: Draw) -> list[Case]:
    raw = [
        (d.logits(4, 6), ""),
        (d.normal(d.integer(2, 9)), "a 1-D input"),
        (d.normal(2, 3, 5, scale=2.0), "a 3-D input"),
        (d.logits(3, 5, scale=1000.0), "logits of size about 1e3"),
        (torch.full((2, 4), 900.0, dtype=torch.float64), "equal large logits"),
    ]
    return [Case((x,), describe("x", (x,), note)) for x, note in raw]


register(
    Exercise(
        "2.5",
        "A stable log-softmax",
        reference=_log_softmax,
        output=Tensor("log-softmax"),
        cases=_cases_2_5,
        mistakes=(
            Mistake("overflow", _naive_log_softmax, _OVERFLOW),
            Mistake(
                "dim 0",
                lambda x: _log_softmax(x, 0),
                "the normalisation runs over the first dimension; the classes are the LAST one",
            ),
            Mistake(
                "dim 1",
                lambda x: _log_softmax(x, 1),
                "normalise over the LAST dimension (dim=-1): dim=1 is the class dimension only "
                "for 2-D inputs",
            ),
            Mistake(
                "no normaliser",
                lambda x: x - x.max(dim=-1, keepdim=True).values,
                "the log of the normaliser (the log-sum-exp of the shifted logits) is missing",
            ),
        ),
        forbidden=(
            "torch.log_softmax",
            "torch.nn.functional.log_softmax",
            "torch.Tensor.log_softmax",
            "torch.special.log_softmax",
            "torch.logsumexp",
            "torch.Tensor.logsumexp",
            "torch.special.logsumexp",
        ),
        nonfinite=_OVERFLOW,
        passed="right for 1-D, 2-D and 3-D inputs, and finite for logits of size 1000",
    )
)

# ------------------------------------------------------------------ 2.6 gradient descent


def _descend(num_classes, smoothing, steps, lr, p_true=None, p_other=None):
    k, a = num_classes, smoothing
    p = torch.full((k,), a / k if p_other is None else p_other, dtype=torch.float64)
    p[0] = 1 - a + a / k if p_true is None else p_true
    logits = torch.zeros(k, dtype=torch.float64)
    for _ in range(steps):
        logits = logits - lr * (torch.softmax(logits, dim=0) - p)
    return float(logits[0] - logits[1])


def _ascend(num_classes, smoothing, steps, lr):
    return _descend(num_classes, smoothing, steps, -lr)


def _cases_2_6(d: Draw) -> list[Case]:
    raw = [(10, 0.1, 2000, 1.0), (3, 0.3, 5, 0.5), (4, 0.0, 50, 1.0)]
    raw += [
        (d.integer(2, 20), d.uniform(0.02, 0.5), d.integer(1, 300), d.uniform(0.1, 3.0))
        for _ in range(2)
    ]
    return [Case(args, describe("num_classes, smoothing, steps, lr", args)) for args in raw]


register(
    Exercise(
        "2.6",
        "Gradient descent finds the gap",
        reference=_descend,
        output=Number("gap", tol=1e-4, atol=1e-6),
        cases=_cases_2_6,
        mistakes=(
            Mistake(
                "others",
                lambda k, a, steps, lr: _descend(k, a, steps, lr, 1 - a, a / (k - 1)),
                OTHERS_HINT,
            ),
            Mistake(
                "hard targets",
                lambda k, a, steps, lr: _descend(k, 0.0, steps, lr),
                "the targets are not smoothed: with hard targets the gap grows without bound",
            ),
            Mistake(
                "ascent",
                _ascend,
                "the step goes up the gradient: gradient DESCENT subtracts lr * gradient",
            ),
            Mistake(
                "learning rate ignored",
                lambda k, a, steps, lr: _descend(k, a, steps, 1.0),
                "each step must move the logits by lr times the gradient",
            ),
        ),
        forbidden=(
            "lsutils.optimal_logit_gap",
            "lsutils.gap_expr",
            "lsutils.floor.optimal_logit_gap",
            "lsutils.floor.gap_expr",
        ),
        passed="the gap after the given steps is right, for every (K, alpha, steps, lr) tried",
    )
)
