"""Execute the book's notebooks in parallel into the jupyter-cache that the book build reads.

Jupyter Book 1 executes notebooks one after another. `make book` first runs this script, which
empties the cache, executes every notebook listed in `_toc.yml` with a pool of worker processes (one
kernel each, longest-running first), and stores the executed notebooks in `_build/.jupyter_cache`;
the build (`execute_notebooks: cache` in `_config.yml`) then finds them all there. Every build
therefore still executes every notebook afresh. Models the notebooks train are shared through the
lsutils cache, whose locks make two notebooks that need the same model train it once.

    python tools/execute_notebooks.py [--jobs N] [--timeout S] [notebook ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData
from toc import toc_notebooks

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
#: Notebooks known to run longest go first, so that the pool is not left waiting on one at the end.
FIRST = ("applications", "principles/05", "principles/06", "principles/07")


def _priority(path: Path) -> int:
    rel = path.relative_to(ROOT).as_posix()
    return 0 if any(key in rel for key in FIRST) else 1


def _worker(data: ProcessData) -> tuple[int, str, float]:
    start = time.perf_counter()
    code, uri = ExecutionWorkerLocalMProc()(data)
    return code, uri, time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in _toc.yml")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = p.parse_args()
    notebooks = [n.resolve() for n in args.notebooks] or toc_notebooks()
    notebooks.sort(key=_priority)
    shutil.rmtree(CACHE, ignore_errors=True)
    cache = get_cache(CACHE)
    records = [cache.add_nb_to_project(str(nb)) for nb in notebooks]
    work = [ProcessData(r.pk, r.uri, cache, args.timeout, False) for r in records]
    print(f"executing {len(work)} notebooks with {args.jobs} workers", flush=True)
    start, failed = time.perf_counter(), []
    with Pool(args.jobs) as pool:
        for code, uri, seconds in pool.imap_unordered(_worker, work, chunksize=1):
            name = Path(uri).relative_to(ROOT)
            print(f"{'ok' if code == 0 else 'FAILED':>6}  {seconds:6.1f} s  {name}", flush=True)
            if code != 0:
                failed.append(uri)
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"\n--- {Path(uri).relative_to(ROOT)}\n{record.traceback}", file=sys.stderr)
    print(f"executed in {time.perf_counter() - start:.1f} s; {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
