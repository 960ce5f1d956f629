"""Knowledge distillation (Hinton et al., 2015): a student learns from a teacher's softened outputs.

The teacher's probabilities at temperature T, softmax(z / T), carry "dark knowledge": how much it
confuses each wrong class with the right one. A student trained on these rows learns that structure.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import (
    check_float,
    check_int,
    check_labels,
    check_logits,
    check_num_classes,
    check_probs,
)

__all__ = [
    "soft_targets",
    "distillation_loss",
    "wrong_class_probs",
    "wrong_class_entropy",
    "class_similarity_from_probs",
    "confusion_similarity",
    "neighbour_class_probs",
    "similarity_rank_correlation",
]


def _check_temperature(temperature: float) -> float:
    return check_float(temperature, "temperature", 0.0, low_open=True)


def _scaled(logits: torch.Tensor, t: float) -> torch.Tensor:
    """``logits / t`` shifted by the row maximum first (softmax is unchanged), so that it stays
    finite for any finite logits and temperature (a tiny T gives one-hot rows, not nan)."""
    return (logits - logits.detach().amax(1, keepdim=True)) / t


def _labels_for(labels: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    labels = check_labels(labels, probs.shape[1])
    if labels.shape[0] != probs.shape[0]:
        raise ValueError(
            f"labels must have shape [{probs.shape[0]}] (one per row), got {tuple(labels.shape)}"
        )
    return labels


def soft_targets(teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Teacher probabilities softmax(logits / T), rows [N, K] that sum to one."""
    check_logits(teacher_logits, "teacher_logits")
    return _scaled(teacher_logits.float(), _check_temperature(temperature)).softmax(dim=1)


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    labels: torch.Tensor | None = None,
    hard_weight: float = 0.0,
) -> torch.Tensor:
    """Hinton's loss: T^2 * KL(p_T(teacher) || p_T(student)), plus hard_weight * CE on labels if
    given.

    The T^2 factor keeps the soft term's gradients on the same scale as the hard term's when T
    changes. Like the other losses, NaN logits are not checked: they give a NaN loss.
    """
    check_logits(student_logits, "student_logits")
    check_logits(teacher_logits, "teacher_logits")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            "student_logits and teacher_logits must have the same shape, got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    t = _check_temperature(temperature)
    hard_weight = check_float(hard_weight, "hard_weight", 0.0, 1.0)
    if hard_weight > 0.0:
        if labels is None:
            raise ValueError("hard_weight > 0 needs the hard labels: pass labels=[N] class ids")
        labels = _labels_for(labels, student_logits)
    p_teacher = _scaled(teacher_logits, t).softmax(dim=1)
    log_student = F.log_softmax(_scaled(student_logits, t), dim=1)
    soft = F.kl_div(log_student, p_teacher, reduction="batchmean") * t * t
    if hard_weight == 0.0:
        return soft
    return (1 - hard_weight) * soft + hard_weight * F.cross_entropy(student_logits, labels)


