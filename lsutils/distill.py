"""Knowledge distillation (Hinton et al., 2015): a student learns from a teacher's softened outputs.

The teacher's probabilities at temperature T, softmax(z / T), carry "dark knowledge": how much it
confuses each wrong class with the right one. A student trained on these rows learns that structure.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import check_float, check_labels, check_logits, check_num_classes, check_probs

__all__ = [
    "soft_targets",
    "distillation_loss",
    "wrong_class_probs",
    "wrong_class_entropy",
    "class_similarity_from_probs",
    "confusion_similarity",
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
