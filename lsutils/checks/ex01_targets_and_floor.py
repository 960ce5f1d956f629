"""Checkers of the Hands-On notebook 01, targets and the loss floor (exercises 1.1 to 1.10)."""

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
    Case,
    Exercise,
    Expr,
    Mistake,
    Number,
    Parts,
    Property,
    Tensor,
    register,
)
from .inputs import Draw, describe

_FLOOR_MODULE = (
    "lsutils.floor_expr",
    "lsutils.loss_floor",
    "lsutils.floor.floor_expr",
    "lsutils.floor.floor_derivation",
    "lsutils.floor.loss_floor",
)
_GAP_MODULE = (
    "lsutils.gap_expr",
    "lsutils.optimal_logit_gap",
    "lsutils.floor.gap_expr",
    "lsutils.floor.optimal_logit_gap",
    "lsutils.floor.floor_derivation",
)

# ------------------------------------------------------------------ 1.1 smoothed targets


def _targets(labels, num_classes, p_true, p_other):
    hot = F.one_hot(labels, num_classes).double()
    return hot * p_true + (1 - hot) * p_other


def _smooth(labels, num_classes, smoothing):
    k = num_classes
    return _targets(labels, k, 1 - smoothing + smoothing / k, smoothing / k)


def _smooth_others(labels, num_classes, smoothing):
    return _targets(labels, num_classes, 1 - smoothing, smoothing / (num_classes - 1))


def _one_hot(labels, num_classes, smoothing):
    return F.one_hot(labels, num_classes).double()


def _no_share_for_true_class(labels, num_classes, smoothing):
    hot = F.one_hot(labels, num_classes).double()
    return hot * (1 - smoothing) + (1 - hot) * smoothing / num_classes


def _cases_1_1(d: Draw) -> list[Case]:
    raw = [
        (torch.tensor([0, 2, 1, 2]), 3, 0.3),
        (torch.tensor([1, 0, 1]), 2, 1.0),
        (torch.tensor([3]), 4, 0.25),
    ]
    for _ in range(2):
        k = d.integer(3, 12)
        raw.append((d.labels(d.integer(2, 8), k), k, d.uniform(0.05, 0.95)))
    return [Case(args, describe("labels, num_classes, smoothing", args)) for args in raw]


def _rows_sum_to_one(parts, case) -> bool:
    t = parts[0]
    return t.ndim == 2 and bool(torch.allclose(t.sum(1), torch.ones_like(t[:, 0]), atol=1e-4))


register(
    Exercise(
        "1.1",
        "Smoothed targets from scratch",
        reference=_smooth,
        output=Tensor("target tensor"),
        cases=_cases_1_1,
        mistakes=(
            Mistake("others", _smooth_others, OTHERS_HINT),
            Mistake("one-hot", _one_hot, "no smoothing applied: these are one-hot targets"),
            Mistake(
                "no share for the true class",
                _no_share_for_true_class,
                "the true class also gets its share alpha/K of the uniform part (rows must sum "
                "to 1)",
            ),
        ),
        forbidden=(
            "lsutils.smooth_targets",
            "lsutils.target_probs",
            "lsutils.targets.smooth_targets",
            "lsutils.targets.target_probs",
        ),
        properties=(Property(_rows_sum_to_one, "each row of the targets must sum to 1"),),
        passed="the rows match torch's label_smoothing targets",
    )
)

# ------------------------------------------------------------------ 1.2 converting conventions


def _cases_1_2(d: Draw) -> list[Case]:
    raw = [(0.1, 10), (1.0, 2), (0.0, 5)]
    raw += [(d.uniform(0.01, 0.99), d.integer(2, 1000)) for _ in range(2)]
    return [Case(args, describe("smoothing, num_classes", args)) for args in raw]


register(
    Exercise(
        "1.2",
        "Converting between conventions",
        reference=lambda smoothing, num_classes: smoothing * (num_classes - 1) / num_classes,
        output=Number("eps"),
        cases=_cases_1_2,
        mistakes=(
            Mistake(
                "inverse",
                lambda a, k: a * k / (k - 1),
                "this converts the other way (others -> uniform): eps is the total mass the "
                "uniform target puts on the WRONG classes",
            ),
            Mistake(
                "identity",
                lambda a, k: a,
                "the two conventions differ: uniform alpha also gives alpha/K back to the true "
                "class",
            ),
        ),
        forbidden=(
            "lsutils.convert_alpha",
            "lsutils.targets.convert_alpha",
            "lsutils.targets.to_uniform_alpha",
        ),
        passed="eps gives the same target as torch's smoothing, for every (smoothing, K) tried",
    )
)

# ------------------------------------------------------- 1.3 and 1.5: floor and gap of a target


def _entropy_expr(p_true, p_other):
    return -(p_true * sp.log(p_true) + (K - 1) * p_other * sp.log(p_other))


