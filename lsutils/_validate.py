"""Input checks shared by the public functions. Each raises ValueError saying what is allowed."""

from __future__ import annotations

import math
import operator
import os

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


def _is_bool(value: object) -> bool:
    """A Python or numpy bool (``numpy.bool_``, named ``numpy.bool`` since numpy 2)."""
    kind = type(value)
    return isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool")
    )


def _real_number(value: object) -> float | None:
    """``float(value)`` for a real number (Python, numpy or one-element tensor); None otherwise.

    Booleans and strings are not numbers here: ``True`` or ``"0.1"`` as a hyperparameter is a
    mistake.
    """
    if isinstance(value, (bool, str, bytes)) or getattr(value, "dtype", None) == torch.bool:
        return None
    if _is_bool(value):
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
    if _is_bool(value):
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
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise ValueError(
            f"unknown convention {convention!r}; use 'uniform' (mass alpha spread over all K "
            "classes, as torch's label_smoothing) or 'others' (mass eps spread over the K-1 wrong "
            "classes)"
        )
    return convention


def check_reduction(reduction: str) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_labels(
    labels: torch.Tensor, num_classes: int, *, check_range: bool = True, name: str = "labels"
) -> torch.Tensor:
    """Integer class indices ``[N]`` in ``[0, num_classes - 1]`` (lists and arrays are converted).

    Float labels are refused rather than truncated (1.7 is not class 1), and so is torch's
    ``ignore_index`` -100: drop those rows first. ``check_range=False`` skips the range check (a
    host-device synchronisation on the GPU) for hot loops whose labels were checked once up front.
    """
    labels = as_tensor(labels, name)
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(
            f"{name} must be an integer tensor of class indices, got dtype {labels.dtype}"
        )
    if labels.dim() != 1:
        raise ValueError(f"{name} must be 1-D [N], got shape {tuple(labels.shape)}")
    if check_range and labels.numel() > 0:
        low, high = (int(v) for v in torch.aminmax(labels))
        if low < 0 or high >= num_classes:
            hint = _IGNORE_HINT if low == -100 else ""
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
                f"got values in [{low}, {high}]{hint}"
            )
    return labels.long()


_IGNORE_HINT = "; -100 (torch's ignore_index) is not supported here: drop the unlabelled rows first"


def check_logits(logits: torch.Tensor, name: str = "logits") -> torch.Tensor:
    """A floating-point tensor ``[N, K]`` with K >= 2 (not converted: logits come from a model)."""
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        raise ValueError(f"{name} must be a floating-point tensor of shape [N, K]")
    if logits.dim() != 2:
        raise ValueError(f"{name} must be 2-D [N, K], got shape {tuple(logits.shape)}")
    check_num_classes(logits.shape[1])
    return logits


