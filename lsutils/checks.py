"""Auto-checkers for the Hands-On exercises: one per exercise, collected in :data:`REGISTRY`.

``check("1.3", answer)`` prints a success line when the answer is right. Otherwise it raises
:class:`NotAttempted` (the answer is still the placeholder) or :class:`CheckFailed`, whose message
says what looks off (convention, log base, sign, shape, reduction) without giving the answer away.

Every registered exercise also carries a reference answer and a few typical mistakes, so the tests
can prove that each checker accepts the right answer and rejects the wrong ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sympy as sp
import torch
import torch.nn.functional as F

from . import floor as _floor
from .losses import cross_entropy_from_targets
from .privacy import membership_auc as _membership_auc
from .selective import aurc as _aurc
from .targets import convert_alpha, smooth_targets
from .value_targets import two_hot as _two_hot

__all__ = ["CheckFailed", "NotAttempted", "Exercise", "REGISTRY", "check", "calibration_data", "z"]


class NotAttempted(Exception):
    """The answer is still the placeholder (``None`` or a function that raises
    ``NotImplementedError``)."""


class CheckFailed(AssertionError):
    """The answer is wrong; the message says what looks off."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ("1.3"), title, checker, reference answer and typical mistakes."""

    id: str
    title: str
    checker: Callable[[Any], str]
    reference: Callable[[], Any]
    mistakes: dict[str, Callable[[], Any]] = field(default_factory=dict)


REGISTRY: dict[str, Exercise] = {}

#: the logit symbol of exercise 2.2
z = sp.Symbol("z", real=True)
_K, _ALPHA = _floor.K, _floor.alpha


def check(exercise_id: str, answer: Any) -> None:
    """Check ``answer`` for exercise ``exercise_id``; print a success line or raise with a hint."""
    if exercise_id not in REGISTRY:
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {', '.join(REGISTRY)}")
    if answer is None:
        raise NotAttempted(
            f"Exercise {exercise_id} not attempted yet: replace the placeholder with your answer."
        )
    try:
        detail = REGISTRY[exercise_id].checker(answer)
    except NotImplementedError:
        raise NotAttempted(
            f"Exercise {exercise_id} not attempted yet: your function still raises NotImplementedError."
        ) from None
    print(f"Exercise {exercise_id} passed: {detail}")


def _register(
    exercise_id: str,
    title: str,
    reference: Callable[[], Any],
    mistakes: dict[str, Callable[[], Any]],
):
    def wrap(checker: Callable[[Any], str]) -> Callable[[Any], str]:
        REGISTRY[exercise_id] = Exercise(exercise_id, title, checker, reference, mistakes)
        return checker

    return wrap


# -----------------------------------------------------------------------------------------------
# helpers


def _fail(message: str) -> None:
    raise CheckFailed(message)


def _call(fn: Any, *args: Any) -> Any:
    if not callable(fn):
        _fail(f"expected a function, got {type(fn).__name__}")
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's code failed: say how, not where the answer is
        _fail(f"your function raised {type(exc).__name__}: {exc}")


def _tensor(x: Any, shape: tuple[int, ...], what: str = "result") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        _fail(f"the {what} should be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape) != shape:
        hint = (
            " (transposed? one row per example)"
            if tuple(x.shape) == shape[::-1] and len(shape) == 2
            else ""
        )
        _fail(f"the {what} has shape {tuple(x.shape)}, expected {shape}{hint}")
    if not torch.isfinite(x).all():
        _fail(
            f"the {what} contains nan or inf (overflow? subtract the row maximum before exponentiating)"
        )
    return x.double()


def _number(x: Any, what: str = "answer") -> float:
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            _fail(f"the {what} should be a single number, got a tensor of shape {tuple(x.shape)}")
        x = x.item()
    try:
        value = float(x)
    except (TypeError, ValueError):
        _fail(f"the {what} should be a number, got {type(x).__name__}")
    if not math.isfinite(value):
        _fail(f"the {what} is not finite")
    return value


def _close(a: Any, b: Any, tol: float = 1e-6) -> bool:
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=tol, atol=tol))


def _diagnose(
    value: Any, correct: Any, alternatives: dict[str, Any], tol: float = 1e-6, what: str = "value"
) -> str:
    """Return "" when ``value`` matches ``correct``; else fail with the hint of the first matching
    mistake."""
    if _close(value, correct, tol):
        return ""
    for hint, alt in alternatives.items():
        if _close(value, alt, tol):
            _fail(hint)
    v, c = (
        torch.as_tensor(value, dtype=torch.float64),
        torch.as_tensor(correct, dtype=torch.float64),
    )
    if v.numel() == 1 and c.numel() == 1:
        _fail(f"the {what} is too {'large' if v.item() > c.item() else 'small'}")
    _fail(f"the {what} does not match (largest difference {float((v - c).abs().max()):.3g})")
    return ""


_SYMBOLS = {"K": _K, "alpha": _ALPHA, "z": z}


