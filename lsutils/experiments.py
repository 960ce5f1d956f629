"""The training regimes the chapters share, so that the models they train are shared through the
cache.

Each regime is a :class:`~lsutils.train.TrainConfig` of the 784-256-10 MLP; a chapter varies alpha
(or another member field) with ``dataclasses.replace`` and trains over :data:`lsutils.seeds.SEEDS`
with :func:`lsutils.seeds.train_grid`. Two chapters that ask for the same configuration load the
same models.

- :data:`SMALL`: 2,000 training images for 60 epochs. The network fits its training set (train
  accuracy near 99%) and is overconfident on the test set: the regime where the literature's claims
  about smoothing (better calibration, better accuracy) can appear, and the cheap one.
- :data:`MEDIUM`: 10,000 images for 15 epochs. Plain cross-entropy is already well calibrated here.

A measurement on 5 seeds (ECE, 15 bins; means): SMALL alpha 0 / 0.05 / 0.1: ECE 5.7% / 1.9% / 6.9%,
accuracy 82.5% / 82.8% / 82.9%; MEDIUM: ECE 1.0% / 4.7% / 9.2%, accuracy 85.1% / 85.3% / 85.4%.
The chapters measure and assert their own numbers; these are here to help choose a regime.
"""

from __future__ import annotations

from .train import TrainConfig

__all__ = ["SMALL", "MEDIUM", "ALPHAS", "REGIMES"]

SMALL = TrainConfig(train_size=2000, epochs=60)
MEDIUM = TrainConfig(train_size=10000, epochs=15)
#: The smoothing strengths (uniform convention) the Principles chapters compare.
ALPHAS = (0.0, 0.05, 0.1, 0.2)
REGIMES = {"small": SMALL, "medium": MEDIUM}
