"""Honest comparisons over training seeds: means with 95% intervals, paired differences, claims,
tables.

A number measured on one training run says little: another seed gives another number. Every
comparison in the book is therefore run over several seeds and reported as a mean with a 95%
**Student t interval** ``mean +- t_{0.975, n-1} s / sqrt(n)`` (``scipy.stats.t`` quantiles). Two
settings trained on the same seeds are compared **paired**: the interval is that of the per-seed
differences, which removes the variation that the seeds share. A claim such as "smoothing lowers the
ECE" holds only when the paired interval lies entirely below zero; when it contains zero the book
says "no difference detected at n seeds" (:meth:`Interval.verdict`, :func:`claim`).
:func:`bootstrap_interval` gives a percentile bootstrap interval (``scipy.stats.bootstrap``) where a
t interval's normality assumption is in doubt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from ._validate import check_choice, check_float, check_int
from .report import Table

__all__ = [
    "Interval",
    "ClaimError",
    "mean_interval",
    "paired_difference",
    "bootstrap_interval",
    "claim",
    "replication_verdict",
    "results_table",
]

DIRECTIONS = ("lower", "higher", "none")
PREDICTIONS = ("lower", "higher", "not lower", "not higher")


class ClaimError(AssertionError):
    """A claim about a difference is not supported by its interval."""


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` values with a two-sided ``confidence`` interval ``[low, high]``."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95
    method: str = "t"

    def __post_init__(self) -> None:
        if not self.low <= self.mean <= self.high:
            raise ValueError(f"need low <= mean <= high, got {self.low}, {self.mean}, {self.high}")

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def direction(self) -> str:
        """ "lower" (interval below 0), "higher" (above 0) or "none" (it contains 0)."""
        return "lower" if self.high < 0 else "higher" if self.low > 0 else "none"

    def verdict(self, lower: str = "lower", higher: str = "higher") -> str:
        """Words for the difference this interval supports, e.g. "lower" or "no difference detected
        at 5 seeds"."""
        d = self.direction()
        return lower if d == "lower" else higher if d == "higher" else self.no_difference()

    def no_difference(self) -> str:
        return f"no difference detected at {self.n} seeds"

    def format(self, spec: str = ".3f", scale: float = 1.0) -> str:
        """``"mean ± half-width"`` with ``spec`` applied to both (values multiplied by
        ``scale``); a sign in ``spec`` (``"+.2f"``) applies to the mean only."""
        if not isinstance(spec, str):
            raise ValueError(f"spec must be a format string such as '.3f', got {spec!r}")
        width_spec = spec.lstrip("+- ")  # a sign option applies to the mean only
        return f"{self.mean * scale:{spec}} ± {self.half_width * scale:{width_spec}}"

    def __str__(self) -> str:
        pct = f"{self.confidence * 100:g}%"
        return f"{self.format('.4g')} ({pct} {self.method} interval, n={self.n})"


