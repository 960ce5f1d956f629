"""Auto-checkers for the Hands-On exercises: ``check("1.3", answer)``.

``check`` prints a success line when the answer is right. Otherwise it raises :class:`NotAttempted`
(the answer is still the placeholder) or :class:`CheckFailed`, whose message names the kind of
mistake (convention, log base, sign, factor, shape, a forbidden shortcut) without giving the answer
away. Every exercise is declared once, with its reference answer, the inputs to try and its typical
mistakes, in the module of its notebook: :mod:`.ex01_targets_and_floor`, :mod:`.ex02_gradients`,
:mod:`.ex03_calibration`, :mod:`.ex04_applications`; :mod:`.framework` holds the machinery. This
package is imported on first use (``lsutils.checks``), never by ``import lsutils``.
"""

from __future__ import annotations

from . import ex01_targets_and_floor, ex02_gradients, ex03_calibration, ex04_applications  # noqa: F401
from .ex02_gradients import z
from .ex03_calibration import calibration_data
from .framework import REGISTRY, CheckFailed, Exercise, Mistake, NotAttempted, check

__all__ = [
    "check",
    "REGISTRY",
    "Exercise",
    "Mistake",
    "NotAttempted",
    "CheckFailed",
    "calibration_data",
    "z",
]
