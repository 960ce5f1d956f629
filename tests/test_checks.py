"""Every exercise checker is non-vacuous: it accepts the reference, rejects the placeholder and
typical mistakes."""

import json
import math
import re
from pathlib import Path

import pytest
import torch

from lsutils import checks

ROOT = Path(__file__).resolve().parents[1]
IDS = sorted(checks.REGISTRY, key=lambda s: tuple(int(p) for p in s.split(".")))
MISTAKES = [(i, name) for i in IDS for name in checks.REGISTRY[i].mistakes]


def test_enough_exercises():
    assert len(checks.REGISTRY) >= 24
    assert all(len(checks.REGISTRY[i].mistakes) >= 2 for i in IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_accepts_reference(exercise_id, capsys):
    checks.check(exercise_id, checks.REGISTRY[exercise_id].reference())
    assert f"Exercise {exercise_id} passed" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", IDS)
def test_rejects_placeholder(exercise_id):
    with pytest.raises(checks.NotAttempted, match="not attempted yet"):
        checks.check(exercise_id, None)


def _unfinished(*args, **kwargs):
    raise NotImplementedError("Exercise")


@pytest.mark.parametrize("exercise_id", IDS)
def test_rejects_unfinished_function(exercise_id):
    # a function that still raises NotImplementedError counts as not attempted; a non-function is a
    # clear failure
    with pytest.raises((checks.NotAttempted, checks.CheckFailed)):
        checks.check(exercise_id, _unfinished)


def _answer_strings(answer) -> list[str]:
    """How the reference answer could leak into a message, for answers that are numbers."""
    values = answer if isinstance(answer, (tuple, list)) else [answer]
    out = []
    for v in values:
        if (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and abs(v) > 1e-3
        ):
            out += [f"{v:.3f}", f"{v:.4f}"]
    return out


@pytest.mark.parametrize(("exercise_id", "mistake"), MISTAKES)
def test_rejects_mistake_with_hint(exercise_id, mistake):
    ex = checks.REGISTRY[exercise_id]
    with pytest.raises(checks.CheckFailed) as info:
        checks.check(exercise_id, ex.mistakes[mistake]())
    message = str(info.value)
    assert len(message) > 15
    for leaked in _answer_strings(ex.reference()):
        assert leaked not in message


def test_hints_name_the_error():
    with pytest.raises(checks.CheckFailed, match="log base 2"):
        checks.check("1.3", checks.REGISTRY["1.3"].mistakes["bits"]())
    with pytest.raises(checks.CheckFailed, match="'others' convention"):
        checks.check("1.1", checks.REGISTRY["1.1"].mistakes["others convention"]())
    with pytest.raises(checks.CheckFailed, match="sign"):
        checks.check("2.1", checks.REGISTRY["2.1"].mistakes["sign"]())
    with pytest.raises(checks.CheckFailed, match="shape"):
        checks.check("4.1", checks.REGISTRY["4.1"].mistakes["transposed"]())


def test_wrong_types_fail_clearly():
    with pytest.raises(checks.CheckFailed, match="expected a function"):
        checks.check("1.1", 3.0)
    with pytest.raises(checks.CheckFailed, match="symbols"):
        import sympy as sp

        checks.check("1.3", sp.Symbol("x"))
    with pytest.raises(checks.CheckFailed, match="pair"):
        checks.check("1.4", 0.5)
    with pytest.raises(KeyError):
        checks.check("9.9", 1.0)


def test_ece_reference_agrees_with_library():
    calibration = pytest.importorskip("lsutils.calibration")
    logits, labels = checks.calibration_data()
    probs = torch.softmax(logits, 1)
    ref = checks.REGISTRY["3.1"].reference()(probs, labels, 15)
    assert ref == pytest.approx(
        float(calibration.expected_calibration_error(probs, labels, n_bins=15)), abs=1e-6
    )


def test_temperature_reference_recovers_the_scale():
    # calibration_data reports scale * z with labels drawn from softmax(z): the NLL minimiser is
    # near the scale
    logits, labels = checks.calibration_data()
    assert checks.REGISTRY["3.3"].reference()(logits, labels) == pytest.approx(2.5, rel=0.1)


def _notebook_ids(folder: str) -> list[str]:
    ids = []
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                ids += re.findall(
                    r"""checks\.check\(\s*["'](\d+\.\d+)["']""", "".join(cell["source"])
                )
    return ids


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_registry_matches_notebooks(folder):
    ids = _notebook_ids(folder)
    assert len(ids) == len(set(ids)), "an exercise is checked twice"
    assert set(ids) == set(checks.REGISTRY)


def test_brier_and_temperature_references_agree_with_library():
    calibration = pytest.importorskip("lsutils.calibration")
    logits, labels = checks.calibration_data()
    probs = torch.softmax(logits.double(), 1)
    assert float(checks.REGISTRY["3.5"].reference()(probs, labels)) == pytest.approx(
        calibration.brier_score(probs, labels), abs=1e-9
    )
    if hasattr(calibration, "fit_temperature"):
        ours = checks.REGISTRY["3.3"].reference()(logits, labels)
        assert ours == pytest.approx(calibration.fit_temperature(logits, labels), rel=1e-2)
