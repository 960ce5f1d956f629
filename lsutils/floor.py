"""The loss floor: the smallest value the smoothed cross-entropy can take, derived with sympy.

For one example the expected loss is ``H(p, q) = -sum_k p_k log q_k`` over the probability simplex.
It is strictly convex in q and symmetric under permutations of the wrong classes, so its unique
minimiser gives all K-1 wrong classes the same probability: we minimise over ``(q_true, q_other)``
subject to ``q_true + (K-1) q_other = 1`` with a Lagrange multiplier. sympy finds the stationary
point ``q = p``; the floor is the entropy ``H(p)`` there, and the optimal logit gap is ``log(p_true
/ p_other)``.
"""

from __future__ import annotations

import math
from functools import cache

import sympy as sp

from ._validate import check_alpha, check_convention, check_num_classes
from .targets import target_probs

__all__ = [
    "K",
    "alpha",
    "target_exprs",
    "floor_derivation",
    "floor_expr",
    "gap_expr",
    "loss_floor",
    "optimal_logit_gap",
]

K = sp.Symbol("K", positive=True, integer=True)
alpha = sp.Symbol("alpha", positive=True)


def target_exprs(convention: str = "uniform") -> tuple[sp.Expr, sp.Expr]:
    """``(p_true, p_other)`` of the smoothed target as sympy expressions in ``K`` and ``alpha``."""
    if check_convention(convention) == "uniform":
        return 1 - alpha + alpha / K, alpha / K
    return 1 - alpha, alpha / (K - 1)


def floor_derivation(convention: str = "uniform") -> dict[str, sp.Expr]:
    """The steps of the derivation: the objective, the stationary point, and the floor
    (unsimplified)."""
    return dict(
        _floor_derivation(check_convention(convention))
    )  # a copy: the cached dict stays intact


@cache
def _floor_derivation(convention: str) -> dict[str, sp.Expr]:
    p_true, p_other = target_exprs(convention)
    q_true, q_other, lam = sp.symbols("q_true q_other lambda", positive=True)
    objective = -(p_true * sp.log(q_true) + (K - 1) * p_other * sp.log(q_other))
    lagrangian = objective + lam * (q_true + (K - 1) * q_other - 1)
    equations = [sp.diff(lagrangian, v) for v in (q_true, q_other, lam)]
    (solution,) = sp.solve(equations, [q_true, q_other, lam], dict=True)
    return {
        "objective": objective,
        "q_true": sp.simplify(solution[q_true]),
        "q_other": sp.simplify(solution[q_other]),
        "lambda": sp.simplify(solution[lam]),
        "floor": objective.subs(solution),
    }


def floor_expr(convention: str = "uniform") -> sp.Expr:
    """The loss floor in nats as a sympy expression in the symbols ``K`` and ``alpha`` (derived, not
    typed)."""
    return _floor_derivation(check_convention(convention))["floor"]


def gap_expr(convention: str = "uniform") -> sp.Expr:
    """The optimal logit gap ``z_true - z_other = log(q_true / q_other)`` at the minimum, in ``K``,
    ``alpha``."""
    return _gap_expr(check_convention(convention))


@cache
def _gap_expr(convention: str) -> sp.Expr:
    step = _floor_derivation(convention)
    return sp.simplify(sp.log(step["q_true"] / step["q_other"]))


_NO_FLOOR = (
    "negative smoothing has no loss floor (the loss is unbounded below as wrong-class q -> 0)"
)


def _xlogx(x: float) -> float:
    return 0.0 if x == 0.0 else x * math.log(x)


def loss_floor(num_classes: int, alpha: float, convention: str = "uniform") -> float:
    """Minimum of the smoothed cross-entropy in nats: the entropy of the smoothed target."""
    K_ = check_num_classes(num_classes)
    p_true, p_other = target_probs(K_, check_alpha(alpha, negative_hint=_NO_FLOOR), convention)
    return -(_xlogx(p_true) + (K_ - 1) * _xlogx(p_other))


def optimal_logit_gap(num_classes: int, alpha: float, convention: str = "uniform") -> float:
    """``z_true - z_other`` at the loss minimum, ``log(p_true / p_other)``; ``inf`` without
    smoothing."""
    K_ = check_num_classes(num_classes)
    p_true, p_other = target_probs(K_, check_alpha(alpha, negative_hint=_NO_FLOOR), convention)
    if p_other == 0.0:
        return math.inf
    if p_true == 0.0:
        return -math.inf
    return math.log(p_true / p_other)
