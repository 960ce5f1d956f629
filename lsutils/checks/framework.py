"""The machinery every exercise checker shares.

An :class:`Exercise` declares, once: its reference answer, the inputs to try
(:attr:`Exercise.cases`, drawn afresh at every call, edge cases included), how to read an answer
(:class:`Tensor`, :class:`Number`, :class:`Expr`, :class:`Parts`), the typical mistakes as
``(wrong answer, hint)`` pairs (:class:`Mistake`), and the functions the exercise forbids.
:func:`check` then

- calls the learner's function on clones of every input (mutating them cannot corrupt the check),
  with the forbidden functions patched to raise while it runs;
- compares every result with the reference's on the same inputs;
- on a mismatch, names the declared mistake that reproduces the learner's answer on every input,
  or else says on which input it goes wrong and how (shape, inf/nan, a raised error). It never says
  in which direction a number is off, so the messages cannot be used to home in on a value.

Only the placeholder's own ``NotImplementedError("Exercise x.y")`` counts as "not attempted"; any
other error is reported with its message. A bug in the checker surfaces as :class:`CheckFailed`,
never as a traceback from inside it.
"""

from __future__ import annotations

import importlib
import math
import re
import secrets
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import sympy as sp
import torch

from .. import floor as _floor

__all__ = [
    "NotAttempted",
    "CheckFailed",
    "Mistake",
    "Case",
    "Property",
    "Tensor",
    "Number",
    "Expr",
    "Parts",
    "Exercise",
    "REGISTRY",
    "register",
    "check",
    "clone",
    "evaluate",
]

#: the symbols a symbolic answer may use, by name
SYMBOLS: dict[str, sp.Symbol] = {
    "K": _floor.K,
    "alpha": _floor.alpha,
    "z": sp.Symbol("z", real=True),
}


#: hints shared by several exercises: each names a kind of mistake, never a direction
OTHERS_HINT = (
    "this is the variant that spreads the smoothing over the K-1 wrong classes (true class "
    "1 - eps); the exercise uses PyTorch's uniform mixing (alpha spread over all K classes, so the "
    "true class gets 1 - alpha + alpha/K)"
)
BITS_HINT = "this looks like log base 2 (bits); the book measures in nats (natural log)"
SIGN_HINT = "the sign is flipped"


class NotAttempted(Exception):
    """The answer is still the placeholder (``None``, or the exercise's own
    ``NotImplementedError``)."""


class CheckFailed(AssertionError):
    """The answer is wrong; the message says what looks off."""


class _Fail(Exception):
    """Internal: carries a failure message up to :func:`check`."""


class _Placeholder(Exception):
    """Internal: the learner's function raised this exercise's own NotImplementedError."""


class ForbiddenCall(Exception):
    """Raised by a forbidden function while the checker runs the learner's code."""


def fail(message: str) -> NoReturn:
    raise _Fail(message)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, in the form a learner would give it, and the hint that names it."""

    name: str
    answer: Any
    hint: str


@dataclass(frozen=True)
class Case:
    """One set of inputs: ``args`` for a function answer, ``at`` (symbol values) for an expression,
    and ``what``, a short description used in messages ("on a 3-D input of shape (2, 3, 5)")."""

    args: tuple = ()
    what: str = ""
    at: tuple[dict[str, float], ...] = ()


@dataclass(frozen=True)
class Property:
    """A property every right answer has; when a wrong answer lacks it, ``hint`` says so."""

    holds: Callable[[tuple[torch.Tensor, ...], Case], bool]
    hint: str


# ----------------------------------------------------------------------------- reading answers


def _precision(x: Any) -> float:
    """The tolerance that the answer's own floating-point type allows."""
    dtype = getattr(x, "dtype", None)
    if dtype in (torch.float16, torch.bfloat16) or str(dtype) == "float16":
        return 1e-2
    if dtype in (torch.float32,) or str(dtype) == "float32":
        return 2e-5
    return 0.0


def _unwrap_single(x: Any) -> Any:
    """The element of a one-element list, tuple or dict (what ``sp.solve`` returns)."""
    while isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    if isinstance(x, dict) and len(x) == 1:
        x = next(iter(x.values()))
    return x


