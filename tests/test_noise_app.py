"""lsutils.noise.noisy_label_fit: memorisation of flipped labels, on hand-computed cases."""

import pytest
import torch

import lsutils
from lsutils.noise import NoisyFit, noisy_label_fit


def test_hand_computed():
    clean = torch.tensor([0, 1, 2, 0, 1, 2])
    noisy = torch.tensor([0, 1, 2, 1, 2, 0])  # the last three are flipped
    pred = torch.tensor(
        [0, 2, 2, 1, 1, 0]
    )  # 2 of 3 kept right; flipped: memorised, clean, memorised
    fit = noisy_label_fit(pred, noisy, clean, 3)
    assert fit == NoisyFit(memorised=2 / 3, corrected=1 / 3, kept=2 / 3, flipped=0.5)


def test_on_generated_noise():
    clean = torch.arange(10).repeat(100)
    noisy = lsutils.data.symmetric_label_noise(clean, 0.3, 10, seed=0)
    fit = noisy_label_fit(noisy, noisy, clean, 10)  # a model that fits the noisy labels exactly
    assert fit.memorised == 1.0 and fit.corrected == 0.0 and fit.kept == 1.0
    assert fit.flipped == pytest.approx(float((noisy != clean).double().mean()))
    fit = noisy_label_fit(clean, noisy, clean, 10)  # one that predicts the clean labels
    assert fit.memorised == 0.0 and fit.corrected == 1.0


@pytest.mark.parametrize(
    "args, match",
    [
        ((torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([0, 1])), "both flipped"),
        ((torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([0, 1])), "both flipped"),
        ((torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0, 0])), "same length"),
        ((torch.tensor([0, 3]), torch.tensor([0, 1]), torch.tensor([0, 0])), r"labels must lie"),
    ],
)
def test_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        noisy_label_fit(*args, 3)