def check_same_shape(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if not isinstance(targets, torch.Tensor):
        raise ValueError(f"targets must be a tensor of shape [N, K], got {type(targets).__name__}")
    if tuple(logits.shape) != tuple(targets.shape):
        raise ValueError(
            "logits and targets must have the same shape [N, K], "
            f"got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )


def upcast(x: torch.Tensor) -> torch.Tensor:
    """Half-precision inputs are computed in float32: the loss needs the range and the precision."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


# --- tensors -------------------------------------------------------------------------------------


def as_tensor(value: object, name: str) -> torch.Tensor:
    """``value`` as a tensor (lists and numpy arrays are converted), or a ValueError naming it."""
    if isinstance(value, torch.Tensor):
        return value
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise ValueError(f"{name} must be a tensor, got {type(value).__name__}")
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        raise ValueError(f"{name} must be a tensor, got {type(value).__name__}") from None


def check_float_tensor(
    value: object,
    name: str,
    shape: str,
    *,
    min_rows: int = 0,
    convert: bool = False,
    finite: bool = False,
) -> torch.Tensor:
    """A floating-point tensor of ``shape`` (``"[N]"``, ``"[N, K]"``: it gives the number of
    dimensions) with at least ``min_rows`` rows; ``convert`` also takes lists and arrays;
    ``finite`` refuses nan and inf."""
    ndim = shape.count(",") + 1
    if convert:
        value = as_tensor(value, name)
    if not isinstance(value, torch.Tensor) or not value.dtype.is_floating_point:
        got = value.dtype if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name} must be a floating-point tensor {shape}, got {got}")
    if value.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-D {shape}, got shape {tuple(value.shape)}")
    if value.shape[0] < min_rows:
        rows = "one row" if min_rows == 1 else f"{min_rows} rows"
        raise ValueError(f"{name} must have at least {rows}, got shape {tuple(value.shape)}")
    return check_finite(value, name) if finite else value


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """No nan or inf in ``x``. One pass (min and max), no temporary of ``x``'s size."""
    if x.numel() == 0 or not (x.dtype.is_floating_point or x.dtype.is_complex):
        return x
    low, high = (float(v) for v in torch.aminmax(x.detach()))
    if not (math.isfinite(low) and math.isfinite(high)):
        bad = "nan" if math.isnan(low) or math.isnan(high) else "inf"
        raise ValueError(f"{name} must be finite, got a tensor containing {bad}")
    return x


def row_sum_tolerance(dtype: torch.dtype) -> float:
    """How far from 1 a row of probabilities stored in ``dtype`` may sum: 1e-4, or 4 machine
    epsilons of a half-precision type (rounding each entry moves the sum by up to eps/2)."""
    return max(1e-4, 4 * torch.finfo(dtype).eps)


def check_probs(probs: object, name: str = "probs") -> torch.Tensor:
    """Probability rows ``[N, K]`` (N >= 1, K >= 2): entries in [0, 1], each row summing to 1 within
    :func:`row_sum_tolerance` of its dtype. Lists and arrays are converted.

    Cheap: one pass for the smallest and largest entry, one for the row sums, in the input dtype.
    """
    p = check_float_tensor(probs, name, "[N, K]", min_rows=1, convert=True)
    if p.shape[1] < 2:
        raise ValueError(f"{name} must have K >= 2 columns [N, K], got shape {tuple(p.shape)}")
    tol = row_sum_tolerance(p.dtype)
    low, high = (float(v) for v in torch.aminmax(p.detach()))
    worst = float((p.detach().sum(1) - 1).abs().max())
    if not (low >= 0.0 and high <= 1.0 + tol and worst <= tol):  # false for nan too
        raise ValueError(
            f"{name} must hold probabilities: entries in [0, 1] and rows that sum to 1 (within "
            f"{tol:.1g} for {p.dtype}); got entries in [{low:.4g}, {high:.4g}] and a row sum off "
            f"by {worst:.3g}; pass softmax(logits), not logits"
        )
    return p


def check_binary(value: object, name: str) -> torch.Tensor:
    """A 1-D boolean tensor, or one of 0s and 1s (integer or float), returned as bool."""
    x = as_tensor(value, name)
    if x.dim() != 1:
        raise ValueError(f"{name} must be 1-D [N], got shape {tuple(x.shape)}")
    if x.dtype == torch.bool:
        return x
    if x.dtype.is_complex or not ((x == 0) | (x == 1)).all():
        raise ValueError(f"{name} must be boolean (or 0/1): was each prediction right?")
    return x.bool()


def check_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """A floating-point torch dtype (an integer or bool dtype would round the values away)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(
            f"{name} must be a floating-point torch dtype (e.g. torch.float32), got {dtype!r}"
        )
    return dtype


def check_bool(value: object, name: str) -> bool:
    """True or False (not 0, 1 or a string such as "no", which would be truthy)."""
    if _is_bool(value):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def check_path(value: object, name: str, *, optional: bool = True) -> object:
    """A path (str or os.PathLike), or None when ``optional``; else TypeError (as os.fspath)."""
    if value is None and optional:
        return value
    if isinstance(value, (str, os.PathLike)) and str(value) != "":
        return value
    what = "a path (str or os.PathLike)" + (" or None" if optional else "")
    raise TypeError(f"{name} must be {what}, got {value!r}")