def _expr(x: Any, allowed: tuple[str, ...]) -> sp.Expr:
    try:
        e = sp.sympify(x)
    except (sp.SympifyError, TypeError):
        _fail(f"expected a sympy expression, got {type(x).__name__}")
    names = {s.name for s in e.free_symbols}
    extra = names - set(allowed)
    if extra:
        _fail(
            f"the expression contains symbols {sorted(extra)}; use only {list(allowed)} (lsutils.floor.K, .alpha)"
        )
    return e.subs({s: _SYMBOLS[s.name] for s in e.free_symbols})


_POINTS = [(3, 0.05), (10, 0.1), (10, 0.3), (100, 0.2), (7, 0.6)]


def _expr_values(e: sp.Expr, extra: dict | None = None) -> list[float]:
    out = []
    for k, a in _POINTS:
        subs = {_K: k, _ALPHA: a, **(extra or {})}
        out.append(float(sp.N(e.subs(subs))))
    return out


def _expr_diagnose(
    answer: Any, correct: sp.Expr, alternatives: dict[str, sp.Expr], allowed=("K", "alpha")
) -> str:
    e = _expr(answer, allowed)
    try:
        values = _expr_values(e)
    except (TypeError, ValueError):
        _fail("the expression does not evaluate to a real number for K > 1 and 0 < alpha < 1")
    _diagnose(
        values,
        _expr_values(correct),
        {h: _expr_values(a) for h, a in alternatives.items()},
        1e-8,
        "expression",
    )
    return "matches at several (K, alpha)"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------- chapter 1: targets and the floor

_OTHERS_HINT = (
    "this matches the 'others' convention (alpha spread over the K-1 wrong classes); the exercise uses "
    "torch's uniform convention (alpha spread over all K classes)"
)
_BITS_HINT = "this looks like log base 2 (bits); the book measures in nats (natural log)"
_SIGN_HINT = "the sign is flipped"


def _smooth_others(labels, K, alpha):
    return smooth_targets(labels, K, alpha, convention="others")


def _smooth_no_renorm(labels, K, alpha):
    return (
        F.one_hot(labels, K).double() * (1 - alpha)
        + 0.0
        + alpha / K * (1 - F.one_hot(labels, K).double())
    )


@_register(
    "1.1",
    "Smoothed targets from scratch",
    lambda: smooth_targets,
    {
        "others convention": lambda: _smooth_others,
        "one-hot": lambda: lambda labels, K, alpha: F.one_hot(labels, K).double(),
        "true class 1-alpha": lambda: _smooth_no_renorm,
        "transposed": lambda: lambda labels, K, alpha: smooth_targets(labels, K, alpha).T,
    },
)
def _check_1_1(smooth) -> str:
    for labels, K, a in [(torch.tensor([0, 2, 1, 2]), 3, 0.3), (torch.arange(10), 10, 0.1)]:
        got = _tensor(_call(smooth, labels, K, a), (labels.numel(), K), "target tensor")
        if not torch.allclose(
            got.sum(dim=1), torch.ones(labels.numel(), dtype=torch.float64), atol=1e-6
        ):
            _fail("each row of the targets must sum to 1")
        _diagnose(
            got,
            smooth_targets(labels, K, a),
            {
                _OTHERS_HINT: smooth_targets(labels, K, a, convention="others"),
                "no smoothing applied: these are one-hot targets": F.one_hot(labels, K),
            },
            1e-6,
            "targets",
        )
    return "rows match torch's label_smoothing targets"


@_register(
    "1.2",
    "Converting between conventions",
    lambda: lambda a, K: a * (K - 1) / K,
    {
        "inverse": lambda: lambda a, K: a * K / (K - 1),
        "identity": lambda: lambda a, K: a,
    },
)
def _check_1_2(to_others) -> str:
    for a, K in [(0.1, 10), (0.3, 3), (0.05, 100)]:
        got = _number(_call(to_others, a, K), "eps")
        _diagnose(
            got,
            convert_alpha(a, K, "uniform", "others"),
            {
                "this converts the other way (others -> uniform): eps is the total mass on the WRONG classes": a
                * K
                / (K - 1),
                "the two conventions differ: uniform alpha also puts alpha/K back on the true class": a,
            },
            1e-9,
            "eps",
        )
    return "eps matches the uniform target for several (alpha, K)"


_F_U, _F_O = (lambda: _floor.floor_expr("uniform")), (lambda: _floor.floor_expr("others"))


@_register(
    "1.3",
    "The loss floor, symbolically",
    _F_U,
    {
        "bits": lambda: _F_U() / sp.log(2),
        "others": _F_O,
        "sign": lambda: -_F_U(),
        "missing K-1": lambda: (
            -(
                (1 - _ALPHA + _ALPHA / _K) * sp.log(1 - _ALPHA + _ALPHA / _K)
                + _ALPHA / _K * sp.log(_ALPHA / _K)
            )
        ),
    },
)
def _check_1_3(expr) -> str:
    return _expr_diagnose(
        expr, _F_U(), {_BITS_HINT: _F_U() / sp.log(2), _OTHERS_HINT: _F_O(), _SIGN_HINT: -_F_U()}
    )