def _target_families(d: Draw) -> list[tuple[sp.Expr, sp.Expr, str]]:
    c = sp.Rational(d.integer(2, 9), 10)
    return [
        (1 - alpha + alpha / K, alpha / K, "the uniform-convention target"),
        (1 - alpha, alpha / (K - 1), "the target that spreads alpha over the K-1 wrong classes"),
        (1 - (K - 1) * c * alpha / K, c * alpha / K, f"the target with p_other = {c}*alpha/K"),
    ]


def _points(d: Draw, n: int = 4, symbols=("K", "alpha")) -> tuple[dict[str, float], ...]:
    out = [{"K": 10.0, "alpha": 0.1}]
    for _ in range(n - 1):
        out.append({"K": float(d.integer(2, 60)), "alpha": d.uniform(0.02, 0.95)})
    return tuple({k: v for k, v in p.items() if k in symbols} for p in out)


def _family_cases(d: Draw) -> list[Case]:
    return [
        Case((pt, po), f"for {what} (p_true = {pt}, p_other = {po})", _points(d))
        for pt, po, what in _target_families(d)
    ]


register(
    Exercise(
        "1.3",
        "The loss floor of a smoothed target",
        reference=_entropy_expr,
        output=Expr(("K", "alpha"), "floor"),
        cases=_family_cases,
        mistakes=(
            Mistake("bits", lambda pt, po: _entropy_expr(pt, po) / sp.log(2), BITS_HINT),
            Mistake("sign", lambda pt, po: -_entropy_expr(pt, po), SIGN_HINT),
            Mistake(
                "one wrong class",
                lambda pt, po: -(pt * sp.log(pt) + po * sp.log(po)),
                "the K-1 wrong classes each contribute p_other*log(q_other): the factor K-1 is "
                "missing",
            ),
        ),
        forbidden=_FLOOR_MODULE,
        passed="the minimum is right for every target family and (K, alpha) tried",
    )
)


def _gap_expr(p_true, p_other):
    return sp.log(p_true / p_other)


register(
    Exercise(
        "1.5",
        "The optimal logit gap",
        reference=_gap_expr,
        output=Expr(("K", "alpha"), "gap"),
        cases=_family_cases,
        mistakes=(
            Mistake("bits", lambda pt, po: _gap_expr(pt, po) / sp.log(2), BITS_HINT),
            Mistake(
                "sign",
                lambda pt, po: -_gap_expr(pt, po),
                SIGN_HINT + ": the true logit ends up above the others",
            ),
            Mistake(
                "no log",
                lambda pt, po: pt / po,
                "this is the probability ratio; logits are log-probabilities up to a constant",
            ),
            Mistake(
                "all wrong classes",
                lambda pt, po: sp.log(pt / ((K - 1) * po)),
                "the gap compares the true logit with ONE wrong logit, not with the mass of all "
                "K-1 wrong classes together",
            ),
        ),
        forbidden=_GAP_MODULE,
        passed="the gap is right for every target family and (K, alpha) tried",
    )
)

# ------------------------------------------------------------------ 1.4 the two floors


def _xlogx(x: float) -> float:
    return 0.0 if x == 0 else x * math.log(x)


def _entropy(p_true: float, p_other: float, num_classes: int) -> float:
    return -(_xlogx(p_true) + (num_classes - 1) * _xlogx(p_other))


def _floors(num_classes, smoothing):
    k, a = num_classes, smoothing
    return _entropy(1 - a + a / k, a / k, k), _entropy(1 - a, a / (k - 1), k)


def _cases_1_4(d: Draw) -> list[Case]:
    raw = [(10, 0.1), (3, 0.0), (5, 1.0)]
    raw += [(d.integer(2, 200), d.uniform(0.01, 0.99)) for _ in range(2)]
    return [Case(args, describe("num_classes, smoothing", args)) for args in raw]


register(
    Exercise(
        "1.4",
        "0.5003 or 0.544?",
        reference=_floors,
        output=Parts(Number("floor_uniform"), Number("floor_others")),
        cases=_cases_1_4,
        mistakes=(
            Mistake("bits", lambda k, a: tuple(v / math.log(2) for v in _floors(k, a)), BITS_HINT),
            Mistake(
                "swapped",
                lambda k, a: _floors(k, a)[::-1],
                "the two floors are swapped: the first is PyTorch's uniform mixing",
            ),
            Mistake(
                "same target twice",
                lambda k, a: (_floors(k, a)[0],) * 2,
                "the second floor uses the same target as the first: there the true class keeps "
                "1 - smoothing and each wrong class gets smoothing/(K-1)",
            ),
        ),
        forbidden=_FLOOR_MODULE,
        passed="both floors are right (nats) for every (K, smoothing) tried",
    )
)

