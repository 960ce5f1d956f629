"""Every exercise checker, proved non-vacuous: it accepts its reference on fresh inputs, rejects
each declared mistake with its own hint, rejects a constant answer and every forbidden shortcut,
and cannot be corrupted by an answer that mutates its inputs."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lsutils import checks
from lsutils.checks import framework
from lsutils.checks.framework import REGISTRY, clone, evaluate
from lsutils.checks.inputs import Draw

ROOT = Path(__file__).resolve().parents[1]
IDS = sorted(REGISTRY, key=lambda s: tuple(int(p) for p in s.split(".")))
FUNCTIONS = [i for i in IDS if REGISTRY[i].takes == "function"]
MISTAKES = [(i, m.name) for i in IDS for m in REGISTRY[i].mistakes]
FORBIDDEN = [(i, path) for i in IDS for path in REGISTRY[i].forbidden]
DIRECTION = re.compile(r"too (large|small|big|high|low)|\b(larger|smaller|higher|lower) than", re.I)


def failure(exercise_id, answer, seed):
    """The message of the CheckFailed that ``answer`` must raise; it never gives a direction."""
    with pytest.raises(checks.CheckFailed) as info:
        checks.check(exercise_id, answer, seed=seed)
    message = str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not DIRECTION.search(message), message
    return message


def first_case(exercise_id, seed=0):
    ex = REGISTRY[exercise_id]
    return ex.cases(Draw(seed))[0]


def reference_numbers(exercise_id, seed):
    """The reference's values on every input, as they could leak into a message."""
    ex = REGISTRY[exercise_id]
    out = []
    for case in ex.cases(Draw(seed)):
        for part in evaluate(ex, ex.reference, case).reading.parts:
            out += [v for v in part.flatten().tolist() if abs(v) > 1e-3]
    return out


def test_enough_exercises_in_every_notebook():
    assert len(REGISTRY) >= 33
    chapters = {i.split(".")[0] for i in IDS}
    assert chapters == {"1", "2", "3", "4"}
    assert all(len(REGISTRY[i].mistakes) >= 2 for i in IDS)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise_id", IDS)
def test_accepts_reference(exercise_id, seed, capsys):
    checks.check(exercise_id, REGISTRY[exercise_id].reference, seed=seed)
    assert f"Exercise {exercise_id} passed" in capsys.readouterr().out


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize(("exercise_id", "mistake"), MISTAKES)
def test_rejects_mistake_with_its_hint(exercise_id, mistake, seed):
    m = REGISTRY[exercise_id].mistake(mistake)
    message = failure(exercise_id, m.answer, seed)
    assert m.hint in message
    for value in reference_numbers(exercise_id, seed):
        assert f"{value:.4f}" not in message


@pytest.mark.parametrize("exercise_id", IDS)
def test_rejects_a_constant(exercise_id):
    """The reference's output on the first default input, returned whatever the input."""
    ex = REGISTRY[exercise_id]
    case = first_case(exercise_id)
    if ex.takes == "function":
        constant = ex.reference(*clone(case.args))
        answer = lambda *args, **kwargs: clone(constant)  # noqa: E731
    else:
        answer = float(evaluate(ex, ex.reference, case).reading.parts[0][0])
    failure(exercise_id, answer, seed=1)


def _mutate(x):
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bool:
            x.logical_not_()
        elif x.is_floating_point():
            x.mul_(-3.0).add_(1.0)
        else:
            x.zero_()
    elif isinstance(x, (list, tuple)):
        for v in x:
            _mutate(v)


@pytest.mark.parametrize("exercise_id", FUNCTIONS)
def test_an_answer_that_mutates_its_inputs_cannot_corrupt_the_check(exercise_id, capsys):
    reference = REGISTRY[exercise_id].reference

    def mutating(*args):
        kept = clone(args)
        _mutate(args)  # before the result: a shared input would change the reference
        result = reference(*kept)
        _mutate(kept)  # after: a shared input would change the mistakes' outputs
        return result

    for seed in (0, 1):
        checks.check(exercise_id, mutating, seed=seed)
    assert capsys.readouterr().out.count("passed") == 2


def _lookup(path):
    """The object at a dotted path, looked up at call time (so a patched one is found)."""
    owner, attr, _ = framework._resolve(path)
    return getattr(owner, attr)


