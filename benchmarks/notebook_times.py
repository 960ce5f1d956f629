"""Wall time of every notebook, each executed on its own with an empty model cache (the worst case a
reader meets), or with a shared cache (``--warm``, what ``make book`` sees after ``make test``).

    .venv/bin/python benchmarks/notebook_times.py            # every notebook in book/, exercises/,
    solutions/ .venv/bin/python benchmarks/notebook_times.py book/principles/05_calibration.ipynb
    --warm
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

ROOT = Path(__file__).resolve().parents[1]
DIRS = ("book", "exercises", "solutions")


def notebooks(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(
        p for d in DIRS for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def run(path: Path, cache: str) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["LSUTILS_CACHE"] = cache
    os.environ["LSUTILS_PROGRESS"] = "0"
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", help="notebooks (default: all)")
    parser.add_argument(
        "--warm", action="store_true", help="share one cache across notebooks (in $LSUTILS_CACHE)"
    )
    args = parser.parse_args()
    shared = os.environ.get("LSUTILS_CACHE", str(ROOT / ".cache" / "lsutils"))
    rows = []
    for path in notebooks(args.paths):
        if args.warm:
            seconds = run(path, shared)
        else:
            with tempfile.TemporaryDirectory(prefix="lsutils-cold-") as cold:
                seconds = run(path, cold)
        rows.append((path.relative_to(ROOT).as_posix(), seconds))
        print(f"{seconds:8.1f} s  {rows[-1][0]}", flush=True)
    print(
        f"{sum(s for _, s in rows):8.1f} s  total ({'warm' if args.warm else 'cold'} cache, "
        f"{os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