def _floors_10():
    return (_floor.loss_floor(10, 0.1, "uniform"), _floor.loss_floor(10, 0.1, "others"))


@_register(
    "1.4",
    "0.5003 or 0.5448?",
    _floors_10,
    {
        "bits": lambda: tuple(v / math.log(2) for v in _floors_10()),
        "swapped": lambda: _floors_10()[::-1],
        "same": lambda: (_floors_10()[0], _floors_10()[0]),
    },
)
def _check_1_4(pair) -> str:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        _fail("answer with a pair (floor_uniform, floor_others)")
    got = [_number(v, "floor") for v in pair]
    ref = list(_floors_10())
    _diagnose(
        got,
        ref,
        {
            _BITS_HINT: [v / math.log(2) for v in ref],
            "the two values are swapped: which convention leaves more mass on the wrong classes?": ref[
                ::-1
            ],
        },
        1e-4,
        "pair of floors",
    )
    return "both floors right (nats)"


_G_U, _G_O = (lambda: _floor.gap_expr("uniform")), (lambda: _floor.gap_expr("others"))


@_register(
    "1.5",
    "The optimal logit gap",
    _G_U,
    {
        "bits": lambda: _G_U() / sp.log(2),
        "others": _G_O,
        "sign": lambda: -_G_U(),
        "no log": lambda: sp.exp(_G_U()),
    },
)
def _check_1_5(expr) -> str:
    return _expr_diagnose(
        expr,
        _G_U(),
        {
            _BITS_HINT: _G_U() / sp.log(2),
            _OTHERS_HINT: _G_O(),
            _SIGN_HINT + ": the true logit should end up above the others": -_G_U(),
            "this is the probability ratio; logits are log-probabilities up to a constant": sp.exp(
                _G_U()
            ),
        },
    )


@_register(
    "1.6",
    "The smoothing that maximises the floor",
    lambda: (_K - 1) / _K,
    {
        "uniform answer": lambda: sp.Integer(1),
        "1/K": lambda: 1 / _K,
        "half": lambda: sp.Rational(1, 2),
    },
)
def _check_1_6(expr) -> str:
    e = _expr(expr, ("K",))
    values = [float(sp.N(e.subs(_K, k))) for k in (2, 3, 10, 100)]
    ref = [(k - 1) / k for k in (2, 3, 10, 100)]
    _diagnose(
        values,
        ref,
        {
            "that maximises the uniform-convention floor; in the others convention eps = 1 puts zero mass on the true "
            "class, which is not the highest-entropy target": [1.0] * 4,
            "at this eps the true class gets more than any wrong class; the maximum entropy target is flatter": [
                1 / k for k in (2, 3, 10, 100)
            ],
        },
        1e-9,
        "maximiser",
    )
    return "the maximiser is right for every K"


def _asym_ref():
    return (_K - 1) / _K * _ALPHA * (1 + sp.log(_K) - sp.log(_ALPHA))


def _ratio(e: sp.Expr, a: float, K: int = 10) -> float:
    import mpmath

    with mpmath.workdps(60):
        diff = (_F_U() - e).subs({_K: K})
        return float(sp.N(diff.subs(_ALPHA, sp.Float(a, 60)) / sp.Float(a, 60), 50))


@_register(
    "1.7",
    "Small-alpha asymptotics",
    _asym_ref,
    {
        "leading only": lambda: -_ALPHA * sp.log(_ALPHA),
        "no linear term": lambda: -(_K - 1) / _K * _ALPHA * sp.log(_ALPHA),
        "sign of log": lambda: (_K - 1) / _K * _ALPHA * (1 + sp.log(_K) + sp.log(_ALPHA)),
    },
)
def _check_1_7(expr) -> str:
    e = _expr(expr, ("K", "alpha"))
    for K in (3, 10):
        r1, r2 = _ratio(e.subs(_K, K), 1e-10, K), _ratio(e.subs(_K, K), 1e-20, K)
        if abs(r1) < 1e-6 and abs(r2) < 1e-6:
            continue
        slope = (r2 - r1) / math.log(
            1e-10
        )  # coefficient of log(alpha) left over in (floor - answer) / alpha
        if abs(slope) > 1e-6:
            _fail(
                "the coefficient of alpha*log(alpha) is off (check its sign and the factor (K-1)/K)"
            )
        _fail("the alpha*log(alpha) term is right but the term linear in alpha is off")
    return "floor - answer vanishes faster than alpha"


# ----------------------------------------------------------------------------- chapter 2: gradients


def _grad_ref(logits, targets):
    return torch.softmax(logits, dim=1) - targets