# ------------------------------------------------------------------ 1.6 the maximising eps


def _cases_1_6(d: Draw) -> list[Case]:
    ks = [2.0, 3.0, 10.0, float(d.integer(4, 1000)), float(d.integer(4, 50))]
    return [Case(at=tuple({"K": k} for k in ks))]


register(
    Exercise(
        "1.6",
        "The smoothing that maximises the floor",
        reference=(K - 1) / K,
        output=Expr(("K",), "maximiser"),
        cases=_cases_1_6,
        takes="value",
        mistakes=(
            Mistake(
                "one",
                sp.Integer(1),
                "eps = 1 puts zero mass on the true class, which is not the highest-entropy target",
            ),
            Mistake(
                "1/K",
                1 / K,
                "at this eps the true class gets more than any wrong class; the maximum-entropy "
                "target is flatter",
            ),
            Mistake("half", sp.Rational(1, 2), "the maximiser depends on K"),
        ),
        passed="the maximiser is right for every K tried",
    )
)

# ------------------------------------------------------------------ 1.7 small-alpha expansion

_BETA = (K - 1) * alpha / K  # the mass the uniform target moves off the true class
_EXPANSION = _BETA * (1 + sp.log(K) - sp.log(alpha))


def _cases_1_7(d: Draw) -> list[Case]:
    at = [{"K": 10.0, "alpha": 0.1}, {"K": 2.0, "alpha": 0.3}]
    at += [{"K": float(d.integer(2, 100)), "alpha": d.log_uniform(0.005, 0.5)} for _ in range(3)]
    return [Case(at=tuple(at))]


register(
    Exercise(
        "1.7",
        "Small-alpha asymptotics",
        reference=_EXPANSION,
        output=Expr(("K", "alpha"), "expansion"),
        cases=_cases_1_7,
        takes="value",
        mistakes=(
            Mistake(
                "leading term only",
                -alpha * sp.log(alpha),
                "only the leading term: the factor (K-1)/K and the term linear in alpha are "
                "missing",
            ),
            Mistake(
                "no linear term",
                -_BETA * sp.log(alpha),
                "the alpha*log(alpha) term is right but the term linear in alpha is missing",
            ),
            Mistake(
                "sign of the log",
                _BETA * (1 + sp.log(K) + sp.log(alpha)),
                "the sign of the alpha*log(alpha) term is flipped",
            ),
            Mistake(
                "the floor itself",
                -(1 - _BETA) * sp.log(1 - _BETA) - _BETA * sp.log(alpha / K),
                "this is the floor itself: give its expansion, the alpha*log(alpha) and alpha "
                "terms only",
            ),
            Mistake(
                "second order",
                _EXPANSION - _BETA**2 / 2,
                "the expansion stops at the terms of order alpha: drop the alpha^2 term",
            ),
        ),
        passed="the expansion is right: the floor minus it vanishes faster than alpha",
    )
)

# ------------------------------------------------------------- 1.8 hard targets have no minimiser


def _gap_for_loss(loss, num_classes):
    return math.log(num_classes - 1) - math.log(math.expm1(loss))


def _cases_1_8(d: Draw) -> list[Case]:
    raw = [(0.01, 10), (1e-9, 3), (math.log(7.0), 7), (0.5, 2)]
    raw += [(d.log_uniform(1e-6, 2.0), d.integer(2, 1000)) for _ in range(2)]
    return [Case(args, describe("loss, num_classes", args)) for args in raw]


register(
    Exercise(
        "1.8",
        "Hard targets have no minimiser",
        reference=_gap_for_loss,
        output=Number("gap"),
        cases=_cases_1_8,
        mistakes=(
            Mistake(
                "small-loss approximation",
                lambda loss, k: math.log((k - 1) / loss),
                "this uses the approximation exp(loss) - 1 ~ loss: solve L(g) = loss exactly",
            ),
            Mistake(
                "one wrong class",
                lambda loss, k: -math.log(math.expm1(loss)),
                "all K-1 wrong logits enter the softmax normaliser: the factor K-1 is missing",
            ),
            Mistake("bits", lambda loss, k: _gap_for_loss(loss, k) / math.log(2), BITS_HINT),
            Mistake("sign", lambda loss, k: -_gap_for_loss(loss, k), SIGN_HINT),
        ),
        passed="the gap is right for every (loss, K) tried, tiny losses included",
    )
)

# ------------------------------------------------------------------ 1.9 H(p, q) = H(p) + KL


def _xlogy(x, y):
    return torch.special.xlogy(x, y)


def _decompose(p, q):
    ce = -_xlogy(p, q).sum(1)
    h = -_xlogy(p, p).sum(1)
    return ce, h, ce - h


def _reversed_kl(p, q):
    ce, h, _ = _decompose(p, q)
    return ce, h, (q * (q.log() - p.log())).sum(1)


