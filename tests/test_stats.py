"""lsutils.stats against worked textbook examples and scipy, and the claim helper's refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as st_scipy

from lsutils import seeds, stats
from lsutils.train import TrainConfig

# Student's (1908) sleep data, as in R's `sleep`: extra hours of sleep of 10 patients under two
# drugs.
# R: t.test(extra ~ group, data = sleep, paired = TRUE) gives mean difference -1.58 and the 95%
# interval [-2.4598858, -0.7001142] (group 1 minus group 2), t = -4.0621, df = 9.
DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_paired_interval_matches_the_sleep_data_textbook_result():
    d = stats.paired_difference(DRUG_2, DRUG_1)  # treatment minus baseline: drug 1 - drug 2
    assert d.mean == pytest.approx(-1.58)
    assert d.low == pytest.approx(-2.4598858, abs=1e-7)
    assert d.high == pytest.approx(-0.7001142, abs=1e-7)
    assert d.n == 10 and d.direction() == "lower" and d.excludes_zero


def test_unpaired_means_of_the_sleep_data():
    # R: t.test(sleep$extra[1:10]) -> mean 0.75, 95% CI [-0.5297804, 2.0297804]
    iv = stats.mean_interval(DRUG_1)
    assert (iv.low, iv.high) == pytest.approx((-0.5297804, 2.0297804), abs=1e-7)
    assert iv.verdict() == "no difference detected at 10 seeds" and not iv.excludes_zero


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.floats(0.5, 0.99))
def test_interval_agrees_with_scipy(values, confidence):
    v = np.array(values)
    if np.ptp(v) < 1e-9 * max(1.0, float(np.abs(v).max())):
        return  # a zero-width interval: scipy returns nan
    iv = stats.mean_interval(values, confidence)
    low, high = st_scipy.t.interval(confidence, len(v) - 1, loc=v.mean(), scale=st_scipy.sem(v))
    assert iv.low == pytest.approx(low, rel=1e-9, abs=1e-9)
    assert iv.high == pytest.approx(high, rel=1e-9, abs=1e-9)
    assert iv.low <= iv.mean <= iv.high


def test_pairing_removes_the_variation_seeds_share():
    seed_effect = [0.0, 5.0, -3.0, 8.0, 1.0]
    base = [s + 1.0 for s in seed_effect]
    treat = [s + 1.2 + e for s, e in zip(seed_effect, [0.01, -0.02, 0.0, 0.02, -0.01], strict=True)]
    assert stats.paired_difference(base, treat).direction() == "higher"
    diff_of_means = stats.mean_interval(treat).mean - stats.mean_interval(base).mean
    assert diff_of_means == pytest.approx(0.2)
    assert stats.mean_interval(base).half_width > 1.0  # unpaired, the seeds' spread would hide it


def test_claim_helper_accepts_only_what_the_interval_supports():
    lower = stats.paired_difference(DRUG_2, DRUG_1)
    assert stats.claim(lower, "lower") is lower
    with pytest.raises(stats.ClaimError, match="says 'lower'"):
        stats.claim(lower, "none")
    overlapping = stats.mean_interval(DRUG_1)  # contains zero
    assert stats.claim(overlapping, "none") is overlapping
    for direction in ("lower", "higher"):
        with pytest.raises(stats.ClaimError, match="says 'none'"):
            stats.claim(overlapping, direction)
    with pytest.raises(ValueError, match="direction must be one of"):
        stats.claim(lower, "smaller")


@pytest.mark.parametrize(
    ("side", "predicted", "expected"),
    [
        ("lower", "lower", "reproduced"),
        ("lower", "higher", "not reproduced"),
        ("none", "lower", "inconclusive (no difference detected at 10 seeds)"),
        ("none", "higher", "inconclusive (no difference detected at 10 seeds)"),
        ("higher", "higher", "reproduced"),
        ("lower", "not lower", "not reproduced"),  # a "no worse" claim fails only when worse
        ("none", "not lower", "reproduced"),
        ("higher", "not lower", "reproduced"),
        ("lower", "not higher", "reproduced"),
        ("higher", "not higher", "not reproduced"),
    ],
)
def test_replication_verdict_covers_every_side_of_zero(side, predicted, expected):
    lower = stats.paired_difference(DRUG_2, DRUG_1)  # [-2.46, -0.70]
    interval = {
        "lower": lower,
        "higher": stats.paired_difference(DRUG_1, DRUG_2),
        "none": stats.mean_interval(DRUG_1),  # [-0.53, 2.03]
    }[side]
    assert interval.direction() == side
    assert stats.replication_verdict(interval, predicted) == expected


def test_replication_verdict_refuses_unknown_predictions():
    lower = stats.paired_difference(DRUG_2, DRUG_1)
    with pytest.raises(ValueError, match="predicted must be one of"):
        stats.replication_verdict(lower, "no worse")
    with pytest.raises(ValueError, match="interval must be an Interval"):
        stats.replication_verdict((-1.0, 0.0), "lower")


def test_format_signs_the_mean_only():
    iv = stats.paired_difference(DRUG_2, DRUG_1)  # -1.58 ± 0.88
    assert iv.format("+.2f") == "-1.58 ± 0.88"
    assert stats.paired_difference(DRUG_1, DRUG_2).format("+.1f", scale=10) == "+15.8 ± 8.8"
    assert iv.format(".3f") == "-1.580 ± 0.880"


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    a = stats.bootstrap_interval(DRUG_2, seed=1)
    b = stats.bootstrap_interval(DRUG_2, seed=1)
    assert a == b and a.low < a.mean < a.high and a.method == "bootstrap"
    t = stats.mean_interval(DRUG_2)
    assert a.half_width == pytest.approx(t.half_width, rel=0.35)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: stats.mean_interval([1.0]), "at least 2"),
        (lambda: stats.mean_interval([1.0, math.nan]), "nan or inf"),
        (lambda: stats.mean_interval([1.0, 2.0], confidence=1.0), r"confidence must be"),
        (lambda: stats.paired_difference([1.0, 2.0], [1.0, 2.0, 3.0]), "same seeds"),
        (lambda: stats.results_table({}, caption="c", label="tab-x"), "empty"),
        (lambda: seeds.seed_configs(TrainConfig(), [0]), "at least 2 distinct"),
        (lambda: seeds.seed_configs(TrainConfig(), [1, 1]), "at least 2 distinct"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_results_table_states_seeds_and_interval():
    t = stats.results_table(
        {"CE": {"acc": [0.90, 0.91, 0.92], "ECE": [0.010, 0.020, 0.030]},
         "LS": {"acc": [0.80, 0.81, 0.82], "ECE": [0.010, 0.020, 0.030]}},
        caption="Accuracy and ECE.", label="tab-demo", scales={"acc": 100}, formats={"acc": ".1f"},
    )  # fmt: skip
    md = t._repr_markdown_()
    assert md.startswith(":::{table} Accuracy and ECE. Mean ± half-width of the 95% t interval")
    assert "over 3 training seeds" in md and ":name: tab-demo" in md
    assert "| CE | 91.0 ± 2.5 | 0.020 ± 0.025 |" in md
    assert "<caption>" in t._repr_html_()
    with pytest.raises(ValueError, match="needs the metrics"):
        stats.results_table({"a": {"x": [1, 2]}, "b": {"y": [1, 2]}}, caption="c", label="tab-y")
