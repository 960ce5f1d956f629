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


# ------------------------------------------------ the references against independent oracles


def _inputs(exercise_id, seeds=(0, 1, 2)):
    return [c.args for s in seeds for c in REGISTRY[exercise_id].cases(Draw(s))]


def test_references_of_chapter_1_agree_with_lsutils_and_sympy():
    import sympy as sp

    from lsutils import floor, targets

    ref = {i: REGISTRY[i].reference for i in IDS}
    for labels, k, a in _inputs("1.1"):
        assert torch.allclose(
            ref["1.1"](labels, k, a), targets.smooth_targets(labels, k, a).double()
        )
    for a, k in _inputs("1.2"):
        assert ref["1.2"](a, k) == pytest.approx(targets.convert_alpha(a, k, "uniform", "others"))
    for k, a in _inputs("1.4"):
        expected = (floor.loss_floor(k, a, "uniform"), floor.loss_floor(k, a, "others"))
        assert ref["1.4"](k, a) == pytest.approx(expected, abs=1e-12)
    point = {floor.K: 7, floor.alpha: sp.Rational(3, 10)}
    for convention in ("uniform", "others"):
        p_true, p_other = floor.target_exprs(convention)
        for mine, library in ((ref["1.3"], floor.floor_expr), (ref["1.5"], floor.gap_expr)):
            difference = (mine(p_true, p_other) - library(convention)).subs(point)
            assert abs(float(sp.N(difference, 30))) < 1e-20
    series = sp.series(floor.floor_expr("uniform"), floor.alpha, 0, 2).removeO()
    difference = (REGISTRY["1.7"].reference - series).subs({floor.K: 9, floor.alpha: 0.01})
    assert abs(float(sp.N(difference))) < 1e-12
    eps = sp.Symbol("eps", positive=True)
    others = floor.floor_expr("others").subs(floor.alpha, eps)
    assert sp.simplify(sp.diff(others, eps).subs(eps, REGISTRY["1.6"].reference)) == 0
    for loss, k in _inputs("1.8"):  # the gap found reproduces the loss
        g = ref["1.8"](loss, k)
        assert math.log1p((k - 1) * math.exp(-g)) == pytest.approx(loss, rel=1e-9)
    for p, q in _inputs("1.9"):
        ce, h, kl = ref["1.9"](p, q)
        kl_torch = torch.nn.functional.kl_div(q.log(), p, reduction="none").sum(1)
        assert torch.allclose(kl, kl_torch) and torch.allclose(ce, h + kl)
    for (z,) in _inputs("1.10"):
        labels, a = torch.zeros(len(z), dtype=torch.long), 0.3
        nll = torch.nn.functional.cross_entropy(z, labels, reduction="none")
        smoothed = torch.nn.functional.cross_entropy(z, labels, label_smoothing=a)
        penalised = (1 - a) * nll + a * (ref["1.10"](z) + math.log(z.shape[1]))
        assert torch.allclose(penalised.mean(), smoothed)


def test_references_of_chapter_2_agree_with_autograd_and_torch():
    import torch.nn.functional as F

    from lsutils import floor

    ref = {i: REGISTRY[i].reference for i in IDS}
    for logits, targets in _inputs("2.1"):
        z = logits.clone().requires_grad_(True)
        (-(targets * F.log_softmax(z, 1)).sum()).backward()
        assert torch.allclose(ref["2.1"](logits, targets), z.grad)
    for q, k, a in _inputs("2.3"):  # the gradient of the loss at logits with softmax q_true
        z = torch.tensor([math.log(q * (k - 1) / (1 - q)), *[0.0] * (k - 1)], requires_grad=True)
        for p_true, g in zip((1.0, 1 - a + a / k), ref["2.3"](q, k, a), strict=True):
            target = torch.full((k,), (1 - p_true) / (k - 1))
            target[0] = p_true
            (grad,) = torch.autograd.grad(-(target * F.log_softmax(z.double(), 0)).sum(), z)
            assert float(grad[0]) == pytest.approx(g, abs=1e-6)
    for logits, labels, a in _inputs("2.4"):
        expected = F.cross_entropy(logits, labels, label_smoothing=a)
        assert float(ref["2.4"](logits, labels, a)) == pytest.approx(float(expected), rel=1e-9)
    for (x,) in _inputs("2.5"):
        assert torch.allclose(ref["2.5"](x), torch.log_softmax(x, dim=-1))
    for k, a in ((10, 0.1), (3, 0.3), (50, 0.02)):  # converged descent reaches the optimal gap
        assert ref["2.6"](k, a, 5000, 1.0) == pytest.approx(floor.optimal_logit_gap(k, a), rel=1e-6)