@pytest.mark.parametrize(("exercise_id", "path"), FORBIDDEN)
def test_a_forbidden_call_fails_even_when_its_error_is_swallowed(exercise_id, path):
    reference = REGISTRY[exercise_id].reference

    def shortcut(*args):
        try:
            _lookup(path)(*clone(args))
        except Exception:  # noqa: BLE001 - a learner hiding the call
            pass
        return reference(*args)

    message = failure(exercise_id, shortcut, seed=0)
    assert f"not to use {path}" in message and "called it" in message


@pytest.mark.parametrize(("exercise_id", "path"), FORBIDDEN)
def test_a_forbidden_function_imported_by_name_is_refused(exercise_id, path):
    namespace = {
        "shortcut": framework._resolve(path)[2],
        "reference": REGISTRY[exercise_id].reference,
    }
    exec("def answer(*args):\n    shortcut\n    return reference(*args)", namespace)
    message = failure(exercise_id, namespace["answer"], seed=0)
    assert "not to use" in message and "refers to it" in message


@pytest.mark.parametrize(("exercise_id", "path"), FORBIDDEN)
def test_forbidden_functions_are_restored(exercise_id, path):
    owner, attr, original = framework._resolve(path)
    had = attr in vars(owner)
    with pytest.raises(checks.CheckFailed):
        checks.check(exercise_id, lambda *a: _lookup(path)(), seed=0)
    assert getattr(owner, attr) is original and (attr in vars(owner)) == had


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholders_mean_not_attempted(exercise_id):
    with pytest.raises(checks.NotAttempted, match="not attempted yet"):
        checks.check(exercise_id, None)
    if REGISTRY[exercise_id].takes == "function":

        def placeholder(*args):
            raise NotImplementedError(f"Exercise {exercise_id}")

        with pytest.raises(checks.NotAttempted, match="not attempted yet"):
            checks.check(exercise_id, placeholder)


@pytest.mark.parametrize("exercise_id", FUNCTIONS)
def test_other_not_implemented_errors_are_reported(exercise_id):
    def reaches_another_placeholder(*args):
        raise NotImplementedError("Exercise 9.9")

    def bare(*args):
        raise NotImplementedError

    assert "placeholder of exercise 9.9" in failure(exercise_id, reaches_another_placeholder, 0)
    assert "raised NotImplementedError" in failure(exercise_id, bare, 0)


def test_import_lsutils_does_not_build_the_registry():
    code = (
        "import sys, lsutils\n"
        "assert 'lsutils.checks' not in sys.modules\n"
        "assert len(lsutils.checks.REGISTRY) > 0 and 'lsutils.checks' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_unknown_exercise():
    with pytest.raises(KeyError, match="unknown exercise"):
        checks.check("9.9", 1.0)


def _notebook_ids(folder: str) -> list[str]:
    ids = []
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                ids += re.findall(r"""checks\.check\(\s*["'](\d+\.\d+)["']""", source)
    return ids


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_registry_matches_notebooks(folder):
    ids = _notebook_ids(folder)
    assert len(ids) == len(set(ids)), "an exercise is checked twice"
    assert set(ids) == set(REGISTRY)


def test_hints_are_declared_once():
    """The hint logic reads the declared mistakes; no hint text is spelled out twice."""
    hints = [m.hint for i in IDS for m in REGISTRY[i].mistakes]
    per_exercise = [[m.hint for m in REGISTRY[i].mistakes] for i in IDS]
    assert all(len(h) == len(set(h)) for h in per_exercise)
    assert all(len(h) > 15 for h in hints)
    source = "".join(p.read_text() for p in (ROOT / "lsutils" / "checks").glob("ex0*.py"))
    assert "too large" not in source and "too small" not in source


def test_the_text_settings_are_among_the_inputs():
    """The settings the statements quote are always tried, besides the random ones."""
    assert first_case("1.4").args == (10, 0.1)
    assert first_case("2.3").args == (0.99, 10, 0.1)
    assert first_case("2.6").args == (10, 0.1, 2000, 1.0)
    assert first_case("3.4").args == (0.85, 10)
    assert math.isclose(first_case("3.7").args[2], 0.97)