def wrong_class_probs(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The K-1 wrong-class probabilities of each row, renormalised to sum to one: [N, K-1]."""
    probs = check_probs(probs)
    labels = _labels_for(labels, probs)
    mask = torch.ones_like(probs, dtype=torch.bool)
    mask[torch.arange(probs.shape[0]), labels] = False
    wrong = probs[mask].view(probs.shape[0], probs.shape[1] - 1).double()
    return wrong / wrong.sum(dim=1, keepdim=True).clamp_min(1e-300)


def wrong_class_entropy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the renormalised wrong-class distribution of each row; log(K-1) means
    uniform, i.e. no information about which wrong classes look alike."""
    w = wrong_class_probs(probs, labels)
    return -(w * torch.log(w.clamp_min(1e-300))).sum(dim=1)


def class_similarity_from_probs(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[K, K] matrix: row c is the mean probability the model gives each class on examples of class
    c, symmetrised, with the diagonal set to zero (only between-class structure is kept)."""
    probs = check_probs(probs)
    labels = _labels_for(labels, probs)
    k = probs.shape[1]
    sums = torch.zeros(k, k, dtype=torch.float64).index_add_(0, labels, probs.double())
    counts = torch.bincount(labels, minlength=k).double().clamp_min(1).unsqueeze(1)
    mean = sums / counts
    sim = (mean + mean.T) / 2
    sim.fill_diagonal_(0.0)
    return sim


def confusion_similarity(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """[K, K] symmetrised confusion rates (how often class i is predicted as j), diagonal zeroed."""
    num_classes = check_num_classes(num_classes)
    labels = check_labels(labels, num_classes)
    predictions = check_labels(predictions, num_classes, name="predictions")
    if predictions.shape != labels.shape:
        raise ValueError(
            "predictions and labels must have the same length, got "
            f"{predictions.numel()} and {labels.numel()}"
        )
    conf = torch.zeros(num_classes, num_classes, dtype=torch.float64)
    conf.index_put_(
        (labels, predictions), torch.ones_like(labels, dtype=torch.float64), accumulate=True
    )
    conf = conf / conf.sum(dim=1, keepdim=True).clamp_min(1)
    sim = (conf + conf.T) / 2
    sim.fill_diagonal_(0.0)
    return sim


def neighbour_class_probs(
    x_query: torch.Tensor,
    x_reference: torch.Tensor,
    y_reference: torch.Tensor,
    num_classes: int,
    k: int = 10,
    batch_size: int = 1024,
) -> torch.Tensor:
    """For each query row, the fraction of its ``k`` nearest reference rows (Euclidean distance
    between flattened inputs) in each class: ``[N_query, K]``, rows summing to one.

    A model-free view of which classes overlap in input space: with
    :func:`class_similarity_from_probs` it gives a class-similarity reference that no trained
    network (and so neither of two teachers being compared) has shaped. Distances are computed in
    the query's dtype, in batches of ``batch_size`` queries.
    """
    K = check_num_classes(num_classes)
    for name, x in (("x_query", x_query), ("x_reference", x_reference)):
        if not isinstance(x, torch.Tensor):
            raise ValueError(
                f"{name} must be a floating-point tensor [N, ...], got {type(x).__name__}"
            )
        if x.dim() < 2 or not x.dtype.is_floating_point:
            raise ValueError(
                f"{name} must be a floating-point tensor [N, ...], got {x.dtype} {tuple(x.shape)}"
            )
    q, r = x_query.flatten(1), x_reference.flatten(1).to(x_query.dtype)
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"query and reference inputs differ in size: {q.shape[1]} and {r.shape[1]}"
        )
    y = check_labels(y_reference, K)
    if y.numel() != r.shape[0]:
        raise ValueError(f"got {r.shape[0]} reference rows but {y.numel()} reference labels")
    k = check_int(k, "k", 1)
    if k > r.shape[0]:
        raise ValueError(f"k must be at most the number of reference rows ({r.shape[0]}), got {k}")
    batch_size = check_int(batch_size, "batch_size", 1)
    r_sq = (r * r).sum(dim=1)
    out = []
    for i in range(0, q.shape[0], batch_size):
        qb = q[i : i + batch_size]
        dist = r_sq[None, :] - 2 * qb @ r.T  # |q - r|^2 less |q|^2, which keeps the order
        idx = dist.topk(k, dim=1, largest=False).indices
        out.append(F.one_hot(y[idx], K).double().mean(dim=1))
    return torch.cat(out)


def similarity_rank_correlation(similarity: torch.Tensor, reference: torch.Tensor) -> float:
    """Spearman rank correlation between two symmetric ``[K, K]`` class-similarity matrices over
    their ``K (K - 1) / 2`` class pairs (upper triangle; the diagonal is ignored).

    1 means the two order the class pairs from most to least alike in the same way. Computed with
    ``scipy.stats.spearmanr`` (ties get average ranks).
    """
    from scipy.stats import spearmanr

    for name, s in (("similarity", similarity), ("reference", reference)):
        if not isinstance(s, torch.Tensor) or s.dim() != 2 or s.shape[0] != s.shape[1]:
            raise ValueError(f"{name} must be a square tensor [K, K]")
        if not torch.isfinite(s).all():
            raise ValueError(f"{name} contains nan or inf")
    if similarity.shape != reference.shape:
        raise ValueError(
            f"the matrices differ in shape: {tuple(similarity.shape)} and {tuple(reference.shape)}"
        )
    K = check_num_classes(similarity.shape[0])
    if K < 3:
        raise ValueError("a rank correlation needs at least 3 classes (3 class pairs)")
    i, j = torch.triu_indices(K, K, offset=1)
    a = similarity.detach().double()[i, j].numpy()
    b = reference.detach().double()[i, j].numpy()
    if (a == a[0]).all() or (b == b[0]).all():
        raise ValueError("a matrix with the same value for every class pair has no ranking")
    return float(spearmanr(a, b).statistic)
