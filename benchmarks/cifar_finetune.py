"""Training throughput of lsutils.finetune against a tutorial-style loop, on the same device in one
run.

Ours: uint8 data resident on the device, batched crop/flip/resize there, channels_last, bf16
autocast and a fused SGD on CUDA, optional torch.compile. Reference: torchvision's CIFAR10 dataset
with PIL transforms (RandomCrop, RandomHorizontalFlip, Resize, ToTensor, Normalize) through a
DataLoader, fp32, NCHW, plain SGD. Both train the same ResNet at the same input size and batch size.
Also prints the model FLOP/s of our loop (FLOPs of one training step counted by
torch.utils.flop_counter) as a fraction of the device's bf16 peak.

    python benchmarks/cifar_finetune.py --size tiny   # CPU, 512 images, ResNet-18 at 32 px
    python benchmarks/cifar_finetune.py --size full   # GPU, 50,000 images, ResNet-18 at 112 px
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from lsutils import cifar, finetune

# images, input size, batch, epochs of ours (the first is warm-up/compile), epochs of the reference
SIZES = {
    "tiny": dict(images=512, image_size=32, batch_size=128, epochs=3, ref_epochs=2),
    "full": dict(images=50_000, image_size=112, batch_size=512, epochs=3, ref_epochs=2),
}
# Measured bf16 dense matmul throughput (REFERENCES.md: an 8192^3 bf16 product, about 790 TFLOP/s).
PEAK_TFLOPS = {"H100": 790.0, "H200": 790.0}


def get_data(images: int, root: str | None) -> tuple[Path, str]:
    """Real CIFAR-10 if present, else a synthetic set of the same size in a temporary folder."""
    real = Path(root) if root else cifar.default_cifar_root()
    if cifar.cifar_available(real):
        return real, cifar.data_source(real)
    tmp = Path(tempfile.mkdtemp(prefix="lsutils-bench-"))
    n = images + (-images) % 5
    return cifar.write_synthetic_cifar10(tmp, n_train=n, n_test=10), "synthetic"


def bench_ours(x, y, args, device) -> float:
    cfg = finetune.FinetuneConfig(
        alpha=0.1,
        model=args.model,
        pretrained=False,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        compile=args.compile,
        bf16=device.type == "cuda",
    )
    _, hist = finetune.train(cfg, x, y, device=device, progress=False)
    seconds = sum(hist.epoch_seconds[1:])  # drop the first epoch: warm-up and compilation
    return (len(x) // args.batch_size) * args.batch_size * (args.epochs - 1) / seconds


def bench_reference(root, images, args, device) -> float:
    from torchvision import transforms
    from torchvision.datasets import CIFAR10

    tf = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
    if args.image_size != 32:
        tf.append(transforms.Resize(args.image_size))
    tf += [transforms.ToTensor(), transforms.Normalize(cifar.IMAGENET_MEAN, cifar.IMAGENET_STD)]
    reader = cifar.synthetic_reader() if cifar.data_source(root) == "synthetic" else CIFAR10
    ds = torch.utils.data.Subset(
        reader(str(root), train=True, transform=transforms.Compose(tf)), range(images)
    )
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
        persistent_workers=args.workers > 0,
    )
    model, _ = finetune.build_model(args.model, 10, pretrained=False)
    model = model.to(device)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    seen, seconds = 0, 0.0
    for epoch in range(args.ref_epochs):
        t0, n = time.perf_counter(), 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()  # tutorials log the loss every step
            n += len(xb)
        if epoch > 0:  # the first epoch starts the workers and warms up
            seen, seconds = seen + n, seconds + time.perf_counter() - t0
    return seen / seconds


def train_step_flops(args, device) -> float:
    """FLOPs of one training step (forward and backward) per image, counted by FlopCounterMode."""
    model, _ = finetune.build_model(args.model, 10, pretrained=False)
    model = model.to(device, memory_format=torch.channels_last)
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / args.batch_size


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", choices=SIZES, default="tiny")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--model", default="resnet18")
    p.add_argument(
        "--root", default=None, help="CIFAR-10 root (default: $LSUTILS_CIFAR_ROOT or the cache)"
    )
    p.add_argument("--images", type=int, help="training images (default: by --size)")
    p.add_argument("--workers", type=int, default=None, help="reference DataLoader workers")
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile our model (default: on for CUDA)",
    )
    p.add_argument(
        "--peak-tflops", type=float, default=None, help="device peak for the FLOP/s fraction"
    )
    p.add_argument("--json", default=None, help="also write the results to this file")
    args = p.parse_args()
    for k, v in SIZES[args.size].items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    device = torch.device(args.device)
    if args.compile is None:
        args.compile = device.type == "cuda"
    if args.workers is None:
        args.workers = min(8, os.cpu_count() or 1) if device.type == "cuda" else 2
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    root, source = get_data(args.images, args.root)
    x, y = cifar.load_cifar10(root, "train")
    x, y = x[: args.images], y[: args.images]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"device: {name}; data: {source} ({len(x)} images); {args.model} at {args.image_size} px, "
        f"batch {args.batch_size}; compile={args.compile}; reference workers={args.workers}"
    )
    if source == "synthetic":
        print("note: SYNTHETIC data (no CIFAR-10 here); throughput does not depend on pixel values")

    ours = bench_ours(x, y, args, device)
    ref = bench_reference(root, len(x), args, device)
    flops = train_step_flops(args, device)
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    achieved = flops * ours / 1e12
    frac = (
        f"{achieved / peak:.1%} of {peak:.0f}"
        if peak
        else "n/a (no peak known; pass --peak-tflops)"
    )
    print(f"ours:      {ours:10.1f} images/s")
    print(f"reference: {ref:10.1f} images/s")
    print(f"ratio:     {ours / ref:10.2f}x")
    print(
        f"model FLOPs per training image: {flops / 1e9:.3f} GFLOP; "
        f"achieved {achieved:.3f} TFLOP/s; fraction of bf16 peak: {frac}"
    )
    if source == "synthetic" and root.name.startswith("lsutils-bench-"):  # our temporary copy
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "device": name,
                    "data_source": source,
                    "images": len(x),
                    "size": args.size,
                    "model": args.model,
                    "image_size": args.image_size,
                    "batch_size": args.batch_size,
                    "compile": args.compile,
                    "ours_images_per_s": ours,
                    "reference_images_per_s": ref,
                    "ratio": ours / ref,
                    "train_gflop_per_image": flops / 1e9,
                    "achieved_tflops": achieved,
                    "peak_tflops": peak,
                    "torch": torch.__version__,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
