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

# --- calibration and plots (lsutils.calibration, lsutils.plots) ---

# --- applications ---

# --- exercises (lsutils.checks) ---