def test_references_of_chapter_3_agree_with_lsutils_calibration():
    from lsutils import calibration

    ref = {i: REGISTRY[i].reference for i in IDS}
    for probs, labels, n_bins in _inputs("3.1"):
        expected = calibration.expected_calibration_error(probs, labels, n_bins=n_bins)
        assert ref["3.1"](probs, labels, n_bins) == pytest.approx(expected, abs=1e-12)
    for logits, labels in _inputs("3.3", seeds=(0,)):
        expected = calibration.fit_temperature(logits, labels)
        assert ref["3.3"](logits, labels) == pytest.approx(expected, rel=1e-5)
    for probs, labels in _inputs("3.5"):
        expected = calibration.brier_score(probs, labels)
        assert float(ref["3.5"](probs, labels)) == pytest.approx(expected, abs=1e-12)
    logits, labels = checks.calibration_data()  # the synthetic model: T near its scale
    assert ref["3.3"](logits, labels) == pytest.approx(2.5, rel=0.1)
    for k, a, accuracy in _inputs("3.7"):  # the confidence at T equals the accuracy
        T = ref["3.7"](k, a, accuracy)
        z = torch.zeros(k, dtype=torch.float64)
        z[0] = math.log((1 - a + a / k) / (a / k)) / T
        assert float(torch.softmax(z, 0)[0]) == pytest.approx(accuracy, rel=1e-9)


def test_references_of_chapter_4_agree_with_lsutils():
    from lsutils import distill, privacy, selective, targets, value_targets

    ref = {i: REGISTRY[i].reference for i in IDS}
    for r, k in _inputs("4.1"):
        assert ref["4.1"](r, k) == pytest.approx(targets.convert_alpha(r, k, "others", "uniform"))
        rows = targets.smooth_targets(torch.arange(k), k, ref["4.1"](r, k), dtype=torch.float64)
        assert torch.allclose(REGISTRY["4.2"].reference(r, k), rows)
    for logits, noisy, T in _inputs("4.3"):  # the likelihood of the noisy label, row by row
        q = torch.softmax(logits, 1)
        loop = [
            -math.log(sum(q[n, i] * T[i, noisy[n]] for i in range(len(T)))) for n in range(len(q))
        ]
        assert float(ref["4.3"](logits, noisy, T)) == pytest.approx(sum(loop) / len(loop))
    for s, t, T in _inputs("4.5"):
        expected = distill.distillation_loss(s, t, T)
        assert float(ref["4.5"](s, t, T)) == pytest.approx(float(expected), rel=1e-6)
    for probs, labels in _inputs("4.6"):
        assert torch.allclose(ref["4.6"](probs, labels), distill.wrong_class_entropy(probs, labels))
    for confidence, correct in _inputs("4.9"):
        assert ref["4.9"](confidence, correct) == pytest.approx(selective.aurc(confidence, correct))
    for members, nonmembers in _inputs("4.10"):
        expected = privacy.membership_auc(members, nonmembers)
        assert ref["4.10"](members, nonmembers) == pytest.approx(expected)
    for y, centers in _inputs("4.11"):
        assert torch.allclose(ref["4.11"](y, centers), value_targets.two_hot(y, centers))


def test_class_separation_is_kornblith_s_cosine_r2():
    """With equal class sizes, 1 - R^2 is the ratio of the mean within-class variance to the total
    variance of the features normalised to unit length (1 - cos = |u - v|^2 / 2); it does not
    change when a feature vector is rescaled."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat_interleave(15)
    features = torch.randn(4, 7, generator=gen, dtype=torch.float64)[labels] + 0.8 * torch.randn(
        60, 7, generator=gen, dtype=torch.float64
    )
    unit = torch.nn.functional.normalize(features, dim=1)
    within = torch.stack([unit[labels == c].var(0, unbiased=False).sum() for c in range(4)]).mean()
    total = unit.var(0, unbiased=False).sum()
    separation = REGISTRY["4.8"].reference
    assert float(separation(features, labels)) == pytest.approx(float(1 - within / total))
    scales = torch.rand(60, 1, generator=gen, dtype=torch.float64) + 0.1
    assert float(separation(features * scales, labels)) == pytest.approx(
        float(separation(features, labels))
    )
    ratio = REGISTRY["4.7"].reference
    assert float(ratio(features * 3.0, labels)) == pytest.approx(float(ratio(features, labels)))


def test_registry_titles_match_the_notebook_headings():
    headings = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            m = re.match(r"## Exercise (\d+\.\d+): (.+)", source)
            if cell["cell_type"] == "markdown" and m:
                headings[m[1]] = m[2].strip()
    assert headings == {i: REGISTRY[i].title for i in IDS}