@dataclass(frozen=True)
class Reading:
    """An answer read into float64 tensors (one per part) and the tolerance its dtype allows."""

    parts: tuple[torch.Tensor, ...]
    slack: float = 0.0


class Tensor:
    """A tensor result. Accepts a torch tensor, a numpy array or a (nested) list of numbers.

    Values match when they agree to a relative tolerance ``tol`` and an absolute one ``atol``
    (default ``tol``), loosened for a half-precision answer.
    """

    def __init__(self, name: str = "result", tol: float = 1e-6, atol: float | None = None):
        self.name, self.tol, self.names = name, tol, (name,)
        self.atol = tol if atol is None else atol

    def read(self, x: Any, case: Case) -> Reading:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu()
        elif type(x).__module__ == "numpy" or isinstance(x, (list, tuple)):
            try:
                t = torch.as_tensor(x)
            except (TypeError, ValueError, RuntimeError):
                fail(f"the {self.name} should be a tensor of numbers, got {type(x).__name__}")
        else:
            fail(f"the {self.name} should be a torch.Tensor, got {type(x).__name__}")
        if t.is_complex():
            fail(f"the {self.name} should be real, got a complex tensor")
        return Reading((t.to(torch.float64),), _precision(t))


class Number:
    """A single real number: a Python, numpy or sympy number, a one-element tensor, or a
    one-element list (``sp.solve``'s answer)."""

    def __init__(self, name: str = "answer", tol: float = 1e-6, atol: float | None = None):
        self.name, self.tol, self.names = name, tol, (name,)
        self.atol = tol if atol is None else atol

    def read(self, x: Any, case: Case) -> Reading:
        x = _unwrap_single(x)
        slack = _precision(x)
        if isinstance(x, (bool, str, bytes)) or type(x).__name__ == "bool_":
            fail(f"the {self.name} should be a number, got {type(x).__name__}")
        if isinstance(x, torch.Tensor):
            if x.numel() != 1:
                fail(
                    f"the {self.name} should be a single number, got a tensor of shape "
                    f"{tuple(x.shape)}"
                )
            if x.dtype == torch.bool or x.is_complex():
                fail(f"the {self.name} should be a real number, got a {x.dtype} tensor")
            x = x.detach().cpu().double().item()
        elif isinstance(x, sp.Basic):
            if x.free_symbols:
                fail(
                    f"the {self.name} should be a number, got an expression in "
                    f"{sorted(s.name for s in x.free_symbols)}"
                )
            x = complex(sp.N(x, 30))
            if abs(x.imag) > 1e-12 * max(1.0, abs(x.real)):
                fail(f"the {self.name} should be a real number, got {type(x).__name__}")
            x = x.real
        elif getattr(x, "size", 1) != 1 and type(x).__module__ == "numpy":
            fail(f"the {self.name} should be a single number, got an array of shape {x.shape}")
        try:
            value = float(x)
        except (TypeError, ValueError):
            fail(f"the {self.name} should be a number, got {type(x).__name__}")
        return Reading((torch.tensor([value], dtype=torch.float64),), slack)


class Expr:
    """A sympy expression in the allowed symbols, evaluated at the points ``case.at``.

    Accepts anything ``sp.sympify`` reads, a one-element list or dict from ``sp.solve``, and a
    series with its ``O(...)`` term (which is dropped).
    """

    def __init__(self, allowed: tuple[str, ...], name: str = "expression", tol: float = 1e-8):
        self.allowed, self.name, self.tol, self.names = allowed, name, tol, (name,)
        self.atol = tol

    def expression(self, x: Any) -> sp.Expr:
        x = _unwrap_single(x)
        if isinstance(x, (sp.Eq, sp.Rel)):
            fail(f"the {self.name} should be an expression, got an equation ({type(x).__name__})")
        try:
            e = sp.sympify(x)
        except (sp.SympifyError, TypeError, ValueError, SyntaxError):
            fail(f"expected a sympy expression, got {type(x).__name__}")
        if not isinstance(e, sp.Expr):
            fail(f"expected a sympy expression, got {type(e).__name__}")
        if e.has(sp.Order):
            e = e.removeO()
        extra = {s.name for s in e.free_symbols} - set(self.allowed)
        if extra:
            fail(
                f"the {self.name} contains the symbols {sorted(extra)}; use only "
                f"{list(self.allowed)} (import them: from lsutils.floor import K, alpha)"
            )
        return e.subs({s: SYMBOLS[s.name] for s in e.free_symbols})

    def read(self, x: Any, case: Case) -> Reading:
        e = self.expression(x)
        values = []
        for point in case.at:
            subs = {SYMBOLS[k]: sp.Float(v, 30) for k, v in point.items()}
            try:
                v = complex(sp.N(e.subs(subs), 20))
            except (TypeError, ValueError):  # e.g. an undefined function of the symbols
                v = complex(math.nan)
            if not math.isfinite(v.real) or abs(v.imag) > 1e-9 * max(1.0, abs(v.real)):
                v = complex(math.nan)
            values.append(v.real)
        return Reading((torch.tensor(values, dtype=torch.float64),))


