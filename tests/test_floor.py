"""Tests for lsutils.floor: the sympy derivation, the numeric floor, and the optimal logit gap."""

import math

import pytest
import sympy as sp
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import lsutils.floor as fl
from lsutils import (
    floor_expr,
    gap_expr,
    loss_floor,
    optimal_logit_gap,
    smoothed_cross_entropy,
    target_probs,
)

Ks = st.integers(2, 1000)
alphas = st.floats(0.0, 1.0)
inner_alphas = st.floats(1e-6, 1.0 - 1e-6)  # log p is finite: the optimal logits exist
conventions = st.sampled_from(["uniform", "others"])


def sympy_value(expr, k, a):
    """Evaluate a sympy expression in K and alpha; at alpha = 0 or 1, where 0 log 0 appears, take
    the limit."""
    at_k = expr.subs(fl.K, k)
    value = at_k.subs(fl.alpha, sp.Float(a))
    if value.has(sp.nan, sp.zoo):
        value = sp.limit(at_k, fl.alpha, sp.Integer(round(a)), "+" if a == 0 else "-")
    return float(value)


def test_headline_floors():
    assert loss_floor(10, 0.1) == pytest.approx(0.5003, abs=1e-4)
    assert loss_floor(10, 0.1, "others") == pytest.approx(0.5448, abs=1e-4)


@given(Ks, alphas, conventions)
@example(10, 0.0, "uniform")
@example(10, 0.0, "others")
@example(10, 1.0, "uniform")
@example(10, 1.0, "others")
def test_loss_floor_equals_sympy_floor_expr(k, a, convention):
    assert loss_floor(k, a, convention) == pytest.approx(
        sympy_value(floor_expr(convention), k, a), abs=1e-9
    )


@given(Ks, inner_alphas, conventions)
def test_floor_is_attained_at_log_p(k, a, convention):
    p_true, p_other = target_probs(k, a, convention)
    logits = torch.full((1, k), math.log(p_other), dtype=torch.float64)
    logits[0, 0] = math.log(p_true)
    loss = smoothed_cross_entropy(logits, torch.tensor([0]), a, convention)
    assert loss.item() == pytest.approx(loss_floor(k, a, convention), abs=1e-9)


@given(Ks, inner_alphas, conventions)
def test_optimal_gap_attains_the_floor(k, a, convention):
    logits = torch.zeros(1, k, dtype=torch.float64)
    logits[0, k - 1] = optimal_logit_gap(k, a, convention)
    loss = smoothed_cross_entropy(logits, torch.tensor([k - 1]), a, convention)
    assert loss.item() == pytest.approx(loss_floor(k, a, convention), abs=1e-9)


@given(Ks, alphas, conventions, st.integers(0, 2**31 - 1), st.floats(0.01, 20.0))
def test_no_logits_go_below_the_floor(k, a, convention, seed, scale):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (16,), generator=g)
    logits = scale * torch.randn(16, k, generator=g, dtype=torch.float64)
    losses = smoothed_cross_entropy(logits, labels, a, convention, reduction="none")
    assert (losses >= loss_floor(k, a, convention) - 1e-9).all()


@given(Ks, inner_alphas, conventions, st.integers(0, 2**31 - 1))
def test_floor_is_a_local_minimum(k, a, convention, seed):
    # Small perturbations of the optimal logits raise the loss (up to rounding).
    p_true, p_other = target_probs(k, a, convention)
    best = torch.full((8, k), math.log(p_other), dtype=torch.float64)
    best[:, 0] = math.log(p_true)
    noise = 1e-3 * torch.randn(
        8, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    losses = smoothed_cross_entropy(
        best + noise, torch.zeros(8, dtype=torch.long), a, convention, "none"
    )
    assert (losses >= loss_floor(k, a, convention) - 1e-12).all()


@pytest.mark.parametrize("k", [2, 3, 10, 1000])
def test_floor_endpoints(k):
    assert loss_floor(k, 0.0) == 0.0
    assert loss_floor(k, 0.0, "others") == 0.0
    assert loss_floor(k, 1.0) == pytest.approx(math.log(k))
    assert loss_floor(k, (k - 1) / k, "others") == pytest.approx(math.log(k))
    assert loss_floor(k, 1.0, "others") == pytest.approx(math.log(k - 1))


@pytest.mark.parametrize("convention", ["uniform", "others"])
def test_expressions_are_sympy_in_K_and_alpha(convention):
    for expr in (floor_expr(convention), gap_expr(convention)):
        assert isinstance(expr, sp.Expr)
        assert {s.name for s in expr.free_symbols} == {"K", "alpha"}
        assert expr.free_symbols == {fl.K, fl.alpha}


@pytest.mark.parametrize("convention", ["uniform", "others"])
def test_floor_derivation_stationary_point_is_q_equals_p(convention):
    steps = fl.floor_derivation(convention)
    p_true, p_other = fl.target_exprs(convention)
    assert sp.simplify(steps["q_true"] - p_true) == 0
    assert sp.simplify(steps["q_other"] - p_other) == 0
    assert sp.simplify(steps["lambda"] - 1) == 0
    # The floor is the entropy of the target, -sum p log p.
    entropy = -(p_true * sp.log(p_true) + (fl.K - 1) * p_other * sp.log(p_other))
    assert sp.simplify(steps["floor"] - entropy) == 0


def test_gap_headline():
    gap = sympy_value(gap_expr("uniform"), 10, 0.1)
    assert gap == pytest.approx(4.511, abs=1e-3)
    assert gap == pytest.approx(math.log(91), abs=1e-12)
    assert optimal_logit_gap(10, 0.1) == pytest.approx(math.log(91), abs=1e-12)


@given(Ks, inner_alphas, conventions)
def test_optimal_logit_gap_equals_gap_expr(k, a, convention):
    expected = sympy_value(gap_expr(convention), k, a)
    assert optimal_logit_gap(k, a, convention) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_optimal_logit_gap_endpoints():
    assert optimal_logit_gap(10, 0.0) == math.inf
    assert optimal_logit_gap(10, 0.0, "others") == math.inf
    assert optimal_logit_gap(10, 1.0) == pytest.approx(0.0)
    assert optimal_logit_gap(10, 0.9, "others") == pytest.approx(0.0, abs=1e-12)
    assert optimal_logit_gap(10, 1.0, "others") == -math.inf
