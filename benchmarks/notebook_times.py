"""Wall time of every notebook, each executed on its own with an empty model cache (the worst case a
reader meets), or with a shared cache (``--warm``, what ``make book`` sees after ``make test``).

    .venv/bin/python benchmarks/notebook_times.py                # book/, exercises/, solutions/
    .venv/bin/python benchmarks/notebook_times.py book/principles/05_calibration.ipynb --warm

A notebook whose cell fails is reported as FAILED (its time is not a result) and the script exits
with status 1; so does a notebook over the budget (``--budget``, default 120 s). Cells tagged
``raises-exception`` (the exercise placeholders) may raise, as under nbval. Torch uses its default
number of threads unless ``LSUTILS_THREADS`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
DIRS = ("book", "exercises", "solutions")


def notebooks(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(
        p for d in DIRS for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def run(path: Path, cache: str) -> float | None:
    """Seconds to execute ``path`` top to bottom, or None if a cell failed."""
    nb = nbformat.read(path, as_version=4)
    os.environ["LSUTILS_CACHE"] = cache
    os.environ["LSUTILS_PROGRESS"] = "0"
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )  # fmt: skip
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        print(f"FAILED {path.relative_to(ROOT)}:\n{str(err)[-2000:]}", file=sys.stderr)
        return None
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", help="notebooks (default: all)")
    parser.add_argument(
        "--warm", action="store_true", help="share one cache across notebooks (in $LSUTILS_CACHE)"
    )
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per notebook")
    args = parser.parse_args()
    shared = os.environ.get("LSUTILS_CACHE") or str(ROOT / ".cache" / "lsutils")
    rows, bad = [], 0
    for path in notebooks(args.paths):
        if args.warm:
            seconds = run(path, shared)
        else:
            with tempfile.TemporaryDirectory(prefix="lsutils-cold-") as cold:
                seconds = run(path, cold)
        name = path.relative_to(ROOT).as_posix()
        if seconds is None:
            bad += 1
            print(f"  FAILED  {name}", flush=True)
            continue
        over = seconds > args.budget
        bad += over
        rows.append(seconds)
        print(f"{seconds:8.1f} s  {name}{'  OVER BUDGET' if over else ''}", flush=True)
    threads = os.environ.get("LSUTILS_THREADS") or "torch default"
    print(
        f"{sum(rows):8.1f} s  total ({'warm' if args.warm else 'cold'} cache, "
        f"{os.cpu_count()} CPUs, threads: {threads}); {bad} failed or over budget"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