class Parts:
    """A fixed number of results returned together, as a tuple or list (or a 1-D tensor or array
    when every part is a number)."""

    def __init__(self, *parts: Tensor | Number | Expr) -> None:
        self.parts = parts
        self.names = tuple(p.name for p in parts)

    def read(self, x: Any, case: Case) -> Reading:
        n = len(self.parts)
        numbers = all(isinstance(p, Number) for p in self.parts)
        if numbers and (isinstance(x, torch.Tensor) or type(x).__module__ == "numpy"):
            if getattr(x, "ndim", None) == 1 and len(x) == n:
                x = tuple(x[i] for i in range(n))
        if not isinstance(x, (tuple, list)) or len(x) != n:
            got = f"{len(x)} values" if isinstance(x, (tuple, list)) else type(x).__name__
            fail(f"answer with a tuple ({', '.join(self.names)}); got {got}")
        readings = [p.read(v, case) for p, v in zip(self.parts, x, strict=True)]
        return Reading(tuple(r.parts[0] for r in readings), max(r.slack for r in readings))


Output = Tensor | Number | Expr | Parts


def _parts(output: Output) -> tuple[Tensor | Number | Expr, ...]:
    return output.parts if isinstance(output, Parts) else (output,)


# ------------------------------------------------------------------------------- the exercise


