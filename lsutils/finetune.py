"""Fine-tune a torchvision ResNet on CIFAR-10-format data with label smoothing, fast and resumable.

The data stay on the device as uint8 tensors; each batch is cropped, flipped, resized and normalised there
(:mod:`lsutils.cifar`), with no DataLoader. On CUDA the model runs channels_last under bf16 autocast with
a fused SGD and optionally ``torch.compile``; on a CPU the same code runs in float32. A checkpoint is written
atomically after every epoch (model, optimizer, scheduler, all RNG states, history), so a run interrupted
at any point resumes with no lost epoch and ends bit-identical to an uninterrupted one (on the same device).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from .cifar import augment_batch, data_source, load_cifar10, prepare_batch
from .floor import loss_floor, optimal_logit_gap
from .losses import smoothed_cross_entropy
from .progress import progress_bar

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
class FinetuneConfig:
    """Everything that determines a fine-tuning run (and its cache key)."""

    alpha: float = 0.0
    model: str = "resnet18"
    pretrained: bool = True
    image_size: int = 32
    epochs: int = 3
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_frac: float = 0.1
    pad: int = 4
    seed: int = 0
    compile: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {self.alpha}")
        if self.epochs < 1 or self.batch_size < 1 or self.image_size < 8:
            raise ValueError("epochs and batch_size must be positive and image_size at least 8")


class TinyNet(nn.Module):
    """A two-layer CNN for tests and CPU benchmarks of the pipeline itself."""

    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
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
    """The torchvision weights enum for ``name`` if its file is in the torch hub cache (or downloads are allowed)."""
    from torchvision.models import get_model_weights

    weights = get_model_weights(name).DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    allowed = os.environ.get("LSUTILS_ALLOW_DOWNLOAD", "") == "1"
    return weights if cached.is_file() or allowed else None


def build_model(
    name: str = "resnet18", num_classes: int = 10, pretrained: bool = True
) -> tuple[nn.Module, str]:
    """A torchvision model with a fresh ``num_classes`` head, and a description of its starting weights.

    ``pretrained=True`` loads the torchvision ``DEFAULT`` weights when they are cached locally (or
    ``LSUTILS_ALLOW_DOWNLOAD=1``); otherwise the model starts from random init and the description says so.
    ``name="tiny"`` gives :class:`TinyNet` (random init), for tests.
    """
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


def _lr_factor(step: int, total: int, warmup_frac: float) -> float:
    warm = max(1, int(total * warmup_frac))
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def _atomic_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    config: FinetuneConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    device: str | torch.device | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict], None] | None = None,
) -> tuple[nn.Module, dict]:
    """Fine-tune on uint8 images ``x`` ``[N, 3, 32, 32]`` and labels ``y``; return ``(model, history)``.

    With ``checkpoint`` set, state is saved there after every epoch and a run finds and resumes it.
    ``on_epoch_end(epoch, history)`` is called after the checkpoint is written (it may raise to stop).
    """
    if x.dtype != torch.uint8 or x.dim() != 4 or len(x) != len(y):
        raise ValueError("x must be uint8 [N, C, H, W] with one label per image")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    steps = len(x) // config.batch_size
    if steps < 1:
        raise ValueError(f"need at least batch_size={config.batch_size} images, got {len(x)}")
    total = steps * config.epochs

    torch.manual_seed(config.seed)
    model, weights = build_model(config.model, 10, config.pretrained)
    model = model.to(device, memory_format=torch.channels_last)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=True,
        weight_decay=config.weight_decay,
        **({"fused": True} if cuda else {}),
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: _lr_factor(s, total, config.warmup_frac)
    )
    gen = torch.Generator(device=device).manual_seed(config.seed)
    history = {"train_loss": [], "lr": [], "epoch_seconds": [], "weights": weights}
    start = 0

    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.is_file():
        state = torch.load(
            ckpt, map_location="cpu", weights_only=False
        )  # RNG states must stay on the CPU
        if state["config"] != dataclasses.asdict(config):
            raise ValueError(
                f"checkpoint {ckpt} was written for another config; delete it or change the path"
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["aug_rng"])
        torch.set_rng_state(state["cpu_rng"])
        if cuda and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        history, start = state["history"], state["epoch"]

    run = torch.compile(model) if config.compile else model
    xd, yd = x.to(device), y.to(device)
    bar = progress_bar(
        range(start, config.epochs),
        desc=f"alpha={config.alpha}",
        enabled=progress,
        initial=start,
        total=config.epochs,
    )
    for epoch in bar:
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        perm = torch.randperm(len(xd), generator=gen, device=device)
        for i in range(steps):
            idx = perm[i * config.batch_size : (i + 1) * config.batch_size]
            xb = prepare_batch(augment_batch(xd[idx], gen, pad=config.pad), size=config.image_size)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                logits = run(xb)
            loss = smoothed_cross_entropy(logits.float(), yd[idx], config.alpha, validate=False)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach()
        history["train_loss"].append(loss_sum.item() / steps)
        history["lr"].append(opt.param_groups[0]["lr"])
        history["epoch_seconds"].append(time.perf_counter() - t0)
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}")
        if ckpt is not None:
            _atomic_save(
                {
                    "config": dataclasses.asdict(config),
                    "epoch": epoch + 1,
                    "history": history,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "aug_rng": gen.get_state(),
                    "cpu_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if cuda else None,
                },
                ckpt,
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    bar.close()
    return model, history


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    *,
    image_size: int = 32,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Logits (float32, on the CPU) for uint8 images ``x``, without augmentation."""
    device = torch.device(device or next(model.parameters()).device)
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = prepare_batch(x[i : i + batch_size].to(device), size=image_size)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out.append(model(xb).float().cpu())
    return torch.cat(out)


