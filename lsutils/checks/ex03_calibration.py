"""Checkers of the Hands-On notebook 03, calibration and temperature scaling (exercises 3.1 to
3.7), and the synthetic data its exercises use (:func:`calibration_data`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..calibration import _golden_section
from .framework import (
    BITS_HINT,
    OTHERS_HINT,
    Case,
    Exercise,
    Mistake,
    Number,
    Parts,
    Property,
    register,
)
from .inputs import Draw, describe

__all__ = ["calibration_data"]


def calibration_data(
    n: int = 2000, num_classes: int = 10, scale: float = 2.5, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic ``(logits [n, K], labels [n])`` of a miscalibrated model: labels drawn from
    softmax(z), logits reported as ``scale * z``, so temperature ``scale`` calibrates them
    exactly in expectation (``scale > 1``: overconfident; ``scale < 1``: underconfident)."""
    g = torch.Generator().manual_seed(seed)
    cls = torch.randint(0, num_classes, (n,), generator=g)
    zz = torch.randn(n, num_classes, generator=g) + 2.0 * F.one_hot(cls, num_classes)
    labels = torch.multinomial(torch.softmax(zz, 1), 1, generator=g).squeeze(1)
    return (scale * zz).float(), labels


def _mixed_data(seed: int, n: int = 1500) -> tuple[torch.Tensor, torch.Tensor]:
    """Half the examples overconfident by a factor 6, half calibrated: no single temperature fits
    both, so minimising the NLL, the ECE or |confidence - accuracy| give different answers."""
    logits, labels = calibration_data(n, 10, 1.0, seed)
    g = torch.Generator().manual_seed(seed + 1)
    scale = torch.where(torch.rand(n, generator=g) < 0.5, 1.0, 6.0)
    return logits * scale[:, None], labels


def _data_case(d: Draw, kind: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    seed = d.integer(1, 10**6)
    if kind == "default":
        return (*calibration_data(), "on checks.calibration_data()")
    if kind == "under":
        s = d.uniform(0.4, 0.8)
        return (*calibration_data(1000, 10, s, seed), "on an underconfident model")
    if kind == "over":
        s = d.uniform(1.5, 4.0)
        return (*calibration_data(1000, d.integer(3, 10), s, seed), "on an overconfident model")
    if kind == "calibrated":
        s = d.uniform(0.9, 1.1)
        return (*calibration_data(1000, d.integer(3, 10), s, seed), "on a nearly calibrated model")
    return (*_mixed_data(seed), "on a model that no single temperature calibrates")


# ------------------------------------------------------------------ 3.1 ECE


def _conf_correct(probs, labels):
    conf, pred = probs.double().max(dim=1)
    return conf, (pred == labels).double()


def _binned(conf, correct, n_bins, closed_right=True, weighted=True) -> float:
    """ECE over equal-width bins ((m-1)/M, m/M] (or [(m-1)/M, m/M) with closed_right=False)."""
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    index = torch.bucketize(conf, edges, right=not closed_right) - 1
    keep = (index >= 0) & (index < n_bins)
    index, conf, correct = index[keep], conf[keep], correct[keep]
    count = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, index, torch.ones_like(conf))
    conf_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, index, conf)
    acc_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, index, correct)
    full = count > 0
    gap = ((acc_sum - conf_sum)[full] / count[full]).abs()
    if weighted:
        return float((gap * count[full]).sum() / len(keep))
    return float(gap.mean())


def _ece(probs, labels, n_bins=15):
    return _binned(*_conf_correct(probs, labels), n_bins)


def _ece_true_class(probs, labels, n_bins=15):
    conf = probs.double()[torch.arange(len(labels)), labels]
    return _binned(conf, _conf_correct(probs, labels)[1], n_bins)


