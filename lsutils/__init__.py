"""lsutils: the companion package of lsbook, one module per idea the book teaches."""

from .floor import floor_expr, gap_expr, loss_floor, optimal_logit_gap
from .gradients import logit_gradient
from .losses import cross_entropy_from_targets, smoothed_cross_entropy
from .targets import convert_alpha, smooth_targets, target_probs

__all__ = [
    "smooth_targets",
    "target_probs",
    "convert_alpha",
    "smoothed_cross_entropy",
    "cross_entropy_from_targets",
    "logit_gradient",
    "loss_floor",
    "floor_expr",
    "gap_expr",
    "optimal_logit_gap",
]

# --- data, models, training (lsutils.data, lsutils.models, lsutils.train) ---
from .data import fashion_tensors, load_fashion_mnist  # noqa: E402
from .models import make_model  # noqa: E402
from .train import TrainConfig, TrainedModel, fit, predict_logits  # noqa: E402

# the function train() stays in lsutils.train (exporting it here would hide the module lsutils.train)
__all__ += ["load_fashion_mnist", "fashion_tensors", "make_model", "TrainConfig", "TrainedModel", "fit",
            "predict_logits"]

# --- calibration and plots (lsutils.calibration, lsutils.plots) ---
from .calibration import expected_calibration_error, fit_temperature  # noqa: E402

__all__ += ["expected_calibration_error", "fit_temperature"]

# --- applications ---
from .distill import distillation_loss, soft_targets  # noqa: E402
from .fairness import per_class_accuracy, per_class_deltas, per_class_ece  # noqa: E402
from .privacy import membership_advantage, membership_auc  # noqa: E402
from .probe import extract_features, fit_linear_probe  # noqa: E402
from .selective import aurc, excess_aurc, failure_auroc, risk_coverage_curve  # noqa: E402
from .value_targets import hl_gauss, two_hot  # noqa: E402

__all__ += [
    "soft_targets",
    "distillation_loss",
    "per_class_accuracy",
    "per_class_ece",
    "per_class_deltas",
    "membership_auc",
    "membership_advantage",
    "fit_linear_probe",
    "extract_features",
    "risk_coverage_curve",
    "aurc",
    "excess_aurc",
    "failure_auroc",
    "two_hot",
    "hl_gauss",
]

# --- exercises (lsutils.checks) ---
from . import checks  # noqa: E402  (the exercise checkers: lsutils.checks.check)

__all__ += ["checks"]