@_register(
    "2.1",
    "The gradient from scratch",
    lambda: _grad_ref,
    {
        "sign": lambda: lambda lg, t: t - torch.softmax(lg, dim=1),
        "mean": lambda: lambda lg, t: (torch.softmax(lg, dim=1) - t) / lg.shape[0],
        "dim0": lambda: lambda lg, t: torch.softmax(lg, dim=0) - t,
    },
)
def _check_2_1(grad) -> str:
    g = _gen(1)
    logits = torch.randn(6, 4, generator=g, dtype=torch.float64)
    targets = smooth_targets(torch.tensor([0, 1, 2, 3, 0, 1]), 4, 0.2)
    z_ = logits.clone().requires_grad_(True)
    cross_entropy_from_targets(z_, targets, reduction="sum").backward()
    got = _tensor(_call(grad, logits.clone(), targets.clone()), (6, 4), "gradient")
    _diagnose(
        got,
        z_.grad,
        {
            _SIGN_HINT: -z_.grad,
            "this is the gradient of the MEAN loss; the exercise asks for the summed loss": z_.grad
            / 6,
            "the softmax runs over the wrong dimension (classes are dim 1)": torch.softmax(
                logits, 0
            )
            - targets,
        },
        1e-6,
        "gradient",
    )
    return "matches autograd"


def _dz_ref():
    return sp.exp(z) / (sp.exp(z) + _K - 1) - (1 - _ALPHA + _ALPHA / _K)


@_register(
    "2.2",
    "The true-logit derivative, symbolically",
    _dz_ref,
    {
        "sign": lambda: -_dz_ref(),
        "others": lambda: sp.exp(z) / (sp.exp(z) + _K - 1) - (1 - _ALPHA),
        "hard": lambda: sp.exp(z) / (sp.exp(z) + _K - 1) - 1,
    },
)
def _check_2_2(expr) -> str:
    e = _expr(expr, ("K", "alpha", "z"))
    ref = _dz_ref()
    vals = lambda x: [
        float(sp.N(x.subs({_K: k, _ALPHA: a, z: zz})))
        for k, a in _POINTS
        for zz in (-1.0, 0.5, 3.0)
    ]
    _diagnose(
        vals(e),
        vals(ref),
        {
            _SIGN_HINT: vals(-ref),
            _OTHERS_HINT: vals(sp.exp(z) / (sp.exp(z) + _K - 1) - (1 - _ALPHA)),
            "this is the hard-label derivative: the smoothed target is missing": vals(
                sp.exp(z) / (sp.exp(z) + _K - 1) - 1
            ),
        },
        1e-8,
        "derivative",
    )
    return "matches at several (K, alpha, z)"


@_register(
    "2.3",
    "Which way does the gradient push?",
    lambda: (0.99 - 1.0, 0.99 - 0.91),
    {
        "sign": lambda: (0.01, -0.08),
        "others": lambda: (-0.01, 0.09),
        "swapped": lambda: (0.08, -0.01),
    },
)
def _check_2_3(pair) -> str:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        _fail("answer with a pair (g_hard, g_smooth)")
    got = [_number(v, "gradient") for v in pair]
    _diagnose(
        got,
        [-0.01, 0.08],
        {
            "both signs are flipped: the gradient of the loss is q - p": [0.01, -0.08],
            _OTHERS_HINT: [-0.01, 0.09],
            "the two values are swapped": [0.08, -0.01],
        },
        1e-6,
        "pair of gradients",
    )
    return "right: smoothing pushes a confident true logit DOWN"


def _loss_ref(logits, labels, alpha):
    return F.cross_entropy(logits, labels, label_smoothing=alpha)


@_register(
    "2.4",
    "The smoothed loss from scratch",
    lambda: lambda lg, y, a: smooth_ce_scratch(lg, y, a),
    {
        "others": lambda: (
            lambda lg, y, a: (
                -(smooth_targets(y, lg.shape[1], a, convention="others") * lg.log_softmax(1))
                .sum(1)
                .mean()
            )
        ),
        "sum": lambda: lambda lg, y, a: _loss_ref(lg, y, a) * lg.shape[0],
        "bits": lambda: lambda lg, y, a: _loss_ref(lg, y, a) / math.log(2),
    },
)
def _check_2_4(loss) -> str:
    g = _gen(2)
    for N, K, a in [(8, 5, 0.2), (5, 10, 0.1), (4, 3, 0.0)]:
        logits = torch.randn(N, K, generator=g, dtype=torch.float64) * 2
        labels = torch.randint(0, K, (N,), generator=g)
        got = _number(_call(loss, logits.clone(), labels.clone(), a), "loss")
        ref = float(_loss_ref(logits, labels, a))
        _diagnose(
            got,
            ref,
            {
                _OTHERS_HINT: float(
                    -(smooth_targets(labels, K, a, convention="others") * logits.log_softmax(1))
                    .sum(1)
                    .mean()
                ),
                "this is the summed loss; F.cross_entropy's default reduction is the mean": ref * N,
                _BITS_HINT: ref / math.log(2),
                _SIGN_HINT: -ref,
            },
            1e-6,
            "loss",
        )
    return "matches F.cross_entropy(..., label_smoothing=alpha)"