def _values(values: Sequence[float], name: str = "values") -> np.ndarray:
    try:
        v = np.asarray([float(x) for x in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, one per seed, got {values!r}") from None
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"{name} needs at least 2 numbers (one per seed), got {v.size}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} contain nan or inf: {v.tolist()}")
    return v


def _confidence(confidence: float) -> float:
    return check_float(confidence, "confidence", 0.0, 1.0, low_open=True, high_open=True)


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean of ``values`` (one per seed) with its Student t interval (``n - 1`` degrees of
    freedom)."""
    v, conf = _values(values), _confidence(confidence)
    mean, n = float(v.mean()), v.size
    sem = float(v.std(ddof=1)) / math.sqrt(n)
    half = float(_st.t.ppf(0.5 + conf / 2, df=n - 1)) * sem
    return Interval(mean, mean - half, mean + half, n, conf, "t")


def paired_difference(
    baseline: Sequence[float], treatment: Sequence[float], confidence: float = 0.95
) -> Interval:
    """Interval of ``treatment - baseline`` over seeds, paired: entry ``i`` of both comes from seed
    ``i``.

    Below zero means the treatment lowers the quantity.
    """
    a, b = _values(baseline, "baseline"), _values(treatment, "treatment")
    if a.size != b.size:
        raise ValueError(f"paired values need the same seeds, got {a.size} and {b.size} values")
    return mean_interval(b - a, confidence)


def bootstrap_interval(
    values: Sequence[float], confidence: float = 0.95, *, resamples: int = 9999, seed: int = 0
) -> Interval:
    """Mean of ``values`` with a percentile bootstrap interval (``scipy.stats.bootstrap``,
    seeded)."""
    v, conf = _values(values), _confidence(confidence)
    resamples = check_int(resamples, "resamples", 1)
    res = _st.bootstrap(
        (v,), np.mean, confidence_level=conf, n_resamples=int(resamples), method="percentile",
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    ci = res.confidence_interval
    return Interval(float(v.mean()), float(ci.low), float(ci.high), v.size, conf, "bootstrap")


def _check_interval(interval: object) -> None:
    if not isinstance(interval, Interval):
        raise ValueError(f"interval must be an Interval (from lsutils.stats), got {interval!r}")


def claim(interval: Interval, direction: str, what: str = "the difference") -> Interval:
    """Check that ``interval`` supports ``direction``: "lower" (entirely below 0), "higher"
    (entirely above 0) or "none" (contains 0: no difference detected). Raises :class:`ClaimError`
    otherwise."""
    check_choice(direction, "direction", DIRECTIONS)
    _check_interval(interval)
    if interval.direction() != direction:
        raise ClaimError(
            f"claimed {what} is {direction!r}, but its {interval.confidence:.0%} interval "
            f"[{interval.low:.4g}, {interval.high:.4g}] (n={interval.n}) "
            f"says {interval.direction()!r}"
        )
    return interval


def replication_verdict(interval: Interval, predicted: str) -> str:
    """Verdict on a published claim, given the paired ``interval`` of (treatment - baseline).

    ``predicted`` is the sign the paper predicts: "higher" or "lower" (the claim is *reproduced*
    when the interval lies on that side of zero, *not reproduced* when it lies on the other side,
    *inconclusive* when it contains zero), or "not lower" / "not higher" for "no worse" claims
    (*not reproduced* only when the interval lies wholly on the forbidden side).
    """
    check_choice(predicted, "predicted", PREDICTIONS)
    _check_interval(interval)
    seen = interval.direction()
    if predicted.startswith("not "):
        return "not reproduced" if seen == predicted[4:] else "reproduced"
    if seen == "none":
        return f"inconclusive ({interval.no_difference()})"
    return "reproduced" if seen == predicted else "not reproduced"


def results_table(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    caption: str,
    label: str,
    formats: Mapping[str, str] | None = None,
    scales: Mapping[str, float] | None = None,
    row_name: str = "setting",
    confidence: float = 0.95,
) -> Table:
    """A :class:`~lsutils.report.Table` of ``mean ± half-width`` per setting (row) and metric
    (column).

    ``results[setting][metric]`` holds one value per seed. The caption states the number of seeds
    and the interval. ``formats[metric]`` is a format spec (default ".3f"), ``scales[metric]`` a
    factor (e.g. 100 for percent).
    """
    if not results:
        raise ValueError("results is empty")
    metrics = list(next(iter(results.values())))
    counts = set()
    rows = []
    for setting, per_metric in results.items():
        if list(per_metric) != metrics:
            raise ValueError(
                f"every setting needs the metrics {metrics}, {setting!r} has {list(per_metric)}"
            )
        row = [setting]
        for m in metrics:
            iv = mean_interval(per_metric[m], confidence)
            counts.add(iv.n)
            row.append(iv.format((formats or {}).get(m, ".3f"), (scales or {}).get(m, 1.0)))
        rows.append(row)
    n = "/".join(str(c) for c in sorted(counts))
    note = f" Mean ± half-width of the {confidence:.0%} t interval over {n} training seeds."
    return Table([row_name, *metrics], rows, caption.rstrip() + note, label)
