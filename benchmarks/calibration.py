"""Speed of the calibration metrics and of the loss against their references, in one run.

    .venv/bin/python benchmarks/calibration.py                 # N = 10^6, K = 10, float32, 1 thread
    .venv/bin/python benchmarks/calibration.py --threads 2 --rounds 31 --dtype float64

Prints three ratios of median wall times (lower is faster; targets in brackets):

- ``expected_calibration_error(probs, labels)`` / torchmetrics'
  ``multiclass_calibration_error(probs, labels, norm="l1")``, default argument checks [<= 1.0];
- ``calibration_summary(logits, labels)`` / one ``expected_calibration_error`` call [<= 1.5];
- ``smoothed_cross_entropy(logits, labels, 0.1)`` / ``F.cross_entropy(..., label_smoothing=0.1)``,
  forward and backward [<= 1.05].

Each round times every function once, in a rotating order, so that a change in the machine's load
hits all of them alike; each time is the median over the rounds. With one thread (the default) the
time is the process's CPU time, which other jobs on a shared machine inflate far less than wall
time; with more threads it is wall time. The results are checked against their references first,
so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import multiclass_calibration_error

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lsutils import smoothed_cross_entropy  # noqa: E402
from lsutils.calibration import calibration_summary, expected_calibration_error  # noqa: E402

TARGETS = {"ece / torchmetrics": 1.0, "summary / ece": 1.5, "loss / F.cross_entropy": 1.05}


def data(n: int, k: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits of a plausible classifier (about 80% accurate), their softmax, and the labels."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, k, (n,), generator=gen)
    logits = 2.0 * torch.randn(n, k, generator=gen, dtype=torch.float64)
    logits[torch.arange(n), labels] += 3.0
    logits = logits.to(dtype)
    return logits, logits.softmax(1), labels


def time_rounds(
    funcs: dict[str, Callable[[], object]], rounds: int, clock: Callable[[], float]
) -> dict[str, list[float]]:
    """Time of each function in every round, the order rotated from round to round."""
    names = list(funcs)
    for f in funcs.values():  # warm-up: allocator, lazy imports
        f()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = clock()
            funcs[name]()
            times[name].append(clock() - start)
    return times


def check_results(logits, probs, labels, k: int) -> None:
    ece = expected_calibration_error(probs, labels, 15)
    ref = float(multiclass_calibration_error(probs, labels, num_classes=k, n_bins=15, norm="l1"))
    assert abs(ece - ref) < 1e-5, (ece, ref)
    summary = calibration_summary(logits, labels, 15)
    assert abs(summary["ece"] - ece) < 1e-5, (summary["ece"], ece)
    nll = float(F.cross_entropy(logits.double(), labels))
    assert abs(summary["nll"] - nll) <= 1e-5 * nll, (summary["nll"], nll)
    ours = smoothed_cross_entropy(logits, labels, 0.1)
    torch_ref = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert torch.equal(ours, torch_ref), (ours, torch_ref)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10**6, help="examples (default 10^6)")
    parser.add_argument("--k", type=int, default=10, help="classes (default 10)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--rounds", type=int, default=31, help="timed rounds (default 31)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logits, probs, labels = data(args.n, args.k, getattr(torch, args.dtype))
    check_results(logits, probs, labels, args.k)
    leaf = logits.clone().requires_grad_()

    def loss_ours() -> None:
        smoothed_cross_entropy(leaf, labels, 0.1).backward()

    def loss_torch() -> None:
        F.cross_entropy(leaf, labels, label_smoothing=0.1).backward()

    funcs = {
        "torchmetrics": lambda: multiclass_calibration_error(
            probs, labels, num_classes=args.k, n_bins=15, norm="l1"
        ),
        "ece": lambda: expected_calibration_error(probs, labels, 15),
        "summary": lambda: calibration_summary(logits, labels, 15),
        "F.cross_entropy": loss_torch,
        "loss": loss_ours,
    }
    clock = time.process_time if args.threads == 1 else time.perf_counter
    times = time_rounds(funcs, args.rounds, clock)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"N={args.n:,} K={args.k} {args.dtype}, {args.threads} thread(s), median "
        f"{'CPU' if args.threads == 1 else 'wall'} time of {args.rounds} rounds"
    )
    for name, t in median.items():
        print(f"  {name:16s} {t * 1e3:8.1f} ms")
    ratios = {
        "ece / torchmetrics": median["ece"] / median["torchmetrics"],
        "summary / ece": median["summary"] / median["ece"],
        "loss / F.cross_entropy": median["loss"] / median["F.cross_entropy"],
    }
    met = True
    for name, ratio in ratios.items():
        ok = ratio <= TARGETS[name]
        met &= ok
        print(
            f"  {name:24s} {ratio:5.2f}x  (target <= {TARGETS[name]}x: {'met' if ok else 'MISSED'})"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