def smooth_ce_scratch(logits: torch.Tensor, labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """Reference for exercise 2.4: mean smoothed cross-entropy (uniform convention) written out."""
    K = logits.shape[1]
    log_q = logits - logits.max(dim=1, keepdim=True).values
    log_q = log_q - log_q.exp().sum(dim=1, keepdim=True).log()
    p = torch.full_like(log_q, alpha / K)
    p[torch.arange(len(labels)), labels] += 1 - alpha
    return -(p * log_q).sum(dim=1).mean()


def _lsm_ref(x):
    m = x.max(dim=-1, keepdim=True).values
    return x - m - (x - m).exp().sum(dim=-1, keepdim=True).log()


@_register(
    "2.5",
    "A stable log-softmax",
    lambda: _lsm_ref,
    {
        "naive": lambda: lambda x: torch.log(torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)),
        "dim0": lambda: lambda x: torch.log_softmax(x, dim=0),
        "no normaliser": lambda: lambda x: x - x.max(dim=-1, keepdim=True).values,
    },
)
def _check_2_5(log_softmax) -> str:
    g = _gen(3)
    for scale in (1.0, 1000.0):
        x = torch.randn(4, 6, generator=g, dtype=torch.float64) * scale
        got = _tensor(_call(log_softmax, x.clone()), (4, 6), "log-softmax")
        _diagnose(
            got,
            torch.log_softmax(x, -1),
            {
                "the normalisation runs over the wrong dimension (classes are the last dim)": torch.log_softmax(
                    x, 0
                ),
                "the log of the normaliser (log-sum-exp) is missing": x
                - x.max(-1, keepdim=True).values,
            },
            1e-6,
            "log-softmax",
        )
    return "right, and finite for logits of size 1000"


def _gd_gap(
    alpha: float = 0.1, convention: str = "uniform", steps: int = 2000, lr: float = 1.0
) -> float:
    p = smooth_targets(torch.tensor([0]), 10, alpha, convention=convention)
    zz = torch.zeros(1, 10, dtype=torch.float64)
    for _ in range(steps):
        zz -= lr * (torch.softmax(zz, 1) - p)
    return float(zz[0, 0] - zz[0, 1])


@_register(
    "2.6",
    "Gradient descent finds the gap",
    lambda: _gd_gap(),
    {
        "others": lambda: _gd_gap(convention="others"),
        "hard": lambda: _gd_gap(alpha=0.0),
        "short": lambda: _gd_gap(steps=5),
    },
)
def _check_2_6(gap) -> str:
    got = _number(gap, "gap")
    ref = _floor.optimal_logit_gap(10, 0.1)
    if abs(got - ref) < 1e-3:
        return "gradient descent converged to the optimal gap"
    if abs(got - _floor.optimal_logit_gap(10, 0.1, "others")) < 1e-3:
        _fail(_OTHERS_HINT)
    if got > ref:
        _fail(
            "the gap is too large: are the targets smoothed? with hard targets it grows without bound"
        )
    _fail(
        "the gap is too small: run more steps (or check the learning rate); the gradient is not yet zero"
    )
    return ""


# ---------------------------------------------------------------------------- chapter 3:
# calibration


def calibration_data(n: int = 2000, num_classes: int = 10, scale: float = 2.5, seed: int = 0):
    """Synthetic ``(logits [n, K], labels [n])`` of an overconfident model: labels drawn from
    softmax(z), logits reported as ``scale * z``, so temperature ``scale`` calibrates them exactly
    in expectation."""
    g = _gen(seed)
    cls = torch.randint(0, num_classes, (n,), generator=g)
    zz = torch.randn(n, num_classes, generator=g) + 2.0 * F.one_hot(cls, num_classes)
    labels = torch.multinomial(torch.softmax(zz, 1), 1, generator=g).squeeze(1)
    return (scale * zz).float(), labels


def _ece_ref(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).double()
    conf = conf.double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += float(m.double().mean() * (correct[m].mean() - conf[m].mean()).abs())
    return ece


def _ece_unweighted(probs, labels, n_bins=15):
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    gaps = [
        float((correct[m].mean() - conf[m].double().mean()).abs())
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        if (m := (conf > lo) & (conf <= hi)).any()
    ]
    return sum(gaps) / len(gaps)


