"""Fine-tune a torchvision ResNet on CIFAR-10-format data with label smoothing, fast and resumable.

The epochs, history, checkpoints and optimiser come from the shared loop (:mod:`lsutils.loop`); what
is specific to a GPU lives here. The data stay on the device as uint8 tensors; each batch is
cropped, flipped, resized and normalised there (:mod:`lsutils.cifar`), with no DataLoader. The
configuration chooses bf16 autocast, ``channels_last`` and ``torch.compile``; all three also run on
a CPU (the tests use them there). A verified checkpoint is written atomically after every epoch, so
a run interrupted at any point resumes with no lost epoch and ends bit-identical to an uninterrupted
one on the same device.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from . import _store
from ._validate import check_int, check_labels, check_num_classes
from .cifar import CIFAR10_CLASSES, augment_batch, data_source, load_cifar10, prepare_batch
from .floor import loss_floor, optimal_logit_gap
from .loop import (
    FitConfig,
    History,
    LoopState,
    Step,
    make_optimizer,
    make_scheduler,
    run_epochs,
    seeded_init,
    steps_per_epoch,
)
from .losses import smoothed_cross_entropy

__all__ = [
    "FinetuneConfig",
    "build_model",
    "train",
    "evaluate",
    "evaluation_metrics",
    "provenance",
    "SweepResult",
    "run_sweep",
]


@dataclass(frozen=True)
class FinetuneConfig(FitConfig):
    """A fine-tuning run: the loop's hyperparameters (SGD with Nesterov momentum, warm-up then
    cosine, incomplete last batch dropped) plus the model, its input size and the speed settings.

    ``pad`` is the zero padding of the random crop. ``bf16`` runs the forward pass under bfloat16
    autocast (the loss stays float32), ``channels_last`` stores activations NHWC, ``compile`` wraps
    the model in ``torch.compile``. They change the arithmetic, so they are part of the
    configuration.
    """

    epochs: int = 3
    batch_size: int = 128
    lr: float = 0.05
    optimizer: str = "sgd"
    weight_decay: float = 5e-4
    warmup_frac: float = 0.1
    drop_last: bool = True
    model: str = "resnet18"
    pretrained: bool = True
    image_size: int = 32
    pad: int = 4
    bf16: bool = False
    channels_last: bool = True
    compile: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.alpha < 0 or self.alpha >= 1:
            raise ValueError(f"alpha must be in [0, 1) for fine-tuning, got {self.alpha}")
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(
                f"model must be a torchvision model name or 'tiny', got {self.model!r}"
            )
        object.__setattr__(self, "image_size", check_int(self.image_size, "image_size", 8))
        object.__setattr__(self, "pad", check_int(self.pad, "pad", 0))
        for name in ("pretrained", "bf16", "channels_last", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")


class TinyNet(nn.Module):
    """A two-layer CNN for tests and CPU benchmarks of the pipeline itself."""

    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        num_classes, width = check_num_classes(num_classes), check_int(width, "width", 1)
        self.body = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))


def _cached_weights(name: str):
    """The torchvision weights enum for ``name`` if its file is in the torch hub cache (or downloads
    are allowed)."""
    from torchvision.models import get_model_weights

    weights = get_model_weights(name).DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    allowed = os.environ.get("LSUTILS_ALLOW_DOWNLOAD", "") == "1"
    return weights if cached.is_file() or allowed else None


def build_model(
    name: str = "resnet18", num_classes: int = 10, pretrained: bool = True
) -> tuple[nn.Module, str]:
    """A torchvision model with a fresh ``num_classes`` head, and a description of its starting
    weights.

    ``pretrained=True`` loads the torchvision ``DEFAULT`` weights when they are cached locally (or
    ``LSUTILS_ALLOW_DOWNLOAD=1``); otherwise the model starts from random init and the description
    says so. ``name="tiny"`` gives :class:`TinyNet` (random init), for tests.
    """
    num_classes = check_num_classes(num_classes)
    if name == "tiny":
        return TinyNet(num_classes), "random init (TinyNet)"
    from torchvision.models import get_model, list_models

    if name not in list_models():
        raise ValueError(
            f"unknown model {name!r}; use 'tiny' or a torchvision model name such as 'resnet18'"
        )
    weights = _cached_weights(name) if pretrained else None
    model = get_model(name, weights=weights)
    if not hasattr(model, "fc"):
        raise ValueError(f"model {name!r} has no .fc head; use a ResNet")
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    if weights is not None:
        return model, f"ImageNet-pretrained ({type(weights).__name__}.{weights.name})"
    why = "pretrained=False" if not pretrained else "no cached ImageNet weights"
    return model, f"random init ({why})"


def _device(device: str | torch.device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from None


def _check_uint8(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.dim() != 4 or x.shape[1] != 3:
        raise ValueError("x must be uint8 images [N, 3, H, W]")


def _check_images(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    _check_uint8(x)
    y = check_labels(y, num_classes)
    if len(x) != len(y):
        raise ValueError(f"need one label per image, got {len(x)} images and {len(y)} labels")
    return y


def _finetune_step(run, x, y, gen, config: FinetuneConfig, K: int) -> Step:
    """Augment on the device, forward (bf16 autocast if configured), smoothed loss in float32."""

    def step(idx: torch.Tensor):
        xb = augment_batch(x[idx[0]], gen, pad=config.pad)
        xb = prepare_batch(xb, size=config.image_size, channels_last=config.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=config.bf16):
            logits = run(xb)
        loss = smoothed_cross_entropy(logits.float(), y[idx[0]], config.alpha, validate=False)
        hits = (logits.detach().argmax(1) == y[idx[0]]).sum()
        return loss, loss.detach()[None], hits[None]

    return step


def train(
    config: FinetuneConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    num_classes: int = 10,
    device: str | torch.device | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, LoopState], None] | None = None,
) -> tuple[nn.Module, History]:
    """Fine-tune on uint8 images ``x [N, 3, H, W]`` and labels ``y``; return ``(model, history)``.

    With ``checkpoint`` set, the run resumes from there and saves there after every epoch (model,
    optimiser, schedule, the augmentation RNG, history): an interrupted run ends exactly where an
    uninterrupted one would on the same device. ``on_epoch_end(epoch, state)`` runs after the save.
    """
    K = check_num_classes(num_classes)
    y = _check_images(x, y, K)
    dev = _device(device) if device is not None else _store.default_device()
    model = seeded_init(lambda: build_model(config.model, K, config.pretrained)[0], config.seed)
    fmt = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(dev, memory_format=fmt).train()
    xd, yd = x.to(dev), y.to(dev)
    opt = make_optimizer(model.parameters(), config, dev)
    total = config.epochs * steps_per_epoch(len(xd), config)
    gen = torch.Generator(device=dev).manual_seed(config.seed)  # data order and augmentation
    state = LoopState(model, opt, make_scheduler(opt, config, total), [gen], [History()])
    run = torch.compile(model) if config.compile else model
    step = _finetune_step(run, xd, yd, gen, config, K)
    key = {**config.canonical(), "num_classes": K}
    path = Path(checkpoint) if checkpoint is not None else None
    run_epochs(
        state, step, len(xd), config, device=dev, checkpoint=path, config_key=key,
        progress=progress, desc=f"alpha={config.alpha}", on_epoch_end=on_epoch_end,
    )  # fmt: skip
    return model.eval(), state.histories[0]


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    *,
    image_size: int = 32,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    bf16: bool = False,
    channels_last: bool = True,
) -> torch.Tensor:
    """Logits (float32, on the CPU) for uint8 images ``x``, without augmentation."""
    device = _device(device) if device is not None else next(model.parameters()).device
    _check_uint8(x)
    model.eval()
    out = []
    for i in range(0, len(x), check_int(batch_size, "batch_size", 1)):
        xb = prepare_batch(
            x[i : i + batch_size].to(device), size=image_size, channels_last=channels_last
        )
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out.append(model(xb).float().cpu())
    return torch.cat(out)


def evaluation_metrics(
    logits: torch.Tensor, labels: torch.Tensor, alpha: float, n_bins: int = 15
) -> dict:
    """Accuracy, NLL (nats), ECE, mean confidence, and the mean logit gap against its optimum under
    ``alpha``.

    The logit gap of an example is its true-class logit minus the mean of the other logits; at the
    loss floor every gap equals :func:`lsutils.optimal_logit_gap` (``None`` for ``alpha = 0``, where
    it is infinite).
    """
    from .calibration import calibration_summary
    from .representations import logit_gaps

    summary = calibration_summary(logits, labels, n_bins=n_bins)
    K = logits.shape[1]
    return {
        "accuracy": summary["accuracy"],
        "nll": summary["nll"],
        "ece": summary["ece"],
        "confidence": summary["confidence"],
        "logit_gap": float(logit_gaps(logits, labels).mean()),
        "optimal_gap": optimal_logit_gap(K, alpha) if alpha > 0 else None,
        "loss_floor": loss_floor(K, alpha),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(device: str | torch.device, **extra) -> dict:
    """Where and with what a result was produced: device, versions, git commit, plus ``extra``
    fields."""
    import torchvision

    device = _device(device)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (platform.processor() or "cpu")
    )
    return {
        "device": f"{device.type}: {name}",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
        "git_commit": _git_commit(),
        **extra,
    }


@dataclass
class SweepResult:
    """Metrics and histories per alpha (``runs``), test logits and labels, and provenance."""

    runs: dict[float, dict]
    logits: dict[float, torch.Tensor]
    labels: torch.Tensor
    provenance: dict
    path: Path


def _sweep_configs(
    alphas, profile, model: str, pretrained: bool, seed: int
) -> dict[float, FinetuneConfig]:
    return {
        float(a): FinetuneConfig(
            alpha=float(a), model=model, pretrained=pretrained, image_size=profile.image_size,
            epochs=profile.epochs, batch_size=profile.batch_size, lr=profile.lr, seed=seed,
            bf16=profile.bf16, compile=profile.compile,
        )
        for a in alphas
    }  # fmt: skip


def _sweep_data(root, profile) -> tuple[torch.Tensor, ...]:
    """Training and test images and labels, cut to the profile's sizes."""
    x, y = load_cifar10(root, "train")
    xt, yt = load_cifar10(root, "test")
    n, m = profile.train_size, profile.test_size
    return x[:n], y[:n], xt[:m], yt[:m]


