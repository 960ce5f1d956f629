"""Checkers of the Hands-On notebook 04, smoothing beyond one classifier (exercises 4.1 to 4.12):
noisy labels, a smoothed model as a teacher, its features, its confidence, and smoothing of other
kinds of targets."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .framework import BITS_HINT, Case, Exercise, Mistake, Number, Parts, Property, Tensor, register
from .inputs import Draw, describe

_ZERO_LOG_ZERO = (
    "0 * log 0 counts as 0: with a zero probability, p * log(p) gives nan (torch.xlogy(p, p) "
    "returns 0 there)"
)

# ------------------------------------------------------------------ 4.1 noise-matched alpha


def _cases_4_1(d: Draw) -> list[Case]:
    raw = [(0.2, 6), (0.0, 3), (0.5, 2)]
    for _ in range(2):
        k = d.integer(2, 100)
        raw.append((d.uniform(0.01, (k - 1) / k), k))
    return [Case(args, describe("r, num_classes", args)) for args in raw]


register(
    Exercise(
        "4.1",
        "Label noise as smoothing",
        reference=lambda r, num_classes: r * num_classes / (num_classes - 1),
        output=Number("alpha"),
        cases=_cases_4_1,
        forbidden=("lsutils.noise.noise_matched_alpha",),
        mistakes=(
            Mistake(
                "identity",
                lambda r, k: r,
                "that would hold if a flipped label could land on the true class again; here it "
                "always moves to a DIFFERENT class (mass r spread over the K-1 wrong classes)",
            ),
            Mistake(
                "inverse",
                lambda r, k: r * (k - 1) / k,
                "the conversion goes the other way: uniform alpha gives alpha/K back to the true "
                "class",
            ),
            Mistake(
                "times K",
                lambda r, k: r * k,
                "the factor is K/(K-1), not K: a uniform alpha puts alpha*(K-1)/K on the wrong "
                "classes together",
            ),
        ),
        passed="the noise-matched alpha is right for every (r, K) tried",
    )
)

# ------------------------------------------------------------------ 4.2 the noise matrix


def _noise_matrix(r, num_classes):
    k = num_classes
    return torch.full((k, k), r / (k - 1), dtype=torch.float64).fill_diagonal_(1 - r)


def _cases_4_2(d: Draw) -> list[Case]:
    raw = [(0.2, 6), (0.0, 4), (0.5, 2), (d.uniform(0.01, 0.6), d.integer(3, 12))]
    return [Case(args, describe("r, num_classes", args)) for args in raw]


def _rows_sum_to_one(parts, case) -> bool:
    t = parts[0]
    return t.ndim == 2 and bool(torch.allclose(t.sum(1), torch.ones_like(t[:, 0]), atol=1e-4))


register(
    Exercise(
        "4.2",
        "The noise matrix of forward correction",
        reference=_noise_matrix,
        output=Tensor("matrix"),
        cases=_cases_4_2,
        forbidden=("lsutils.noise.symmetric_noise_matrix",),
        mistakes=(
            Mistake(
                "uniform mixing",
                lambda r, k: torch.full((k, k), r / k, dtype=torch.float64).fill_diagonal_(
                    1 - r + r / k
                ),
                "a flipped label always moves to a DIFFERENT class: each off-diagonal entry is "
                "r/(K-1)",
            ),
            Mistake(
                "no noise",
                lambda r, k: torch.eye(k, dtype=torch.float64),
                "this is the matrix of clean labels: the noise rate r is not used",
            ),
            Mistake(
                "diagonal r",
                lambda r, k: torch.full(
                    (k, k), (1 - r) / (k - 1), dtype=torch.float64
                ).fill_diagonal_(r),
                "the diagonal is the probability that a label survives, 1 - r",
            ),
        ),
        properties=(
            Property(
                _rows_sum_to_one,
                "each row of the matrix (one clean class) must sum to 1: it is the distribution "
                "of the noisy label",
            ),
        ),
        passed="the matrix is right; its rows are the smoothed targets at the noise-matched alpha",
    )
)

# ------------------------------------------------------------------ 4.3 forward correction


def _forward_loss(logits, noisy_labels, T):
    noisy = torch.softmax(logits.double(), dim=1) @ T.double()
    return -noisy[torch.arange(len(noisy_labels)), noisy_labels].log().mean()


def _cases_4_3(d: Draw) -> list[Case]:
    n, k = d.integer(3, 10), d.integer(3, 8)
    raw = [
        (d.logits(n, k), d.labels(n, k), _row_normalised(d, k), "a general noise matrix"),
        (
            d.logits(5, 4, scale=1000.0),
            d.labels(5, 4),
            _row_normalised(d, 4),
            "logits of size about 1e3",
        ),
        (d.logits(4, 5), d.labels(4, 5), _noise_matrix(0.3, 5), "symmetric noise"),
        (d.logits(3, 3), d.labels(3, 3), torch.eye(3, dtype=torch.float64), "no noise"),
    ]
    return [
        Case((lg, y, t), describe("logits, noisy_labels, T", (lg, y, t), note))
        for lg, y, t, note in raw
    ]


def _row_normalised(d: Draw, k: int) -> torch.Tensor:
    weight = d.uniform(0.5, 0.85)
    rows = d.dirichlet(k, k) + 1e-2
    rows = rows / rows.sum(1, keepdim=True)
    return weight * torch.eye(k, dtype=torch.float64) + (1 - weight) * rows


register(
    Exercise(
        "4.3",
        "The forward-corrected loss",
        reference=_forward_loss,
        output=Number("loss"),
        cases=_cases_4_3,
        forbidden=(
            "lsutils.noise.forward_corrected_cross_entropy",
            "lsutils.noise.forward_corrected_log_likelihood",
        ),
        mistakes=(
            Mistake(
                "transposed matrix",
                lambda lg, y, t: _forward_loss(lg, y, t.T),
                "row i of T is the distribution of the noisy label given clean class i, so the "
                "noisy-label probabilities are q @ T, not q @ T.T",
            ),
            Mistake(
                "log before mixing",
                lambda lg, y, t: (
                    -(torch.log_softmax(lg.double(), 1) @ t.double())[
                        torch.arange(len(y)), y
                    ].mean()
                ),
                "mix the probabilities first, then take the log of the mixture",
            ),
            Mistake(
                "uncorrected",
                lambda lg, y, t: F.cross_entropy(lg.double(), y),
                "this is the plain cross-entropy: the noise matrix T is not used",
            ),
            Mistake(
                "sum",
                lambda lg, y, t: _forward_loss(lg, y, t) * len(y),
                "this is the summed loss; average over the examples",
            ),
        ),
        nonfinite="compute q = softmax(logits) first (finite for large logits), then q @ T",
        passed="the forward-corrected loss is right for every noise matrix tried",
    )
)

# ------------------------------------------------------------------ 4.4 choosing alpha


def _nll_each(logits, labels):
    return torch.stack([F.cross_entropy(lg.double(), labels) for lg in logits])


def _accuracy_each(logits, labels):
    return (logits.argmax(dim=2) == labels).double().mean(dim=1)


def _select(alphas, val_logits, val_labels, test_logits, test_labels):
    best = int(_nll_each(val_logits, val_labels).argmin())
    return alphas[best], float(_accuracy_each(test_logits, test_labels)[best])


def _select_on_test(alphas, val_logits, val_labels, test_logits, test_labels):
    best = int(_nll_each(test_logits, test_labels).argmin())
    return alphas[best], float(_accuracy_each(test_logits, test_labels)[best])


def _select_own_loss(alphas, val_logits, val_labels, test_logits, test_labels):
    own = [
        F.cross_entropy(lg.double(), val_labels, label_smoothing=float(a))
        for a, lg in zip(alphas, val_logits, strict=True)
    ]
    best = int(torch.stack(own).argmin())
    return alphas[best], float(_accuracy_each(test_logits, test_labels)[best])


def _select_worst(alphas, val_logits, val_labels, test_logits, test_labels):
    best = int(_nll_each(val_logits, val_labels).argmax())
    return alphas[best], float(_accuracy_each(test_logits, test_labels)[best])


def _report_best_test(alphas, val_logits, val_labels, test_logits, test_labels):
    best = int(_nll_each(val_logits, val_labels).argmin())
    return alphas[best], float(_accuracy_each(test_logits, test_labels).max())


def _select_on_accuracy(alphas, val_logits, val_labels, test_logits, test_labels):
    best = int(_accuracy_each(val_logits, val_labels).argmax())
    return alphas[best], float(_accuracy_each(test_logits, test_labels)[best])


_WRONG_SELECTIONS = (
    _select_on_test,
    _select_own_loss,
    _select_worst,
    _report_best_test,
    _select_on_accuracy,
)


def _model_outputs(d: Draw, quality: list[float], scale: list[float], labels, k):
    hot = F.one_hot(labels, k).double()
    return torch.stack(
        [s * (q * hot + d.normal(len(labels), k)) for q, s in zip(quality, scale, strict=True)]
    )


def _selection_case(d: Draw):
    a_count, k = d.integer(3, 5), d.integer(3, 6)
    alphas = tuple(sorted(round(0.05 * i, 2) for i in d.permutation(9)[:a_count].tolist()))
    quality = [d.uniform(0.5, 2.0) for _ in alphas]
    scale = [d.uniform(0.3, 3.0) for _ in alphas]
    yv, yt = d.labels(80, k), d.labels(120, k)
    val = _model_outputs(d, quality, scale, yv, k)
    test = _model_outputs(d, [q + d.uniform(-0.4, 0.4) for q in quality], scale, yt, k)
    return alphas, val, yv, test, yt


def _cases_4_4(d: Draw) -> list[Case]:
    """Random selection problems, kept until every wrong way of choosing gives another answer than
    the right one, and than each other, on at least one of them."""
    choosers = (_select, *_WRONG_SELECTIONS)
    pairs = {(i, j) for i in range(len(choosers)) for j in range(i)}
    kept = []
    for _ in range(200):
        args = _selection_case(d)
        answers = [choose(*args) for choose in choosers]
        split = {(i, j) for i, j in pairs if answers[i] != answers[j]}
        if split or not kept:
            kept.append(args)
            pairs -= split
        if not pairs or len(kept) == 6:
            break
    names = "alphas, val_logits, val_labels, test_logits, test_labels"
    return [Case(args, describe(names, args)) for args in kept]


register(
    Exercise(
        "4.4",
        "Choosing alpha on a validation split",
        reference=_select,
        output=Parts(Number("alpha", tol=1e-6), Number("test_accuracy", tol=1e-6)),
        cases=_cases_4_4,
        mistakes=(
            Mistake(
                "chosen on the test split",
                _select_on_test,
                "the choice must use the validation split only; the test split reports the "
                "chosen model (choosing on it makes its number optimistic)",
            ),
            Mistake(
                "each model's own loss",
                _select_own_loss,
                "score every model with the same criterion, the plain NLL on the validation "
                "labels: each model's own smoothed loss depends on its alpha",
            ),
            Mistake("largest NLL", _select_worst, "a LOWER validation NLL is better"),
            Mistake(
                "best test accuracy reported",
                _report_best_test,
                "report the test accuracy of the chosen model, not the best test accuracy of "
                "all models",
            ),
            Mistake(
                "chosen by accuracy",
                _select_on_accuracy,
                "the exercise selects by validation NLL, which also scores the confidence that "
                "smoothing changes; this selects by validation accuracy",
            ),
        ),
        passed="the choice uses the validation NLL and reports the chosen model's test accuracy",
    )
)

# ------------------------------------------------------------------ 4.5 distillation loss


def _kd(student_logits, teacher_logits, T):
    log_s = torch.log_softmax(student_logits.double() / T, dim=1)
    log_t = torch.log_softmax(teacher_logits.double() / T, dim=1)
    return T**2 * (log_t.exp() * (log_t - log_s)).sum(1).mean()


def _kd_unsoftened_teacher(s, t, T):
    log_s = torch.log_softmax(s.double() / T, dim=1)
    log_t = torch.log_softmax(t.double(), dim=1)
    return T**2 * (log_t.exp() * (log_t - log_s)).sum(1).mean()


def _cases_4_5(d: Draw) -> list[Case]:
    n, k = d.integer(2, 8), d.integer(3, 10)
    raw = [
        (d.logits(n, k), d.logits(n, k, scale=3.0), 4.0, ""),
        (d.logits(n, k), d.logits(n, k, scale=3.0), d.uniform(1.5, 8.0), ""),
        (d.logits(3, 5, scale=1000.0), d.logits(3, 5, scale=1000.0), 1.0, "logits of size 1e3"),
        (d.logits(1, 4), d.logits(1, 4), 2.0, "one example"),
    ]
    names = "student_logits, teacher_logits, T"
    return [Case((s, t, T), describe(names, (s, t, T), note)) for s, t, T, note in raw]


register(
    Exercise(
        "4.5",
        "The distillation loss",
        reference=_kd,
        output=Number("loss"),
        cases=_cases_4_5,
        mistakes=(
            Mistake(
                "no T^2",
                lambda s, t, T: _kd(s, t, T) / T**2,
                "the factor T^2 is missing (it keeps the gradient sizes comparable across "
                "temperatures)",
            ),
            Mistake(
                "reversed KL",
                lambda s, t, T: _kd(t, s, T),
                "the KL is reversed: the teacher's distribution comes first, "
                "KL(teacher || student)",
            ),
            Mistake(
                "sum",
                lambda s, t, T: _kd(s, t, T) * s.shape[0],
                "this sums over the batch; average over examples",
            ),
            Mistake(
                "teacher not softened",
                _kd_unsoftened_teacher,
                "the teacher's logits are divided by T too: both distributions are softened",
            ),
        ),
        forbidden=("lsutils.distillation_loss", "lsutils.distill.distillation_loss"),
        nonfinite="use log_softmax (finite for large logits) rather than log(softmax(...))",
        passed="matches Hinton's T^2-scaled KL for every temperature tried",
    )
)

# ------------------------------------------------------------------ 4.6 dark knowledge


def _wrong(probs, labels):
    p = probs.double()
    n, k = p.shape
    keep = torch.ones_like(p, dtype=torch.bool)
    keep[torch.arange(n), labels] = False
    return p[keep].view(n, k - 1)


def _wrong_entropy(probs, labels):
    w = _wrong(probs, labels)
    w = w / w.sum(1, keepdim=True)
    return -torch.special.xlogy(w, w).sum(1)


def _wrong_entropy_raw(probs, labels):
    w = _wrong(probs, labels)
    return -torch.special.xlogy(w, w).sum(1)


def _wrong_entropy_naive(probs, labels):
    w = _wrong(probs, labels)
    w = w / w.sum(1, keepdim=True)
    return -(w * w.log()).sum(1)


def _cases_4_6(d: Draw) -> list[Case]:
    n, k = d.integer(3, 8), d.integer(3, 10)
    sparse = d.dirichlet(5, 6) * (d.rand(5, 6) < 0.6)
    y_sparse = d.labels(5, 6)
    sparse[torch.arange(5), y_sparse] += 0.5
    sparse[torch.arange(5), (y_sparse + 1) % 6] += 0.05
    sparse = sparse / sparse.sum(1, keepdim=True)
    flat = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.2, 0.2, 0.4, 0.2]], dtype=torch.float64)
    raw = [
        (d.probs(n, k, sharpness=3.0), d.labels(n, k), ""),
        (sparse, y_sparse, "probabilities with some zero entries"),
        (flat, torch.tensor([0, 2]), "rows with equal wrong-class probabilities"),
        (d.probs(2, 3), d.labels(2, 3), ""),
    ]
    return [Case((p, y), describe("probs, labels", (p, y), note)) for p, y, note in raw]


register(
    Exercise(
        "4.6",
        "Dark knowledge: the wrong-class entropy",
        reference=_wrong_entropy,
        output=Tensor("entropy"),
        cases=_cases_4_6,
        mistakes=(
            Mistake(
                "not renormalised",
                _wrong_entropy_raw,
                "renormalise the K-1 wrong-class probabilities to sum to one before taking "
                "their entropy",
            ),
            Mistake(
                "all classes",
                lambda p, y: -torch.special.xlogy(p.double(), p.double()).sum(1),
                "this is the entropy of the whole distribution: leave out the true class",
            ),
            Mistake(
                "predicted class left out",
                lambda p, y: _wrong_entropy(p, p.argmax(1)),
                "the class to leave out is the TRUE class (labels), not the predicted one",
            ),
            Mistake("0 log 0", _wrong_entropy_naive, _ZERO_LOG_ZERO),
            Mistake("bits", lambda p, y: _wrong_entropy(p, y) / math.log(2), BITS_HINT),
        ),
        forbidden=("lsutils.distill.wrong_class_entropy", "lsutils.distill.wrong_class_probs"),
        nonfinite=_ZERO_LOG_ZERO,
        passed="the wrong-class entropy is right, zero probabilities included",
    )
)

# ------------------------------------------------------------------ 4.7 distance ratio


def _means(features, labels):
    f = features.double()
    classes = labels.unique()
    means = torch.stack([f[labels == c].mean(0) for c in classes])
    return f, means, torch.searchsorted(classes, labels)


def _pair_mean(means, squared=False, with_self=False):
    dist = torch.cdist(means, means)
    dist = dist**2 if squared else dist
    if with_self:
        return dist.mean()
    i, j = torch.triu_indices(len(means), len(means), 1)
    return dist[i, j].mean()


def _distance_ratio(features, labels):
    f, means, index = _means(features, labels)
    return (f - means[index]).norm(dim=1).mean() / _pair_mean(means)


def _ratio_squared(features, labels):
    f, means, index = _means(features, labels)
    return ((f - means[index]) ** 2).sum(1).mean() / _pair_mean(means, squared=True)


def _ratio_global_mean(features, labels):
    f, means, _ = _means(features, labels)
    return (f - f.mean(0)).norm(dim=1).mean() / _pair_mean(means)


def _ratio_per_class(features, labels):
    f, means, index = _means(features, labels)
    dist = (f - means[index]).norm(dim=1)
    per_class = torch.stack([dist[index == c].mean() for c in range(len(means))])
    return per_class.mean() / _pair_mean(means)


def _clusters(d: Draw, sizes: list[int], dim: int, spread: float):
    centres = d.normal(len(sizes), dim, scale=3.0)
    labels = torch.cat([torch.full((s,), c) for c, s in enumerate(sizes)])
    order = d.permutation(len(labels))
    labels = labels[order]
    features = centres[labels] + d.normal(len(labels), dim, scale=spread) + 2.0
    return features, labels


def _feature_cases(d: Draw, one_dimensional: bool = True) -> list[Case]:
    raw = [
        (*_clusters(d, [d.integer(3, 12) for _ in range(d.integer(3, 5))], 6, 1.0), ""),
        (*_clusters(d, [20, 4, 9], d.integer(2, 8), d.uniform(0.2, 2.0)), "unequal classes"),
        (*_clusters(d, [10, 10], 3, 0.5), "two classes"),
    ]
    if one_dimensional:  # cosine distances need at least two dimensions
        raw.append((*_clusters(d, [6, 8, 5], 1, 0.7), "1-D features"))
    return [Case((f, y), describe("features, labels", (f, y), note)) for f, y, note in raw]


register(
    Exercise(
        "4.7",
        "Penultimate-layer geometry: spread over separation",
        reference=_distance_ratio,
        output=Number("ratio"),
        cases=_feature_cases,
        mistakes=(
            Mistake(
                "squared distances",
                _ratio_squared,
                "use distances, not squared distances (Euclidean norms of the differences)",
            ),
            Mistake(
                "global mean",
                _ratio_global_mean,
                "the spread is measured from each point's OWN class mean, not the overall mean",
            ),
            Mistake(
                "pairs with themselves",
                lambda f, y: (
                    _distance_ratio(f, y)
                    * _pair_mean(_means(f, y)[1])
                    / _pair_mean(_means(f, y)[1], with_self=True)
                ),
                "average the distance between class means over the pairs of DIFFERENT classes only",
            ),
            Mistake(
                "inverted",
                lambda f, y: 1 / _distance_ratio(f, y),
                "the ratio is spread over separation (small: tight, well-separated clusters)",
            ),
            Mistake(
                "per-class average",
                _ratio_per_class,
                "the spread averages over all points (each point counts once), not over classes",
            ),
        ),
        forbidden=("lsutils.representations.cluster_geometry",),
        passed="the distance ratio is right for every feature set tried",
    )
)

# ------------------------------------------------------------------ 4.8 class separation


def _groups(features, labels, normalise=True):
    f = features.double()
    f = F.normalize(f, dim=1) if normalise else f
    return [f[labels == c] for c in labels.unique()]


def _class_separation(features, labels):
    groups = _groups(features, labels)
    within = torch.stack([(1 - g @ g.T).mean() for g in groups]).mean()
    total = torch.stack([(1 - g @ h.T).mean() for g in groups for h in groups]).mean()
    return 1 - within / total


def _separation_unnormalised(features, labels):
    f = features.double()
    total = ((f - f.mean(0)) ** 2).sum()
    within = sum(((g - g.mean(0)) ** 2).sum() for g in _groups(features, labels, False))
    return 1 - within / total


def _separation_ratio_only(features, labels):
    return 1 - _class_separation(features, labels)


def _separation_similarity(features, labels):
    groups = _groups(features, labels)
    within = torch.stack([(g @ g.T).mean() for g in groups]).mean()
    total = torch.stack([(g @ h.T).mean() for g in groups for h in groups]).mean()
    return 1 - within / total


def _separation_pooled(features, labels):
    groups = _groups(features, labels)
    within = sum((1 - g @ g.T).sum() for g in groups) / sum(len(g) ** 2 for g in groups)
    u = torch.cat(groups)
    return 1 - within / (1 - u @ u.T).mean()


register(
    Exercise(
        "4.8",
        "Class separation (Kornblith et al., 2021)",
        reference=_class_separation,
        output=Number("R^2"),
        cases=lambda d: _feature_cases(d, one_dimensional=False),
        mistakes=(
            Mistake(
                "not normalised",
                _separation_unnormalised,
                "this is a ratio of Euclidean variances of the raw features; the measure uses "
                "cosine distances, i.e. features normalised to unit length",
            ),
            Mistake(
                "no 1 -",
                _separation_ratio_only,
                "R^2 is ONE MINUS the ratio of the within-class to the total distance",
            ),
            Mistake(
                "similarity",
                _separation_similarity,
                "use the cosine DISTANCE, 1 - cos, not the cosine similarity",
            ),
            Mistake(
                "pooled pairs",
                _separation_pooled,
                "average within each class (and each pair of classes) first, then over the "
                "classes, so that every class weighs the same",
            ),
        ),
        forbidden=("lsutils.probe.class_separation",),
        passed="R^2 is right for every feature set tried, unequal classes included",
    )
)

# ------------------------------------------------------------------ 4.9 AURC


def _aurc(confidence, correct):
    order = torch.argsort(confidence, descending=True)
    errors = torch.cumsum((~correct[order]).double(), dim=0)
    return float((errors / torch.arange(1, len(order) + 1)).mean())


def _cases_4_9(d: Draw) -> list[Case]:
    n = d.integer(20, 200)
    conf = d.rand(n)
    correct = d.rand(n) < 0.3 + 0.6 * conf
    raw = [
        (conf, correct, ""),
        (d.rand(1), torch.tensor([False]), "one prediction"),
        (d.rand(8), torch.ones(8, dtype=torch.bool), "all predictions right"),
        (d.rand(5), d.rand(5) < 0.5, ""),
    ]
    return [Case((c, k), describe("confidence, correct", (c, k), note)) for c, k, note in raw]


register(
    Exercise(
        "4.9",
        "Risk-coverage area (AURC)",
        reference=_aurc,
        output=Number("AURC"),
        cases=_cases_4_9,
        mistakes=(
            Mistake(
                "least confident first",
                lambda c, k: _aurc(-c, k),
                "the ranking is reversed: keep the MOST confident predictions first",
            ),
            Mistake(
                "accuracy",
                lambda c, k: 1 - _aurc(c, k),
                "this is the area under the accuracy-coverage curve; the risk is the error rate",
            ),
            Mistake(
                "full coverage only",
                lambda c, k: float(1 - k.double().mean()),
                "this is the risk at full coverage only; average the selective risk over all "
                "coverages",
            ),
        ),
        forbidden=(
            "lsutils.selective.aurc",
            "lsutils.selective.risk_coverage_curve",
            "lsutils.selective.excess_aurc",
        ),
        passed="AURC is right for every set of predictions tried",
    )
)

# ------------------------------------------------------------------ 4.10 membership inference


def _membership_auc(member_loss, nonmember_loss):
    diff = member_loss.double()[:, None] - nonmember_loss.double()[None, :]
    return float(((diff < 0).double() + 0.5 * (diff == 0).double()).mean())


def _cases_4_10(d: Draw) -> list[Case]:
    m, n = d.integer(10, 60), d.integer(10, 60)
    raw = [
        ((d.rand(m) * 2).round(decimals=1), (d.rand(n) * 2.5).round(decimals=1), "with ties"),
        (d.rand(m), d.rand(n) + 0.2, ""),
        (d.rand(1), d.rand(7), "one member"),
        (
            torch.full((4,), 0.3, dtype=torch.float64),
            torch.full((3,), 0.3, dtype=torch.float64),
            "all equal",
        ),
    ]
    names = "member_loss, nonmember_loss"
    return [Case((a, b), describe(names, (a, b), note)) for a, b, note in raw]


register(
    Exercise(
        "4.10",
        "Membership-inference AUC",
        reference=_membership_auc,
        output=Number("AUC"),
        cases=_cases_4_10,
        mistakes=(
            Mistake(
                "reversed",
                lambda m, n: 1 - _membership_auc(m, n),
                "the direction is reversed: a LOW loss signals a member",
            ),
            Mistake(
                "ties dropped",
                lambda m, n: float((m[:, None] < n[None, :]).double().mean()),
                "ties (equal losses) count one half",
            ),
            Mistake(
                "strictly greater",
                lambda m, n: float((m[:, None] > n[None, :]).double().mean()),
                "this counts members with a HIGHER loss; a low loss signals a member",
            ),
        ),
        forbidden=(
            "lsutils.privacy.membership_auc",
            "lsutils.selective.auroc",
            "lsutils.selective.failure_auroc",
        ),
        passed="the AUC is right for every pair of loss sets tried, ties included",
    )
)

# ------------------------------------------------------------------ 4.11 two-hot targets


def _place(y, centers, lower, w_upper):
    targets = torch.zeros(len(y), len(centers), dtype=torch.float64)
    rows = torch.arange(len(y))
    targets[rows, lower] = 1 - w_upper
    targets[rows, lower + 1] += w_upper
    return targets


def _two_hot(y, centers):
    upper = torch.searchsorted(centers, y, right=True).clamp(1, len(centers) - 1)
    lower = upper - 1
    return _place(y, centers, lower, (y - centers[lower]) / (centers[upper] - centers[lower]))


def _two_hot_swapped(y, centers):
    upper = torch.searchsorted(centers, y, right=True).clamp(1, len(centers) - 1)
    lower = upper - 1
    return _place(y, centers, lower, (centers[upper] - y) / (centers[upper] - centers[lower]))


def _two_hot_even(y, centers):
    step = (centers[-1] - centers[0]) / (len(centers) - 1)
    position = ((y - centers[0]) / step).clamp(0, len(centers) - 1)
    lower = position.floor().long().clamp(max=len(centers) - 2)
    return _place(y, centers, lower, position - lower)


def _two_hot_unclamped(y, centers):
    upper = torch.searchsorted(centers, y, right=True)
    lower = upper - 1
    w_upper = (y - centers[lower]) / (centers[upper] - centers[lower])
    return _place(y, centers, lower, w_upper)


def _nearest(y, centers):
    return F.one_hot((y[:, None] - centers[None]).abs().argmin(1), len(centers)).double()


def _on_enclosing_centres(parts, case) -> bool:
    targets, (y, centers) = parts[0], case.args
    if targets.shape != (len(y), len(centers)):
        return False
    if ((targets < -1e-9) | (targets > 1 + 1e-9)).any():
        return False
    used = targets.abs() > 1e-9
    low = torch.where(used, centers, torch.inf).amin(dim=1)
    high = torch.where(used, centers, -torch.inf).amax(dim=1)
    gaps = (centers[1:] - centers[:-1]).max()
    return bool(((low <= y + 1e-9) & (y <= high + 1e-9) & (high - low <= gaps + 1e-9)).all())


def _cases_4_11(d: Draw) -> list[Case]:
    c = d.sorted_points(d.integer(4, 9))
    inner = c[0] + (c[-1] - c[0]) * d.rand(5)
    raw = [
        (torch.cat([inner, c[[0, 2, -1]]]), c, "uneven centres, y at the end points"),
        (c[[-1, 0]].clone(), c, "y at the last and first centres"),
        (d.uniform(-2, 2) + 4 * d.rand(6) - 2, torch.linspace(-4, 4, 9, dtype=torch.float64), ""),
        (
            torch.tensor([0.25, 0.0, 1.0], dtype=torch.float64),
            torch.tensor([0.0, 1.0], dtype=torch.float64),
            "2 bins",
        ),
    ]
    return [Case((y, cs), describe("y, centers", (y, cs), note)) for y, cs, note in raw]


register(
    Exercise(
        "4.11",
        "Two-hot value targets",
        reference=_two_hot,
        output=Tensor("target tensor"),
        cases=_cases_4_11,
        mistakes=(
            Mistake(
                "swapped weights",
                _two_hot_swapped,
                "the two weights are swapped: the NEARER centre gets the larger weight",
            ),
            Mistake(
                "nearest centre",
                _nearest,
                "this puts all the mass on the nearest centre (one-hot); split it between the "
                "two neighbours",
            ),
            Mistake(
                "even spacing",
                _two_hot_even,
                "the centres need not be evenly spaced: find the two neighbours of y by search "
                "(torch.searchsorted or torch.bucketize)",
            ),
            Mistake(
                "no clamp at the end",
                _two_hot_unclamped,
                "y may equal the last centre: clamp the upper neighbour's index to B-1",
            ),
        ),
        forbidden=("lsutils.two_hot", "lsutils.value_targets.two_hot"),
        properties=(
            Property(
                _on_enclosing_centres,
                "each row must put its mass, between 0 and 1, on the two centres that enclose y; "
                "the centres need not be evenly spaced: find them by search (torch.searchsorted "
                "or torch.bucketize)",
            ),
            Property(
                lambda parts, case: bool(
                    torch.allclose(parts[0] @ case.args[1], case.args[0], atol=1e-5)
                ),
                "the targets' mean (targets @ centers) should equal y",
            ),
        ),
        passed="the two-hot targets are right, uneven centres and end points included",
    )
)

# ------------------------------------------------------------------ 4.12 one-sided smoothing


def _cases_4_12(d: Draw) -> list[Case]:
    n = d.integer(3, 12)
    raw = [
        (d.rand(n) < 0.5, d.uniform(0.05, 0.3)),
        (torch.tensor([True, False, True, True, False]), 0.1),
        (torch.ones(4, dtype=torch.bool), d.uniform(0.05, 0.3)),
        (torch.zeros(3, dtype=torch.bool), 0.2),
    ]
    return [Case(args, describe("is_real, alpha", args)) for args in raw]


register(
    Exercise(
        "4.12",
        "One-sided smoothing for a GAN discriminator",
        reference=lambda is_real, alpha: torch.where(is_real, 1.0 - alpha, 0.0).double(),
        output=Tensor("target vector"),
        cases=_cases_4_12,
        mistakes=(
            Mistake(
                "two-sided",
                lambda real, a: torch.where(real, 1.0 - a, a),
                "the fake targets were smoothed too; one-sided smoothing leaves them at 0",
            ),
            Mistake(
                "uniform mixing with K = 2",
                lambda real, a: torch.where(real, 1.0 - a / 2, a / 2),
                "this is uniform mixing over the two classes, which also moves the fake targets",
            ),
            Mistake("no smoothing", lambda real, a: real.double(), "no smoothing applied"),
        ),
        passed="one-sided targets are right",
    )
)