def evaluation_metrics(
    logits: torch.Tensor, labels: torch.Tensor, alpha: float, n_bins: int = 15
) -> dict:
    """Accuracy, NLL (nats), ECE, mean confidence, and the mean logit gap against its optimum under ``alpha``.

    The logit gap of an example is its true-class logit minus the mean of the other logits; at the loss
    floor every gap equals :func:`lsutils.optimal_logit_gap` (``None`` for ``alpha = 0``, where it is infinite).
    """
    from .calibration import calibration_summary
    from .plots import logit_gaps

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
    """Where and with what a result was produced: device, versions, git commit, plus ``extra`` fields."""
    import torchvision

    device = torch.device(device)
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
    """Fine-tune once per alpha at the scale of ``profile`` on the data under ``root``; evaluate on the test split.

    Results go to ``$LSUTILS_CACHE/cifar_finetune/<key>/`` (``results.json`` with provenance, test logits,
    per-alpha checkpoints); with ``cache=True`` a finished sweep is loaded instead of rerun, and an
    interrupted one resumes from its checkpoints.
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    source = data_source(root)
    x, y = load_cifar10(root, "train")
    xt, yt = load_cifar10(root, "test")
    x, y = x[: profile.train_size], y[: profile.train_size]
    xt, yt = xt[: profile.test_size], yt[: profile.test_size]
    configs = {
        float(a): FinetuneConfig(
            alpha=float(a),
            model=model,
            pretrained=pretrained,
            image_size=profile.image_size,
            epochs=profile.epochs,
            batch_size=profile.batch_size,
            lr=profile.lr,
            seed=seed,
            compile=profile.compile and device.type == "cuda",
        )
        for a in alphas
    }
    _, weights = (
        build_model(model, 10, pretrained) if model != "tiny" else (None, "random init (TinyNet)")
    )
    meta = {
        "profile": profile.name,
        "data_source": source,
        "weights": weights,
        "seed": seed,
        "train_size": len(x),
        "test_size": len(xt),
        "device_type": device.type,
        "configs": {str(a): dataclasses.asdict(c) for a, c in configs.items()},
    }
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]
    out = (
        Path(os.environ.get("LSUTILS_CACHE", Path.home() / ".cache" / "lsutils"))
        / "cifar_finetune"
        / key
    )
    results, logits_file = out / "results.json", out / "test_logits.pt"
    if cache and results.is_file() and logits_file.is_file():
        saved = json.loads(results.read_text())
        logits = torch.load(logits_file, weights_only=True)
        return SweepResult(
            {float(a): r for a, r in saved["runs"].items()},
            {float(a): t for a, t in logits["logits"].items()},
            logits["labels"],
            saved["provenance"],
            out,
        )
    runs, logits = {}, {}
    for a, cfg in configs.items():
        net, hist = train(
            cfg,
            x,
            y,
            device=device,
            checkpoint=out / f"alpha_{a}.pt" if cache else None,
            progress=progress,
        )
        logits[a] = evaluate(net, xt, image_size=cfg.image_size, device=device)
        runs[a] = {**evaluation_metrics(logits[a], yt, a), "history": hist}
    prov = provenance(
        device,
        **{
            k: meta[k]
            for k in ("profile", "data_source", "weights", "seed", "train_size", "test_size")
        },
        root=str(root),
    )
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"logits": {str(a): t for a, t in logits.items()}, "labels": yt}, logits_file)
    tmp = results.with_name("results.json.tmp")
    tmp.write_text(
        json.dumps(
            {"provenance": prov, "runs": {str(a): r for a, r in runs.items()}},
            indent=1,
            default=str,
        )
    )
    os.replace(tmp, results)
    return SweepResult(runs, logits, yt, prov, out)