def _save_sweep(result: SweepResult) -> None:
    logits = {str(a): t for a, t in result.logits.items()}
    _store.save_torch({"logits": logits, "labels": result.labels}, result.path / "test_logits.pt")
    runs = {str(a): r for a, r in result.runs.items()}
    _store.save_json({"provenance": result.provenance, "runs": runs}, result.path / "results.json")


def _sweep_key(meta: dict, configs: dict[float, FinetuneConfig], device: torch.device) -> str:
    blob = {
        **meta,
        "device_type": device.type,
        "configs": {str(a): c.canonical() for a, c in configs.items()},
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def _load_sweep(out: Path) -> SweepResult | None:
    try:
        saved = _store.load_json(out / "results.json")
        logits = _store.load_torch(out / "test_logits.pt")
    except FileNotFoundError:
        return None
    except (_store.CorruptFileError, RuntimeError, EOFError, KeyError) as err:
        import warnings

        warnings.warn(
            f"ignoring damaged sweep results in {out.name} ({err}); rerunning", stacklevel=3
        )
        return None
    runs = {float(a): r for a, r in saved["runs"].items()}
    curves = {float(a): t for a, t in logits["logits"].items()}
    return SweepResult(runs, curves, logits["labels"], saved["provenance"], out)


def run_sweep(
    alphas: Sequence[float],
    profile,
    root: str | os.PathLike,
    *,
    model: str = "resnet18",
    pretrained: bool = True,
    seed: int = 0,
    device: str | torch.device | None = None,
    cache: bool = True,
    progress: bool = True,
) -> SweepResult:
    """Fine-tune once per alpha at the scale of ``profile`` on the data under ``root``; evaluate on
    the test split.

    Results go to ``$LSUTILS_CACHE/cifar_finetune/<key>/`` (verified files: ``results.json`` with
    provenance, the test logits, per-alpha checkpoints); with ``cache=True`` a finished sweep is
    loaded instead of rerun, and an interrupted one resumes from its checkpoints.
    """
    device = _device(device) if device is not None else _store.default_device()
    if not list(alphas):
        raise ValueError("alphas must name at least one smoothing strength")
    x, y, xt, yt = _sweep_data(root, profile)
    K = len(CIFAR10_CLASSES)
    configs = _sweep_configs(alphas, profile, model, pretrained, seed)
    meta = {
        "profile": profile.name, "data_source": data_source(root), "seed": seed,
        "weights": build_model(model, K, pretrained)[1], "train_size": len(x), "test_size": len(xt),
    }  # fmt: skip
    out = _store.cache_dir() / "cifar_finetune" / _sweep_key(meta, configs, device)
    if cache and (done := _load_sweep(out)) is not None:
        return done
    runs, logits = {}, {}
    for a, cfg in configs.items():
        ckpt = out / f"alpha_{a}.ckpt" if cache else None
        net, hist = train(
            cfg, x, y, num_classes=K, device=device, checkpoint=ckpt, progress=progress
        )
        logits[a] = evaluate(net, xt, image_size=cfg.image_size, device=device, bf16=cfg.bf16)
        runs[a] = {**evaluation_metrics(logits[a], yt, a), "history": hist.to_dict()}
    result = SweepResult(runs, logits, yt, provenance(device, **meta), out)
    if cache:
        _save_sweep(result)
    return result
