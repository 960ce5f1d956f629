"""Model inversion: reconstruct a class-representative input from a trained classifier.

An attacker who can query a classifier's gradients looks for an input the model assigns to class
``c`` with high confidence, starting from noise and following the gradient of the model's loss for
``c``, with a small image prior so that the result stays image-like (Fredrikson et al., 2015, in
its simplest form; Struppek et al., 2024 ask how label smoothing changes such attacks).
:func:`invert_classes` runs that optimisation for a batch of target classes from seeded starts.

The attack succeeds when its reconstructions carry the class's real features, not when they merely
fool the attacked model. Two measurements say so: an *independent* evaluation classifier (another
architecture, other data) recognises the class (:func:`attack_accuracy`), and the reconstruction
lies near the class's mean image (:func:`distance_to_class_means`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_float, check_int, check_labels
from .loop import num_threads

__all__ = [
    "total_variation",
    "invert_classes",
    "attack_accuracy",
    "class_means",
    "distance_to_class_means",
]


def _check_images(x: torch.Tensor, name: str = "images") -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.dtype.is_floating_point or x.dim() != 4:
        raise ValueError(f"{name} must be a floating-point tensor [N, C, H, W]")
    return x


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of each image ``[N, C, H, W]``: the mean absolute difference
    between vertically and between horizontally adjacent pixels, ``[N]``."""
    x = _check_images(images)
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().flatten(1).mean(dim=1)
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().flatten(1).mean(dim=1)
    return dh + dw


@num_threads(1)  # tiny networks: more threads only add overhead
def invert_classes(
    model: nn.Module,
    classes: Sequence[int],
    shape: tuple[int, ...] = (1, 28, 28),
    *,
    starts: int = 4,
    steps: int = 200,
    lr: float = 0.05,
    tv_weight: float = 0.3,
    l2_weight: float = 0.01,
    init_std: float = 0.1,
    bounds: tuple[float, float] | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruct ``starts`` inputs for each of ``classes`` by gradient descent on the input.

    Minimises ``cross_entropy(model(x), c) + tv_weight * TV(x) + l2_weight * mean(x^2)`` with Adam
    (``lr``, ``steps``) from ``x_0 = init_std * N(0, 1)`` drawn from a generator seeded by
    ``seed`` (so every model is attacked from the same starts), clamping ``x`` to ``bounds`` after
    each step. Inputs are in the model's input units (here: standardised pixels, whose mean image is
    about 0). The model's weights are not changed. Returns ``(images [len(classes) * starts,
    *shape], targets [len(classes) * starts])``, class by class.
    """
    ids = [check_int(c, "classes entry", 0) for c in classes]
    if not ids:
        raise ValueError("classes must name at least one class")
    shape = tuple(check_int(d, "shape entry", 1) for d in shape)
    starts, steps = check_int(starts, "starts", 1), check_int(steps, "steps", 1)
    lr = check_float(lr, "lr", 0.0, low_open=True)
    tv_weight = check_float(tv_weight, "tv_weight", 0.0)
    l2_weight = check_float(l2_weight, "l2_weight", 0.0)
    init_std = check_float(init_std, "init_std", 0.0)
    if bounds is not None:
        low = check_float(bounds[0], "bounds[0]")
        high = check_float(bounds[1], "bounds[1]")
        if not low < high:
            raise ValueError(f"bounds must be (low, high) with low < high, got {bounds}")
    targets = torch.tensor(ids).repeat_interleave(starts)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", 0))
    x = (init_std * torch.randn(len(targets), *shape, generator=gen)).requires_grad_(True)
    was_training = model.training
    model.eval()
    params = list(model.parameters())
    grad_flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        logits = model(x.detach())
        if logits.dim() != 2 or int(targets.max()) >= logits.shape[1]:
            raise ValueError(f"classes must lie in [0, {logits.shape[1] - 1}] for this model")
        opt = torch.optim.Adam([x], lr=lr)
        for _ in range(steps):
            loss = F.cross_entropy(model(x), targets)
            if x.dim() == 4:  # the image prior needs rows and columns
                loss = loss + tv_weight * total_variation(x).mean()
            loss = loss + l2_weight * x.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if bounds is not None:
                with torch.no_grad():
                    x.clamp_(low, high)
    finally:
        for p, flag in zip(params, grad_flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)
    return x.detach(), targets


@torch.no_grad()
def attack_accuracy(evaluator: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of reconstructions that the (independent) ``evaluator`` classifies as their target
    class: the attack accuracy of model-inversion papers."""
    evaluator.eval()
    logits = evaluator(images)
    targets = check_labels(targets, logits.shape[1])
    if targets.shape[0] != logits.shape[0]:
        raise ValueError(f"need one target per image, got {targets.shape[0]} for {len(images)}")
    return float((logits.argmax(dim=1) == targets).double().mean())


def class_means(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Mean image of each class ``[num_classes, *image_shape]`` (every class must occur)."""
    if not isinstance(images, torch.Tensor) or not images.dtype.is_floating_point:
        raise ValueError("images must be a floating-point tensor [N, ...]")
    k = check_int(num_classes, "num_classes", 2)
    labels = check_labels(labels, k)
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"need one label per image, got {labels.shape[0]} for {len(images)}")
    counts = torch.bincount(labels, minlength=k)
    if (counts == 0).any():
        raise ValueError(
            f"every class needs an image; missing: {torch.where(counts == 0)[0].tolist()}"
        )
    sums = torch.zeros(k, images[0].numel(), dtype=torch.float64)
    sums.index_add_(0, labels, images.flatten(1).double())
    return (sums / counts[:, None]).to(images.dtype).view(k, *images.shape[1:])


def distance_to_class_means(
    images: torch.Tensor, targets: torch.Tensor, means: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Root-mean-square pixel distance of each reconstruction to its target class's mean image
    ``[N]``, and whether that class's mean is the nearest of all class means ``[N]`` (bool)."""
    if not isinstance(means, torch.Tensor) or images.shape[1:] != means.shape[1:]:
        raise ValueError("images [N, ...] and means [K, ...] must have the same image shape")
    targets = check_labels(targets, means.shape[0])
    if targets.shape[0] != images.shape[0]:
        raise ValueError(f"need one target per image, got {targets.shape[0]} for {len(images)}")
    d = torch.cdist(images.flatten(1).double(), means.flatten(1).double())
    d = d / images[0].numel() ** 0.5
    own = d.gather(1, targets[:, None]).squeeze(1)
    return own, d.argmin(dim=1) == targets