@dataclass(frozen=True)
class Exercise:
    """One exercise, declared once: the checker, the tests and the hints all read from here.

    ``takes`` is ``"function"`` (the answer is called on every case) or ``"value"`` (the answer is
    read at every case, e.g. an expression evaluated at ``case.at``). ``cases(draw)`` returns the
    inputs to try; ``draw`` is a :class:`lsutils.checks.inputs.Draw` seeded afresh at every call.
    ``forbidden`` lists dotted names (``"torch.nn.functional.cross_entropy"``) that raise while the
    learner's function runs. ``nonfinite`` is the hint for a result with inf or nan where the
    reference is finite.
    """

    id: str
    title: str
    reference: Any
    output: Output
    cases: Callable[[Any], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    takes: str = "function"
    forbidden: tuple[str, ...] = ()
    properties: tuple[Property, ...] = ()
    nonfinite: str = ""
    passed: str = "right on every input tried"

    def mistake(self, name: str) -> Mistake:
        for m in self.mistakes:
            if m.name == name:
                return m
        raise KeyError(f"exercise {self.id} declares no mistake {name!r}")


REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise {exercise.id} is registered twice")
    if exercise.takes not in ("function", "value"):
        raise ValueError(f"exercise {exercise.id}: takes must be 'function' or 'value'")
    names = [m.name for m in exercise.mistakes]
    if len(set(names)) != len(names):
        raise ValueError(f"exercise {exercise.id}: two mistakes share a name")
    REGISTRY[exercise.id] = exercise
    return exercise


# ------------------------------------------------------------------- running the learner's code


def clone(x: Any) -> Any:
    """A copy of the inputs that the learner's function may mutate freely."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, tuple):
        return tuple(clone(v) for v in x)
    if isinstance(x, list):
        return [clone(v) for v in x]
    if isinstance(x, dict):
        return {k: clone(v) for k, v in x.items()}
    return x


def _resolve(path: str) -> tuple[Any, str, Any]:
    """``(owner, attribute, object)`` for a dotted name such as ``torch.Tensor.log_softmax``."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:-1]:
            owner = getattr(owner, p)
        return owner, parts[-1], getattr(owner, parts[-1])
    raise ValueError(f"cannot resolve {path!r}")


@contextmanager
def _forbidding(paths: Sequence[str], calls: list[str]) -> Iterator[None]:
    """Replace every forbidden function by one that records the call and raises."""
    saved = []
    try:
        for path in paths:
            owner, attr, _ = _resolve(path)
            saved.append((owner, attr, attr in vars(owner), vars(owner).get(attr)))

            def blocked(*args: Any, _path: str = path, **kwargs: Any) -> NoReturn:
                calls.append(_path)
                raise ForbiddenCall(f"{_path} is not allowed in this exercise")

            setattr(owner, attr, blocked)
        yield
    finally:
        for owner, attr, had, original in reversed(saved):
            if had:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _referenced(fn: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Objects a function refers to by global name, closure or default argument, following the
    learner's own helper functions (those defined in the same module)."""
    seen = set() if seen is None else seen
    if id(fn) in seen or not isinstance(fn, types.FunctionType):
        return
    seen.add(id(fn))
    names = {n for c in _code_objects(fn.__code__) for n in c.co_names}
    found = [fn.__globals__[n] for n in names if n in fn.__globals__]
    found += [c.cell_contents for c in fn.__closure__ or () if _has_contents(c)]
    found += [*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values()]
    for obj in found:
        yield obj
        if isinstance(obj, types.FunctionType) and obj.__module__ == fn.__module__:
            yield from _referenced(obj, seen)


def _has_contents(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _forbidden_message(ex: Exercise, path: str, how: str) -> str:
    return (
        f"exercise {ex.id} asks you not to use {path} ({how}; it is disabled while the checker "
        "runs your function): the point of the exercise is to write that part yourself"
    )


def _check_references(ex: Exercise, fn: Any) -> None:
    if not ex.forbidden:
        return
    banned: dict[int, str] = {}
    for path in ex.forbidden:
        banned.setdefault(id(_resolve(path)[2]), path)
    for obj in _referenced(fn):
        if id(obj) in banned:
            fail(_forbidden_message(ex, banned[id(obj)], "your function refers to it"))


@dataclass
class Outcome:
    """What one call of an answer gave: a reading, or the exception it raised."""

    reading: Reading | None = None
    error: BaseException | None = None


_PLACEHOLDER = re.compile(r"^Exercise (\d+\.\d+)$")


def evaluate(ex: Exercise, answer: Any, case: Case, *, learner: bool = False) -> Outcome:
    """Call (or read) ``answer`` on a clone of ``case``; errors are returned, not raised.

    For the learner's answer the forbidden functions are patched and a wrong type is a failure;
    for the reference and the declared mistakes nothing is patched.
    """
    calls: list[str] = []
    try:
        if ex.takes == "value":
            raw = answer
        elif learner:
            with _forbidding(ex.forbidden, calls):
                raw = answer(*clone(case.args))
        else:
            raw = answer(*clone(case.args))
    except Exception as exc:  # the learner's code failed; keep the error to report it
        if calls:
            fail(_forbidden_message(ex, calls[0], "your function called it"))
        return Outcome(error=exc)
    if calls:
        fail(_forbidden_message(ex, calls[0], "your function called it"))
    return Outcome(reading=ex.output.read(raw, case))


def _close(a: Reading, b: Reading, output: Output, nan_equal: bool) -> bool:
    for part, x, y in zip(_parts(output), a.parts, b.parts, strict=True):
        if x.shape != y.shape:
            return False
        if not torch.allclose(x, y, *_tolerance(part, a, b), equal_nan=nan_equal):
            return False
    return True


def _tolerance(part: Tensor | Number | Expr, a: Reading, b: Reading) -> tuple[float, float]:
    slack = max(a.slack, b.slack)
    return max(part.tol, slack), max(part.atol, slack)


def _same(a: Outcome, b: Outcome, output: Output) -> bool:
    """Whether a mistake reproduces the learner's outcome (same values, or the same error)."""
    if a.error is not None or b.error is not None:
        return a.error is not None and b.error is not None and type(a.error) is type(b.error)
    return _close(a.reading, b.reading, output, nan_equal=True)


_ERROR_HINTS = (
    (
        re.compile(r"bool tensor", re.I),
        "Hint: invert a boolean tensor with `~mask` (or `mask.logical_not()`), or convert it first "
        "with `mask.float()`.",
    ),
    (
        re.compile(r"expected scalar type|dtype|Long but found|Float but found", re.I),
        "Hint: check the dtypes (labels are int64 class indices; probabilities are floats).",
    ),
)


def _raised(ex: Exercise, error: BaseException, case: Case) -> str:
    where = f" {case.what}" if case.what else ""
    if isinstance(error, NotImplementedError):
        m = _PLACEHOLDER.match(str(error))
        if m and m[1] != ex.id:
            return (
                f"your function reached the placeholder of exercise {m[1]}{where}: solve that "
                "exercise first"
            )
    message = f"your function raised {type(error).__name__}{where}: {error}"
    hints = [h for pattern, h in _ERROR_HINTS if pattern.search(str(error))]
    return " ".join([message, *hints])


def _shape_problem(ex: Exercise, got: Reading, ref: Reading, case: Case) -> str:
    where = f" {case.what}" if case.what else ""
    for part, x, y in zip(_parts(ex.output), got.parts, ref.parts, strict=True):
        if x.shape != y.shape:
            transposed = x.ndim == 2 and tuple(x.shape) == tuple(y.shape)[::-1]
            return (
                f"the {part.name} has shape {tuple(x.shape)} but should have shape "
                f"{tuple(y.shape)}{where}"
                + (" (transposed? one row per example)" if transposed else "")
            )
    return ""


def _mismatch(ex: Exercise, got: Reading, ref: Reading, case: Case) -> str:
    where = f" {case.what}" if case.what else ""
    for part, x, y in zip(_parts(ex.output), got.parts, ref.parts, strict=True):
        finite_ref = torch.isfinite(y)
        if not torch.isfinite(x)[finite_ref].all():
            hint = f": {ex.nonfinite}" if ex.nonfinite else ""
            return f"the {part.name} contains inf or nan{where}{hint}"
        rtol, atol = _tolerance(part, got, ref)
        if torch.allclose(x, y, rtol, atol, equal_nan=True):
            continue
        if isinstance(part, Expr) and case.at:
            bad = ~torch.isclose(x, y, rtol, atol, equal_nan=True)
            point = case.at[int(bad.nonzero()[0])]
            at = ", ".join(f"{k} = {v:g}" for k, v in point.items())
            return f"the {part.name} does not give the right value at {at}"
        return f"the {part.name} is not right{where}"
    return "the answer is not right"


def _references(ex: Exercise, seed: int | None) -> tuple[list[Case], list[Outcome]]:
    """Fresh inputs and the reference's results on them (a failing reference is a checker bug)."""
    from .inputs import Draw

    cases = ex.cases(Draw(secrets.randbits(62) if seed is None else seed))
    refs = [evaluate(ex, ex.reference, case) for case in cases]
    for case, ref in zip(cases, refs, strict=True):
        if ref.error is not None:
            raise RuntimeError(f"the reference failed {case.what}: {ref.error!r}")
        if not all(bool(torch.isfinite(p).all()) for p in ref.reading.parts):
            raise RuntimeError(f"the reference is not finite {case.what}")
    return cases, refs


def _learner_outcomes(ex: Exercise, answer: Any, cases: list[Case]) -> list[Outcome]:
    if ex.takes == "function":
        if not callable(answer):
            fail(
                f"expected a function, got {type(answer).__name__}: pass the function itself "
                "(its name, without calling it)"
            )
        _check_references(ex, answer)
    outcomes = []
    for case in cases:
        out = evaluate(ex, answer, case, learner=True)
        if isinstance(out.error, NotImplementedError) and str(out.error) == f"Exercise {ex.id}":
            raise _Placeholder()
        outcomes.append(out)
    return outcomes


def _diagnose(
    ex: Exercise, cases: list[Case], refs: list[Outcome], outcomes: list[Outcome]
) -> NoReturn:
    """Fail with the most specific message: a declared mistake, an error, a shape, a constant
    answer, a missing property, and last where the answer goes wrong."""
    for mistake in ex.mistakes:
        if all(
            _same(out, _safe(ex, mistake.answer, case), ex.output)
            for out, case in zip(outcomes, cases, strict=True)
        ):
            fail(mistake.hint)
    i = next(i for i, (o, r) in enumerate(zip(outcomes, refs, strict=True)) if not _right(o, r, ex))
    got, ref, case = outcomes[i], refs[i].reading, cases[i]
    if got.error is not None:
        fail(_raised(ex, got.error, case))
    shape = _shape_problem(ex, got.reading, ref, case)
    if shape:
        fail(shape)
    if _constant([o.reading for o in outcomes]) and not _constant([r.reading for r in refs]):
        fail(
            "your answer gives the same value for every input tried, but the right answer "
            "changes with them: compute it from the inputs"
            + (" (it should be an expression in the symbols)" if ex.takes == "value" else "")
        )
    for prop in ex.properties:
        if not _holds(prop, got.reading, case):
            fail(prop.hint + (f" ({case.what})" if case.what else ""))
    fail(_mismatch(ex, got.reading, ref, case))


def _right(out: Outcome, ref: Outcome, ex: Exercise) -> bool:
    return out.error is None and _close(out.reading, ref.reading, ex.output, nan_equal=False)


def _run(ex: Exercise, answer: Any, seed: int | None) -> str:
    cases, refs = _references(ex, seed)
    outcomes = _learner_outcomes(ex, answer, cases)
    if not all(_right(out, ref, ex) for out, ref in zip(outcomes, refs, strict=True)):
        _diagnose(ex, cases, refs, outcomes)
    return ex.passed


def _holds(prop: Property, reading: Reading, case: Case) -> bool:
    """Whether the answer has the property; an answer it cannot be judged on is not blamed."""
    try:
        return bool(prop.holds(reading.parts, case))
    except Exception:  # e.g. parts of mismatched shapes: the generic message explains better
        return True


def _constant(readings: list[Reading]) -> bool:
    """Whether the readings are all the same (for a single reading: all its values)."""
    if len(readings) == 1:
        return all(bool((p == p.flatten()[0]).all()) for p in readings[0].parts if p.numel())
    first = readings[0].parts
    return all(
        len(r.parts) == len(first)
        and all(
            a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
            for a, b in zip(r.parts, first, strict=True)
        )
        for r in readings[1:]
    )


def _safe(ex: Exercise, answer: Any, case: Case) -> Outcome:
    try:
        return evaluate(ex, answer, case)
    except _Fail as f:  # a declared mistake of the wrong type: it cannot match a readable answer
        return Outcome(error=TypeError(str(f)))


def check(exercise_id: str, answer: Any, *, seed: int | None = None) -> None:
    """Check ``answer`` for exercise ``exercise_id``: print a success line, or raise
    :class:`NotAttempted` or :class:`CheckFailed` with a hint.

    The inputs are drawn afresh at every call; ``seed`` fixes them (for tests).
    """
    __tracebackhide__ = True  # IPython and pytest show the learner's cell, not this frame
    exercise_id = str(exercise_id)
    if exercise_id not in REGISTRY:
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {', '.join(REGISTRY)}")
    ex = REGISTRY[exercise_id]
    not_attempted = (
        f"Exercise {exercise_id} not attempted yet: replace the placeholder "
        "(`raise NotImplementedError(...)`) with your answer."
    )
    if answer is None:
        raise NotAttempted(not_attempted)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the checks run many small operations: one thread is fastest
    try:
        detail = _run(ex, answer, seed)
    except _Placeholder:
        raise NotAttempted(not_attempted) from None
    except _Fail as f:
        raise CheckFailed(f"Exercise {exercise_id}: {f}") from None
    except Exception as exc:  # a bug in the checker, or an answer it cannot handle
        raise CheckFailed(
            f"Exercise {exercise_id}: the checker could not evaluate your answer "
            f"({type(exc).__name__}: {exc}). Check its type and shape against the statement."
        ) from None
    finally:
        torch.set_num_threads(threads)
    print(f"Exercise {exercise_id} passed: {detail}")