def _edge_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Confidences exactly on bin edges (0.5, 0.75, 1.0 with 4 bins): the side each edge belongs
    to matters."""
    rows = [
        [0.5, 0.25, 0.125, 0.125],
        [0.125, 0.75, 0.0625, 0.0625],
        [1.0, 0.0, 0.0, 0.0],
        [0.25, 0.125, 0.125, 0.5],
        [0.625, 0.125, 0.125, 0.125],
        [0.0, 0.0, 1.0, 0.0],
    ]
    return torch.tensor(rows, dtype=torch.float64), torch.tensor([0, 0, 0, 3, 1, 1])


def _cases_3_1(d: Draw) -> list[Case]:
    raw = []
    logits, labels, note = _data_case(d, "default")
    raw.append((torch.softmax(logits, 1), labels, 15, note))
    for kind in ("mixed", "calibrated"):  # bins whose gaps differ in sign: binning matters
        logits, labels, note = _data_case(d, kind)
        raw.append((torch.softmax(logits, 1), labels, d.choice((5, 10, 20)), note))
    probs, labels = _edge_data()
    raw.append((probs, labels, 4, "confidences exactly on the bin edges"))
    return [
        Case((p, y, b), describe("probs, labels, n_bins", (p, y, b), note)) for p, y, b, note in raw
    ]


register(
    Exercise(
        "3.1",
        "ECE from scratch",
        reference=_ece,
        output=Number("ECE", tol=1e-5),
        cases=_cases_3_1,
        mistakes=(
            Mistake(
                "percent",
                lambda p, y, n_bins=15: 100 * _ece(p, y, n_bins),
                "the answer is in percent; give ECE as a fraction in [0, 1]",
            ),
            Mistake(
                "unweighted",
                lambda p, y, n_bins=15: _binned(*_conf_correct(p, y), n_bins, weighted=False),
                "each bin must be weighted by the fraction of examples in it",
            ),
            Mistake(
                "true-class confidence",
                _ece_true_class,
                "confidence is the top (predicted-class) probability, not the true-class "
                "probability",
            ),
            Mistake(
                "fixed bins",
                lambda p, y, n_bins=15: _ece(p, y, 15),
                "the number of bins must come from the argument n_bins",
            ),
            Mistake(
                "left-closed bins",
                lambda p, y, n_bins=15: _binned(*_conf_correct(p, y), n_bins, closed_right=False),
                "the bins are closed on the right, ((m-1)/M, m/M]: a confidence equal to an edge "
                "belongs to the bin below it",
            ),
        ),
        forbidden=(
            "lsutils.expected_calibration_error",
            "lsutils.calibration.expected_calibration_error",
            "lsutils.calibration.reliability_data",
            "lsutils.calibration.calibration_summary",
        ),
        passed="ECE is right for every data set and number of bins tried, edges included",
    )
)

# ------------------------------------------------------------------ 3.2 NLL at a temperature


def _nll_at(logits, labels, T):
    return F.cross_entropy(logits.double() / T, labels)


def _cases_3_2(d: Draw) -> list[Case]:
    logits, labels = calibration_data(500, seed=d.integer(1, 10**6))
    raw = [
        (logits, labels, 2.5, "on calibration data"),
        (logits, labels, d.uniform(0.3, 0.9), "on calibration data"),
        (logits, labels, d.uniform(1.1, 5.0), "on calibration data"),
        (d.logits(6, 5, scale=1000.0), d.labels(6, 5), 0.5, "logits of size about 1e3"),
    ]
    return [
        Case((lg, y, t), describe("logits, labels, T", (lg, y, t), note)) for lg, y, t, note in raw
    ]


register(
    Exercise(
        "3.2",
        "NLL at a temperature",
        reference=_nll_at,
        output=Number("NLL", tol=1e-5),
        cases=_cases_3_2,
        mistakes=(
            Mistake(
                "times T",
                lambda lg, y, t: F.cross_entropy(lg.double() * t, y),
                "the logits are multiplied by T; temperature scaling DIVIDES them",
            ),
            Mistake(
                "sum",
                lambda lg, y, t: F.cross_entropy(lg.double() / t, y, reduction="sum"),
                "this is the summed NLL; use the mean over examples",
            ),
            Mistake("bits", lambda lg, y, t: _nll_at(lg, y, t) / math.log(2), BITS_HINT),
        ),
        nonfinite="log(softmax(...)) underflows for large logits: use F.cross_entropy or "
        "log_softmax on logits / T",
        passed="NLL(T) is right for every temperature tried",
    )
)

# ------------------------------------------------------------------ 3.3 fitting T


_LOG_T_RANGE = (math.log(0.05), math.log(20.0))


def _golden(f, tol: float = 1e-7) -> float:
    """exp of the minimiser of f over log T in [log 0.05, log 20] (golden-section search)."""
    return math.exp(_golden_section(f, *_LOG_T_RANGE, tol))


def _fit_nll(logits, labels):
    return _golden(lambda t: float(_nll_at(logits, labels, math.exp(t))))


def _fit_ece(logits, labels):
    return _golden(lambda t: _ece(torch.softmax(logits.double() / math.exp(t), 1), labels))


def _fit_confidence(logits, labels):
    """The T at which the mean confidence equals the accuracy (bisection on log T)."""
    accuracy = float((logits.argmax(1) == labels).double().mean())
    lo, hi = _LOG_T_RANGE
    for _ in range(50):
        mid = (lo + hi) / 2
        conf = float(torch.softmax(logits.double() / math.exp(mid), 1).amax(1).mean())
        lo, hi = (mid, hi) if conf > accuracy else (lo, mid)
    return math.exp((lo + hi) / 2)


def _cases_3_3(d: Draw) -> list[Case]:
    raw = [_data_case(d, kind) for kind in ("default", "under", "over", "mixed")]
    return [Case((lg, y), describe("logits, labels", (lg, y), note)) for lg, y, note in raw]


def _minimises_nll(parts, case) -> bool:
    t = float(parts[0][0])
    if not (math.isfinite(t) and t > 0):
        return False
    logits, labels = case.args
    return (
        float(_nll_at(logits, labels, t))
        <= float(_nll_at(logits, labels, _fit_nll(logits, labels))) + 1e-7
    )


register(
    Exercise(
        "3.3",
        "Fit the temperature",
        reference=_fit_nll,
        output=Number("temperature", tol=0.01, atol=0.0),
        cases=_cases_3_3,
        mistakes=(
            Mistake(
                "reciprocal",
                lambda lg, y: 1 / _fit_nll(lg, y),
                "this is 1/T: temperature scaling DIVIDES the logits by T",
            ),
            Mistake(
                "unfitted",
                lambda lg, y: 1.0,
                "T = 1 leaves the model unchanged: fit T to the data by minimising the NLL",
            ),
            Mistake(
                "minimises ECE",
                _fit_ece,
                "this minimises the ECE; temperature scaling minimises the NLL (the ECE is a "
                "binned, non-smooth criterion)",
            ),
            Mistake(
                "matches confidence to accuracy",
                _fit_confidence,
                "this matches the mean confidence to the accuracy; temperature scaling "
                "minimises the NLL",
            ),
        ),
        forbidden=("lsutils.fit_temperature", "lsutils.calibration.fit_temperature"),
        properties=(
            Property(
                _minimises_nll,
                "your T does not minimise the NLL: minimise the mean NLL of softmax(logits / T) "
                "over T in [0.05, 20] until the search converges",
            ),
        ),
        passed="T is within 1% of the NLL minimiser on every data set tried",
    )
)

# ------------------------------------------------------------------ 3.4 matching an accuracy


def _cases_3_4(d: Draw) -> list[Case]:
    raw = [(0.85, 10), (1.0, 4), (0.5, 2)]
    for _ in range(2):
        k = d.integer(2, 100)
        raw.append((d.uniform(1 / k + 0.01, 0.999), k))
    return [Case(args, describe("accuracy, num_classes", args)) for args in raw]


register(
    Exercise(
        "3.4",
        "Smoothing to match an accuracy",
        reference=lambda accuracy, num_classes: (1 - accuracy) * num_classes / (num_classes - 1),
        output=Number("alpha"),
        cases=_cases_3_4,
        mistakes=(
            Mistake("others", lambda acc, k: 1 - acc, OTHERS_HINT),
            Mistake(
                "confidence",
                lambda acc, k: acc,
                "that is the target confidence itself, not the smoothing that produces it",
            ),
            Mistake(
                "inverse factor",
                lambda acc, k: (1 - acc) * (k - 1) / k,
                "the conversion factor is inverted: with uniform alpha the true class gets "
                "alpha/K back",
            ),
        ),
        passed="at this alpha the floor's confidence equals the accuracy, for every (accuracy, K)",
    )
)

# ------------------------------------------------------------------ 3.5 Brier score


def _brier(probs, labels):
    hot = F.one_hot(labels, probs.shape[1]).double()
    return ((probs.double() - hot) ** 2).sum(1).mean()


def _cases_3_5(d: Draw) -> list[Case]:
    logits, labels = calibration_data(500, seed=d.integer(1, 10**6))
    n, k = d.integer(2, 20), d.integer(2, 8)
    raw = [
        (torch.softmax(logits, 1), labels, "on calibration data"),
        (d.dirichlet(n, k), d.labels(n, k), ""),
        (d.dirichlet(1, 3), d.labels(1, 3), "one example"),
    ]
    return [Case((p, y), describe("probs, labels", (p, y), note)) for p, y, note in raw]


register(
    Exercise(
        "3.5",
        "The Brier score",
        reference=_brier,
        output=Number("Brier score", tol=1e-6),
        cases=_cases_3_5,
        mistakes=(
            Mistake(
                "mean over entries",
                lambda p, y: _brier(p, y) / p.shape[1],
                "this averages over all N*K entries; sum over the classes, then average over "
                "the examples",
            ),
            Mistake(
                "true class only",
                lambda p, y: ((1 - p.double()[torch.arange(len(y)), y]) ** 2).mean(),
                "the wrong classes are missing: sum the squared error over ALL classes",
            ),
            Mistake(
                "absolute error",
                lambda p, y: (p.double() - F.one_hot(y, p.shape[1])).abs().sum(1).mean(),
                "the errors must be squared",
            ),
        ),
        forbidden=("lsutils.calibration.brier_score",),
        passed="the Brier score is right on every data set tried",
    )
)

# ------------------------------------------------------------------ 3.6 ECE before and after


def _ece_before_after(logits, labels, T):
    z = logits.double()
    return _ece(torch.softmax(z, 1), labels), _ece(torch.softmax(z / T, 1), labels)


def _cases_3_6(d: Draw) -> list[Case]:
    raw = []
    for kind in ("default", "over", "under"):
        logits, labels, note = _data_case(d, kind)
        raw.append((logits, labels, _fit_nll(logits, labels), note + ", fitted T"))
    logits, labels, note = _data_case(d, "over")
    raw.append((logits, labels, d.uniform(0.5, 3.0), note + ", another T"))
    return [
        Case((lg, y, t), describe("logits, labels, T", (lg, y, t), note)) for lg, y, t, note in raw
    ]


register(
    Exercise(
        "3.6",
        "Does temperature scaling fix it?",
        reference=_ece_before_after,
        output=Parts(Number("ece_before", tol=1e-5), Number("ece_after", tol=1e-5)),
        cases=_cases_3_6,
        mistakes=(
            Mistake(
                "swapped",
                lambda lg, y, t: _ece_before_after(lg, y, t)[::-1],
                "the two values are swapped: the first is before temperature scaling",
            ),
            Mistake(
                "percent",
                lambda lg, y, t: tuple(100 * v for v in _ece_before_after(lg, y, t)),
                "the values are in percent; give ECE as a fraction in [0, 1]",
            ),
            Mistake(
                "times T",
                lambda lg, y, t: _ece_before_after(lg, y, 1 / t),
                "the logits are multiplied by T; temperature scaling DIVIDES them",
            ),
        ),
        forbidden=(
            "lsutils.expected_calibration_error",
            "lsutils.calibration.expected_calibration_error",
            "lsutils.calibration.reliability_data",
            "lsutils.calibration.calibration_summary",
        ),
        passed="both ECEs are right on every data set tried",
    )
)

# ------------------------------------------------------------ 3.7 temperature after smoothing


def _floor_gap(k, a, p_true=None, p_other=None):
    p_true = 1 - a + a / k if p_true is None else p_true
    p_other = a / k if p_other is None else p_other
    return math.log(p_true / p_other)


def _temperature_for(num_classes, smoothing, accuracy):
    k = num_classes
    return _floor_gap(k, smoothing) / math.log(accuracy * (k - 1) / (1 - accuracy))


def _cases_3_7(d: Draw) -> list[Case]:
    raw = [(10, 0.1, 0.97), (3, 0.3, 0.6)]
    for _ in range(3):
        k, a = d.integer(2, 100), d.uniform(0.02, 0.5)
        raw.append((k, a, d.uniform(1 / k + 0.05, 0.995)))
    return [Case(args, describe("num_classes, smoothing, accuracy", args)) for args in raw]


register(
    Exercise(
        "3.7",
        "Temperature scaling after smoothing",
        reference=_temperature_for,
        output=Number("temperature"),
        cases=_cases_3_7,
        mistakes=(
            Mistake(
                "reciprocal",
                lambda k, a, acc: 1 / _temperature_for(k, a, acc),
                "this is 1/T: the logits are DIVIDED by T",
            ),
            Mistake(
                "others",
                lambda k, a, acc: (
                    _floor_gap(k, a, 1 - a, a / (k - 1)) / math.log(acc * (k - 1) / (1 - acc))
                ),
                OTHERS_HINT,
            ),
            Mistake(
                "one wrong class",
                lambda k, a, acc: _floor_gap(k, a) / math.log(acc / (1 - acc)),
                "the confidence exp(g/T) / (exp(g/T) + K - 1) has all K-1 wrong classes in its "
                "normaliser: the factor K-1 is missing",
            ),
        ),
        passed="T is right for every (K, alpha, accuracy) tried",
    )
)
