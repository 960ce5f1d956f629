"""Symmetric label noise, the smoothing that matches it, and forward loss correction.

Symmetric noise at rate ``eta`` over ``K`` classes keeps a label with probability ``1 - eta`` and
otherwise moves it to one of the ``K - 1`` other classes uniformly (:func:`lsutils.data.
symmetric_label_noise` draws it). Its transition matrix ``T[i, j] = P(noisy = j | clean = i)`` is
:func:`symmetric_noise_matrix`. The expected noisy one-hot target is then ``1 - eta`` on the clean
class and ``eta / (K - 1)`` on each other class: a smoothed target in the "others" convention with
``eps = eta``, i.e. uniform ``alpha = eta K / (K - 1)`` (:func:`noise_matched_alpha`).

Forward correction (Patrini et al., 2017) trains on the noisy labels with the model's clean-class
probabilities pushed through the known noise: the loss is ``-log (q T)_y``. For symmetric noise that
is ``-log(A q_y + B)`` with ``A = 1 - eta K / (K - 1)`` and ``B = eta / (K - 1)``, computed from
``log q_y`` by :func:`forward_corrected_log_likelihood` without leaving log space.

:func:`noisy_label_fit` measures memorisation: how many flipped training labels a model reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._validate import check_choice, check_float, check_labels, check_logits, check_num_classes

__all__ = [
    "symmetric_noise_matrix",
    "noise_matched_alpha",
    "forward_corrected_log_likelihood",
    "forward_corrected_cross_entropy",
    "check_noise_rate",
    "NoisyFit",
    "noisy_label_fit",
]


def check_noise_rate(rate: float, num_classes: int) -> float:
    """A noise rate in ``[0, (K-1)/K)``: above it a noisy label stops favouring the clean class."""
    K = check_num_classes(num_classes)
    return check_float(rate, "noise rate", 0.0, (K - 1) / K, high_open=True)


def symmetric_noise_matrix(num_classes: int, rate: float) -> torch.Tensor:
    """``T [K, K]`` (float64): ``1 - rate`` on the diagonal, ``rate / (K - 1)`` elsewhere."""
    K = check_num_classes(num_classes)
    eta = check_float(rate, "rate", 0.0, 1.0)
    T = torch.full((K, K), eta / (K - 1), dtype=torch.float64)
    T.fill_diagonal_(1.0 - eta)
    return T


def noise_matched_alpha(rate: float, num_classes: int, convention: str = "uniform") -> float:
    """The smoothing whose target puts the same mass on the wrong classes as symmetric noise at
    ``rate``: ``eps = rate`` ("others"), ``alpha = rate K / (K - 1)`` ("uniform")."""
    K = check_num_classes(num_classes)
    eta = check_float(rate, "rate", 0.0, (K - 1) / K)
    if check_choice(convention, "convention", ("uniform", "others")) == "others":
        return eta
    return eta * K / (K - 1)


def forward_corrected_log_likelihood(
    log_q_true: torch.Tensor, rate: torch.Tensor | float, num_classes: int
) -> torch.Tensor:
    """``log(A q_y + B)`` from ``log q_y``, elementwise; ``rate`` broadcasts (0: ``log q_y``)."""
    K = check_num_classes(num_classes)
    eta = torch.as_tensor(rate, dtype=log_q_true.dtype, device=log_q_true.device)
    if not bool(((eta >= 0) & (eta < (K - 1) / K)).all()):
        raise ValueError(f"noise rate must be in [0, {(K - 1) / K:.4g}) for K={K}, got {rate!r}")
    log_a = torch.log1p(-eta * K / (K - 1))
    log_b = torch.log(eta / (K - 1))  # -inf at rate 0, where logaddexp returns log q_y exactly
    return torch.logaddexp(log_q_true + log_a, log_b)


def forward_corrected_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, rate: float, reduction: str = "mean"
) -> torch.Tensor:
    """Forward-corrected cross-entropy ``-log (softmax(z) T)_y`` for symmetric noise at ``rate``."""
    logits = check_logits(logits)
    K = logits.shape[1]
    eta = check_noise_rate(rate, K)
    labels = check_labels(labels, K)
    if len(labels) != len(logits):
        raise ValueError(f"logits have {len(logits)} rows but labels have {len(labels)}")
    check_choice(reduction, "reduction", ("mean", "sum", "none"))
    log_q = torch.log_softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=1)
    loss = -forward_corrected_log_likelihood(log_q.gather(1, labels[:, None]).squeeze(1), eta, K)
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


@dataclass(frozen=True)
class NoisyFit:
    """How a model's predictions on its training set relate to noisy and clean labels.

    ``memorised``: fraction of the flipped examples predicted as their (wrong) noisy label;
    ``corrected``: fraction of the flipped examples predicted as their clean label;
    ``kept``: fraction of the unflipped examples predicted correctly; ``flipped``: fraction of the
    training set whose label was flipped.
    """

    memorised: float
    corrected: float
    kept: float
    flipped: float


def noisy_label_fit(
    predictions: torch.Tensor,
    noisy_labels: torch.Tensor,
    clean_labels: torch.Tensor,
    num_classes: int,
) -> NoisyFit:
    """Split training-set predictions ``[N]`` by whether the label was flipped (noisy != clean)."""
    K = check_num_classes(num_classes)
    pred = check_labels(predictions, K)
    noisy = check_labels(noisy_labels, K)
    clean = check_labels(clean_labels, K)
    if not pred.shape == noisy.shape == clean.shape:
        raise ValueError(
            "predictions, noisy_labels and clean_labels need the same length, got "
            f"{pred.numel()}, {noisy.numel()} and {clean.numel()}"
        )
    flipped = noisy != clean
    if not bool(flipped.any()) or bool(flipped.all()):
        raise ValueError("need both flipped and unflipped labels (noisy_labels != clean_labels)")
    return NoisyFit(
        memorised=float((pred[flipped] == noisy[flipped]).double().mean()),
        corrected=float((pred[flipped] == clean[flipped]).double().mean()),
        kept=float((pred[~flipped] == clean[~flipped]).double().mean()),
        flipped=float(flipped.double().mean()),
    )
