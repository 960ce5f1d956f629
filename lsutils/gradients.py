"""The gradient of cross-entropy with respect to the logits: ``dL/dz = softmax(z) - p``."""

from __future__ import annotations

import sympy as sp
import torch

from ._validate import check_logits, check_num_classes, check_same_shape, upcast

__all__ = ["logit_gradient", "gradient_derivation"]


def logit_gradient(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``softmax(logits) - targets`` ``[N, K]``: the gradient of the per-example cross-entropy."""
    logits = check_logits(logits)
    check_same_shape(logits, targets)
    x = upcast(logits)
    return torch.softmax(x, dim=1) - targets.to(x.dtype)


def gradient_derivation(num_classes: int = 3) -> dict[str, object]:
    """Differentiate ``-sum_j p_j log softmax(z)_j`` symbolically for a concrete K.

    Returns the symbols ``z``, ``p``, the softmax ``q``, the loss, and ``difference``: the list of
    ``dL/dz_k - (q_k - p_k)`` simplified under ``sum_j p_j = 1`` (all zeros when the identity
    holds).
    """
    K_ = check_num_classes(num_classes)
    z = sp.symbols(f"z0:{K_}", real=True)
    p = sp.symbols(f"p0:{K_}", nonnegative=True)
    norm = sum(sp.exp(zj) for zj in z)
    q = [sp.exp(zk) / norm for zk in z]
    loss = -sum(pj * sp.log(qj) for pj, qj in zip(p, q, strict=True))
    on_simplex = {p[-1]: 1 - sum(p[:-1])}
    difference = [
        sp.simplify((sp.diff(loss, zk) - (qk - pk)).subs(on_simplex))
        for zk, qk, pk in zip(z, q, p, strict=True)
    ]
    return {"z": z, "p": p, "q": q, "loss": loss, "difference": difference}