def _ece_trueclass(probs, labels, n_bins=15):
    conf = probs[torch.arange(len(labels)), labels]
    fake = torch.zeros_like(probs)
    fake[torch.arange(len(labels)), probs.argmax(1)] = 0  # keep shape; we only need conf/correct
    correct = (probs.argmax(1) == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += float(m.double().mean() * (correct[m].mean() - conf[m].double().mean()).abs())
    return total


@_register(
    "3.1",
    "ECE from scratch",
    lambda: _ece_ref,
    {
        "unweighted": lambda: _ece_unweighted,
        "true-class confidence": lambda: _ece_trueclass,
        "percent": lambda: lambda p, y, n_bins=15: 100 * _ece_ref(p, y, n_bins),
    },
)
def _check_3_1(ece) -> str:
    logits, labels = calibration_data()
    probs = torch.softmax(logits, 1)
    got = _number(_call(ece, probs.clone(), labels.clone(), 15), "ECE")
    ref = _ece_ref(probs, labels, 15)
    _diagnose(
        got,
        ref,
        {
            "the answer is in percent; give ECE as a fraction in [0, 1]": 100 * ref,
            "each bin must be weighted by the fraction of examples in it": _ece_unweighted(
                probs, labels
            ),
            "confidence is the top (predicted-class) probability, not the true-class probability": _ece_trueclass(
                probs, labels
            ),
        },
        1e-5,
        "ECE",
    )
    return "ECE matches the 15-bin reference"


def _nll_T(logits, labels, T):
    return F.cross_entropy(logits / T, labels)


@_register(
    "3.2",
    "NLL at a temperature",
    lambda: _nll_T,
    {
        "times T": lambda: lambda lg, y, T: F.cross_entropy(lg * T, y),
        "sum": lambda: lambda lg, y, T: F.cross_entropy(lg / T, y, reduction="sum"),
        "bits": lambda: lambda lg, y, T: F.cross_entropy(lg / T, y) / math.log(2),
    },
)
def _check_3_2(nll) -> str:
    logits, labels = calibration_data(n=500)
    for T in (0.5, 2.0, 3.0):
        got = _number(_call(nll, logits.clone(), labels.clone(), T), "NLL")
        ref = float(_nll_T(logits, labels, T))
        _diagnose(
            got,
            ref,
            {
                "the logits are multiplied by T; temperature scaling DIVIDES them": float(
                    F.cross_entropy(logits * T, labels)
                ),
                "this is the summed NLL; use the mean over examples": ref * len(labels),
                _BITS_HINT: ref / math.log(2),
            },
            1e-5,
            "NLL",
        )
    return "NLL(T) right for several temperatures"


def _fit_T_ref(logits, labels) -> float:
    lo, hi = math.log(0.05), math.log(20.0)
    f = lambda t: float(F.cross_entropy(logits.double() / math.exp(t), labels))
    gr = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - gr * (hi - lo), lo + gr * (hi - lo)
        if f(a) < f(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


@_register(
    "3.3",
    "Fit the temperature",
    lambda: _fit_T_ref,
    {
        "reciprocal": lambda: lambda lg, y: 1 / _ref_T(),
        "unfitted": lambda: lambda lg, y: 1.0,
        "coarse": lambda: lambda lg, y: round(_ref_T()),
    },
)
def _check_3_3(fit) -> str:
    logits, labels = calibration_data()
    got = _number(_call(fit, logits.clone(), labels.clone()), "temperature")
    ref = _ref_T()
    if abs(got - ref) <= 0.01 * ref:
        return "temperature within 1% of the NLL minimiser"
    if abs(got * ref - 1) < 0.02:
        _fail(
            "this is the reciprocal: the model is overconfident, so the logits need dividing by T > 1"
        )
    if got == 1.0:
        _fail("T = 1 changes nothing: minimise the NLL over T")
    _fail(
        f"the temperature is too {'large' if got > ref else 'small'} (tolerance 1%): does the fit converge?"
    )
    return ""


@_register(
    "3.4",
    "Smoothing to match an accuracy",
    lambda: 0.15 * 10 / 9,
    {
        "others": lambda: 0.15,
        "confidence": lambda: 0.85,
        "inverse": lambda: 0.15 * 9 / 10,
    },
)
def _check_3_4(a) -> str:
    got = _number(a, "alpha")
    _diagnose(
        got,
        0.15 * 10 / 9,
        {
            _OTHERS_HINT: 0.15,
            "that is the target confidence itself, not the smoothing that produces it": 0.85,
            "the conversion factor is inverted: with uniform alpha the true class gets alpha/K back": 0.15
            * 9
            / 10,
        },
        1e-4,
        "alpha",
    )
    return "at this alpha the floor's confidence equals the accuracy"


def _brier_ref(probs, labels):
    return ((probs - F.one_hot(labels, probs.shape[1])) ** 2).sum(1).mean()


@_register(
    "3.5",
    "The Brier score",
    lambda: _brier_ref,
    {
        "mean over entries": lambda: lambda p, y: ((p - F.one_hot(y, p.shape[1])) ** 2).mean(),
        "true class only": lambda: lambda p, y: ((1 - p[torch.arange(len(y)), y]) ** 2).mean(),
        "abs": lambda: lambda p, y: (p - F.one_hot(y, p.shape[1])).abs().sum(1).mean(),
    },
)
def _check_3_5(brier) -> str:
    logits, labels = calibration_data(n=500)
    probs = torch.softmax(logits.double(), 1)
    got = _number(_call(brier, probs.clone(), labels.clone()), "Brier score")
    ref = float(_brier_ref(probs, labels))
    y = F.one_hot(labels, 10)
    _diagnose(
        got,
        ref,
        {
            "this averages over all N*K entries; sum over classes, then average over examples": ref
            / 10,
            "the wrong classes are missing: sum the squared error over ALL classes": float(
                ((1 - probs[torch.arange(500), labels]) ** 2).mean()
            ),
            "the errors must be squared": float((probs - y).abs().sum(1).mean()),
        },
        1e-6,
        "Brier score",
    )
    return "Brier score right"


@cache
def _ref_T() -> float:
    return _fit_T_ref(*calibration_data())


@cache
def _ece_pair():
    logits, labels = calibration_data()
    T = _ref_T()
    return (
        _ece_ref(torch.softmax(logits, 1), labels),
        _ece_ref(torch.softmax(logits / T, 1), labels),
    )


@_register(
    "3.6",
    "Does temperature scaling fix it?",
    _ece_pair,
    {
        "swapped": lambda: _ece_pair()[::-1],
        "percent": lambda: tuple(100 * v for v in _ece_pair()),
        "times T": lambda: (
            _ece_pair()[0],
            _ece_ref(torch.softmax(calibration_data()[0] * 2.5, 1), calibration_data()[1]),
        ),
    },
)
def _check_3_6(pair) -> str:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        _fail("answer with a pair (ece_before, ece_after)")
    got = [_number(v, "ECE") for v in pair]
    ref = list(_ece_pair())
    if max(got) > 1:
        _fail("the values look like percent; give ECE as a fraction in [0, 1]")
    if abs(got[0] - ref[0]) > 1e-4:
        if abs(got[0] - ref[1]) < 5e-3 and abs(got[1] - ref[0]) < 1e-4:
            _fail("the two values are swapped")
        _fail("ece_before is off: use the raw logits and 15 bins")
    if got[1] >= got[0]:
        _fail("ece_after should be lower: check that you divide the logits by the fitted T")
    if abs(got[1] - ref[1]) > 5e-3:
        _fail(
            f"ece_after is too {'large' if got[1] > ref[1] else 'small'}: fit T by minimising the NLL"
        )
    return "temperature scaling removes most of the calibration error"


# --------------------------------------------------------------------------- chapter 4:
# applications


@_register(
    "4.1",
    "Two-hot value targets",
    lambda: _two_hot,
    {
        "swapped weights": lambda: lambda y, c: _two_hot_swapped(y, c),
        "nearest one-hot": lambda: (
            lambda y, c: F.one_hot((y[:, None] - c[None]).abs().argmin(1), c.numel()).double()
        ),
        "transposed": lambda: lambda y, c: _two_hot(y, c).T,
    },
)
def _check_4_1(two_hot) -> str:
    centers = torch.linspace(-2, 2, 9, dtype=torch.float64)
    y = torch.tensor([-1.8, -0.3, 0.0, 0.7, 1.95], dtype=torch.float64)
    got = _tensor(_call(two_hot, y.clone(), centers.clone()), (5, 9), "two-hot targets")
    ref = _two_hot(y, centers)
    _diagnose(
        got,
        ref,
        {
            "the two weights are swapped: the NEARER centre gets the larger weight": _two_hot_swapped(
                y, centers
            ),
            "this puts all the mass on the nearest centre (one-hot); split it between the two neighbours": F.one_hot(
                (y[:, None] - centers[None]).abs().argmin(1), 9
            ),
        },
        1e-6,
        "targets",
    )
    if not torch.allclose(got @ centers, y, atol=1e-6):
        _fail("the targets' mean (targets @ centers) should equal y")
    return "two-hot targets right; their mean recovers y"


def _two_hot_swapped(y, c):
    t = _two_hot(y, c)
    out = torch.zeros_like(t)
    for i in range(t.shape[0]):
        nz = t[i].nonzero().flatten()
        if nz.numel() == 2:
            out[i, nz[0]], out[i, nz[1]] = t[i, nz[1]], t[i, nz[0]]
        else:
            out[i] = t[i]
    return out


@_register(
    "4.2",
    "One-sided smoothing for a GAN discriminator",
    lambda: lambda real, a: torch.where(real, 1.0 - a, 0.0),
    {
        "two-sided": lambda: lambda real, a: torch.where(real, 1.0 - a, a),
        "K=2 uniform": lambda: lambda real, a: torch.where(real, 1.0 - a / 2, a / 2),
        "none": lambda: lambda real, a: real.double(),
    },
)
def _check_4_2(targets) -> str:
    real = torch.tensor([True, False, True, True, False])
    for a in (0.1, 0.2):
        got = _tensor(_call(targets, real.clone(), a), (5,), "target vector")
        _diagnose(
            got,
            torch.where(real, 1.0 - a, 0.0),
            {
                "fake targets were smoothed too; one-sided smoothing leaves them at 0": torch.where(
                    real, 1.0 - a, a
                ),
                "this is the K=2 uniform convention, which also moves the fake targets": torch.where(
                    real, 1 - a / 2, a / 2
                ),
                "no smoothing applied": real.double(),
            },
            1e-6,
            "targets",
        )
    return "one-sided targets right"


def _aurc_data():
    g = _gen(5)
    conf = torch.rand(300, generator=g, dtype=torch.float64)
    correct = torch.rand(300, generator=g, dtype=torch.float64) < 0.3 + 0.6 * conf
    return conf, correct


@_register(
    "4.3",
    "Risk-coverage area (AURC)",
    lambda: _aurc,
    {
        "ascending": lambda: lambda c, k: _aurc(-c, k),
        "accuracy": lambda: lambda c, k: 1 - _aurc(c, k),
        "full coverage": lambda: lambda c, k: float(1 - k.double().mean()),
    },
)
def _check_4_3(aurc) -> str:
    conf, correct = _aurc_data()
    got = _number(_call(aurc, conf.clone(), correct.clone()), "AURC")
    ref = _aurc(conf, correct)
    _diagnose(
        got,
        ref,
        {
            "the ranking is reversed: keep the MOST confident predictions first": _aurc(
                -conf, correct
            ),
            "this is the area under accuracy-coverage; risk is the error rate": 1 - ref,
            "this is the risk at full coverage only; average the selective risk over all coverages": float(
                1 - correct.double().mean()
            ),
        },
        1e-6,
        "AURC",
    )
    return "AURC matches lsutils.selective.aurc"


def _kd_ref(s, t, T):
    return F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T


@_register(
    "4.4",
    "The distillation loss",
    lambda: _kd_ref,
    {
        "no T^2": lambda: lambda s, t, T: _kd_ref(s, t, T) / T**2,
        "reversed KL": lambda: lambda s, t, T: _kd_ref(t, s, T),
        "sum": lambda: lambda s, t, T: _kd_ref(s, t, T) * s.shape[0],
    },
)
def _check_4_4(kd) -> str:
    g = _gen(6)
    s, t = (
        torch.randn(6, 5, generator=g, dtype=torch.float64),
        3 * torch.randn(6, 5, generator=g, dtype=torch.float64),
    )
    for T in (2.0, 4.0):
        got = _number(_call(kd, s.clone(), t.clone(), T), "loss")
        ref = float(_kd_ref(s, t, T))
        _diagnose(
            got,
            ref,
            {
                "the T^2 factor is missing (it keeps gradient sizes comparable across temperatures)": ref
                / T**2,
                "the KL is reversed: the teacher's distribution comes first, KL(teacher || student)": float(
                    _kd_ref(t, s, T)
                ),
                "this sums over the batch; average over examples (batchmean)": ref * 6,
            },
            1e-6,
            "loss",
        )
    return "matches Hinton's T^2-scaled KL"


@_register(
    "4.5",
    "Label noise as smoothing",
    lambda: lambda r, K: r * K / (K - 1),
    {
        "identity": lambda: lambda r, K: r,
        "inverse": lambda: lambda r, K: r * (K - 1) / K,
        "times K": lambda: lambda r, K: r * K,
    },
)
def _check_4_5(eq) -> str:
    for r, K in [(0.2, 10), (0.1, 3), (0.4, 5)]:
        got = _number(_call(eq, r, K), "alpha")
        _diagnose(
            got,
            r * K / (K - 1),
            {
                "that would hold if a noisy label could land on the true class again; here it always moves to a "
                "DIFFERENT class (the 'others' convention)": r,
                "the conversion goes the other way: uniform alpha gives alpha/K back to the true class": r
                * (K - 1)
                / K,
            },
            1e-9,
            "alpha",
        )
    return "the expected noisy target equals the smoothed target"


def _mia_data():
    g = _gen(7)
    m = (torch.rand(200, generator=g, dtype=torch.float64) * 2).round(decimals=1)
    n = (torch.rand(150, generator=g, dtype=torch.float64) * 2.5).round(decimals=1)
    return m, n


def _auc_no_ties(m, n):
    return float((m[:, None] < n[None, :]).double().mean())


@_register(
    "4.6",
    "Membership-inference AUC",
    lambda: _membership_auc,
    {
        "reversed": lambda: lambda m, n: 1 - _membership_auc(m, n),
        "ties dropped": lambda: _auc_no_ties,
        "strict greater": lambda: lambda m, n: float((m[:, None] > n[None, :]).double().mean()),
    },
)
def _check_4_6(auc) -> str:
    m, n = _mia_data()
    got = _number(_call(auc, m.clone(), n.clone()), "AUC")
    ref = _membership_auc(m, n)
    _diagnose(
        got,
        ref,
        {
            "the direction is reversed: a LOW loss signals a member": 1 - ref,
            "ties (equal losses) should count one half": _auc_no_ties(m, n),
            "this counts members with HIGHER loss; a low loss signals a member": float(
                (m[:, None] > n[None, :]).double().mean()
            ),
        },
        1e-6,
        "AUC",
    )
    return "AUC matches lsutils.privacy.membership_auc"
