"""Input checks shared by the public functions. Each raises ValueError saying what is allowed."""

from __future__ import annotations

import math
import operator

import torch

CONVENTIONS = ("uniform", "others")
REDUCTIONS = ("mean", "sum", "none")


def check_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool):
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    try:
        value = operator.index(num_classes)
    except TypeError:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}") from None
    if value < 2:
        raise ValueError(
            f"num_classes must be at least 2 (one class cannot be smoothed), got {value}"
        )
    return value


NEGATIVE_HINT = "negative smoothing needs allow_negative=True (it then may lie in [-1, 1])"


def _real_number(value: object) -> float | None:
    """``float(value)`` for a real number (Python, numpy or one-element tensor); None otherwise.

    Booleans and strings are not numbers here: ``True`` or ``"0.1"`` as a hyperparameter is a
    mistake.
    """
    if isinstance(value, (bool, str, bytes)) or getattr(value, "dtype", None) == torch.bool:
        return None
    if type(value).__name__ == "bool_":  # numpy.bool_
        return None
    if isinstance(value, torch.Tensor) and (value.numel() != 1 or value.dtype.is_complex):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def check_int(value: object, name: str, minimum: int | None = None) -> int:
    """An integer (Python or numpy; not a bool, a float such as 1.5 or a string) >= ``minimum``."""
    bad = f"{name} must be an integer" + (f" >= {minimum}" if minimum is not None else "")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise ValueError(f"{bad}, got {value!r}")
    try:
        result = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{bad}, got {value!r}") from None
    if minimum is not None and result < minimum:
        raise ValueError(f"{bad}, got {result}")
    return result


def check_float(
    value: object,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number between ``low`` and ``high`` (each end open or closed as given)."""
    lo = "(" if low_open or math.isinf(low) else "["
    hi = ")" if high_open or math.isinf(high) else "]"
    allowed = f"a finite number in {lo}{low:g}, {high:g}{hi}"
    number = _real_number(value)
    if number is None or not math.isfinite(number):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    too_low = number < low or (low_open and number == low)
    too_high = number > high or (high_open and number == high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {allowed}, got {number:g}")
    return number


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """One of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_alpha(
    alpha: float, *, allow_negative: bool = False, negative_hint: str = NEGATIVE_HINT
) -> float:
    """``negative_hint`` explains a negative alpha; functions without ``allow_negative`` pass their
    own."""
    value = _real_number(alpha)
    if value is None:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    if math.isnan(value):
        raise ValueError("alpha must be a number in [0, 1], got nan")
    low = -1.0 if allow_negative else 0.0
    if not low <= value <= 1.0:
        if value < 0 and not allow_negative:
            raise ValueError(f"alpha must be in [0, 1], got {value}; {negative_hint}")
        raise ValueError(f"alpha must be in [{low:g}, 1], got {value}")
    return value


def check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(
            f"unknown convention {convention!r}; use 'uniform' (mass alpha spread over all K classes, "
            "as torch's label_smoothing) or 'others' (mass eps spread over the K-1 wrong classes)"
        )
    return convention


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_labels(
    labels: torch.Tensor, num_classes: int, *, check_range: bool = True
) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(
            f"labels must be an integer tensor of class indices, got dtype {labels.dtype}"
        )
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D [N], got shape {tuple(labels.shape)}")
    if check_range and labels.numel() > 0:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"labels must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
                f"got values in [{low}, {high}]"
            )
    return labels.long()


def check_logits(logits: torch.Tensor) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        raise ValueError("logits must be a floating-point tensor of shape [N, K]")
    if logits.dim() != 2:
        raise ValueError(f"logits must be 2-D [N, K], got shape {tuple(logits.shape)}")
    check_num_classes(logits.shape[1])
    return logits


def check_same_shape(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if not isinstance(targets, torch.Tensor):
        raise ValueError(f"targets must be a tensor of shape [N, K], got {type(targets).__name__}")
    if tuple(logits.shape) != tuple(targets.shape):
        raise ValueError(
            f"logits and targets must have the same shape [N, K], got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )


def upcast(x: torch.Tensor) -> torch.Tensor:
    """Half-precision inputs are computed in float32: the loss needs the range and the precision."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