def _entropy_of_q(p, q):
    ce = -_xlogy(p, q).sum(1)
    h = -(q * q.log()).sum(1)
    return ce, h, ce - h


def _naive_zero_log_zero(p, q):
    ce = -(p * q.log()).sum(1)
    h = -(p * p.log()).sum(1)
    return ce, h, (p * (p.log() - q.log())).sum(1)


def _cases_1_9(d: Draw) -> list[Case]:
    n, k = d.integer(2, 6), d.integer(2, 9)
    p_soft = d.dirichlet(n, k)
    hard = F.one_hot(d.labels(4, 5), 5).double()
    sparse = d.dirichlet(3, 6) * (d.rand(3, 6) < 0.6)
    sparse[:, 0] += 0.1
    sparse = sparse / sparse.sum(1, keepdim=True)
    same = d.dirichlet(2, 4)
    raw = [
        (p_soft, d.probs(n, k), ""),
        (hard, d.probs(4, 5), "one-hot rows p with zeros"),
        (sparse, d.probs(3, 6), "rows p with some zero entries"),
        (same, same.clone(), "p equal to q"),
        (d.dirichlet(1, 3), d.probs(1, 3), ""),
    ]
    return [Case((p, q), describe("p, q", (p, q), note)) for p, q, note in raw]


register(
    Exercise(
        "1.9",
        "Cross-entropy is entropy plus KL",
        reference=_decompose,
        output=Parts(Tensor("cross_entropy"), Tensor("entropy"), Tensor("kl")),
        cases=_cases_1_9,
        mistakes=(
            Mistake(
                "reversed KL",
                _reversed_kl,
                "the KL is reversed: H(p, q) = H(p) + KL(p || q), with the expectation taken "
                "under the target p",
            ),
            Mistake(
                "entropy of q",
                _entropy_of_q,
                "the entropy term is the entropy of the target p (it does not depend on the "
                "model); KL(p || q) carries all the dependence on q",
            ),
            Mistake(
                "0 log 0",
                _naive_zero_log_zero,
                "0 * log 0 counts as 0: with a zero in p, p * log(p) gives nan (use "
                "torch.xlogy(p, p), which returns 0 there)",
            ),
            Mistake(
                "bits", lambda p, q: tuple(v / math.log(2) for v in _decompose(p, q)), BITS_HINT
            ),
        ),
        properties=(
            Property(
                lambda parts, case: bool(
                    torch.allclose(parts[0], parts[1] + parts[2], atol=1e-6, equal_nan=True)
                ),
                "cross_entropy should equal entropy + kl, row by row",
            ),
        ),
        nonfinite="0 * log 0 counts as 0 (torch.xlogy(p, p) returns 0 there); q has no zeros",
        passed="H(p, q) = H(p) + KL(p || q), row by row, zeros in p included",
    )
)

# ------------------------------------------------------------ 1.10 smoothing as a KL penalty


def _kl_to_uniform(logits):
    return -math.log(logits.shape[1]) - torch.log_softmax(logits, dim=1).mean(dim=1)


def _confidence_penalty(logits):
    log_q = torch.log_softmax(logits, dim=1)
    return (log_q.exp() * (log_q + math.log(logits.shape[1]))).sum(dim=1)


def _cases_1_10(d: Draw) -> list[Case]:
    n, k = d.integer(2, 8), d.integer(2, 12)
    raw = [
        (d.logits(n, k), ""),
        (d.logits(4, 5, scale=1000.0), "logits of size about 1e3"),
        (d.logits(1, 2), ""),
        (torch.zeros(2, 7, dtype=torch.float64), "uniform predictions"),
    ]
    return [Case((z,), describe("logits", (z,), note)) for z, note in raw]


register(
    Exercise(
        "1.10",
        "Smoothing as a penalty towards the uniform distribution",
        reference=_kl_to_uniform,
        output=Tensor("penalty"),
        cases=_cases_1_10,
        mistakes=(
            Mistake(
                "reversed KL",
                _confidence_penalty,
                "this is KL(q || u), the confidence penalty of Pereyra et al. (2017); smoothing "
                "penalises the other direction, KL(u || q)",
            ),
            Mistake(
                "cross-entropy with u",
                lambda z: -torch.log_softmax(z, dim=1).mean(dim=1),
                "this is the cross-entropy H(u, q) = KL(u || q) + log K: subtract the entropy of u",
            ),
            Mistake("bits", lambda z: _kl_to_uniform(z) / math.log(2), BITS_HINT),
            Mistake("sign", lambda z: -_kl_to_uniform(z), SIGN_HINT),
        ),
        nonfinite="log(softmax(z)) underflows for large logits; log_softmax stays finite",
        passed="KL(u || q) is right, large logits included",
    )
)
