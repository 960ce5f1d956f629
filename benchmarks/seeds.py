"""How much do seeds cost? Five seeds as one vectorised ensemble against one seed, in one run.

Trains the chapters' MLP (784-256-10, Adam, batch 256, cosine schedule) on Fashion-MNIST with
``lsutils.train.train_many`` without the cache: once for seed 0 alone, once for seeds 0-4 together
(one :class:`lsutils.ensemble.StackedMLP`), each with the same number of torch threads, alternating
the two ``--repeats`` times and keeping the fastest of each. Prints the wall times and their ratio;
the target is at most 3.5x for five seeds (five separate runs cost 5x).

    .venv/bin/python benchmarks/seeds.py                  # 2 epochs on all 55,000 training images
    .venv/bin/python benchmarks/seeds.py --threads 1 --train-size 5000 --epochs 10
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import torch

from lsutils.seeds import seed_configs
from lsutils.train import TrainConfig, config_data, train_many


def wall_time(configs: list[TrainConfig]) -> float:
    start = time.perf_counter()
    train_many(configs, cache=False, progress=False)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--train-size", type=int, default=None, help="default: all 55,000")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    os.environ["LSUTILS_THREADS"] = str(args.threads)
    base = TrainConfig(epochs=args.epochs, train_size=args.train_size)
    config_data(base)  # load the data before timing
    many = seed_configs(base, range(args.seeds))
    one = [dataclasses.replace(base, seed=0)]
    wall_time(one)  # warm-up: allocator, kernels
    t1 = min(wall_time(one) for _ in range(args.repeats))
    tn = min(wall_time(many) for _ in range(args.repeats))
    n = len(config_data(base)[1])
    print(
        f"MLP 784-256-10, {n} images, {args.epochs} epochs, batch {base.batch_size}, "
        f"{args.threads} thread(s), best of {args.repeats}"
    )
    print(f"1 seed:             {t1:8.2f} s")
    print(f"{args.seeds} seeds (ensemble): {tn:8.2f} s")
    print(f"ratio:              {tn / t1:8.2f}x   (target <= 3.5x for 5 seeds)")


if __name__ == "__main__":
    main()
