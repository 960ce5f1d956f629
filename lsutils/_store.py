"""Where lsutils keeps files, how it writes and reads them safely, and which device it uses.

- :func:`cache_dir`: ``$LSUTILS_CACHE``, or ``~/.cache/lsutils`` when that is unset or empty.
- :func:`write_verified` / :func:`read_verified`: every cached file starts with a magic line and the
  SHA-256 of its payload, and is written atomically (temporary file, then ``os.replace``). A file
  whose bytes changed after it was written (a flipped bit inside a tensor, a truncated copy) fails
  the check on load with :class:`CorruptFileError`, so callers retrain instead of silently using it.
- :func:`save_torch` / :func:`load_torch`, :func:`save_json` / :func:`load_json`: the same for torch
  objects (loaded with ``weights_only=True``) and JSON.
- :func:`exclusive`: an inter-process lock beside a file, so that two processes that need the same
  result compute it once.
- :func:`default_device`: CUDA when available, else the CPU; :func:`num_threads`: how many CPU
  threads torch uses for a block (``$LSUTILS_THREADS``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ._validate import check_int

__all__ = [
    "CorruptFileError",
    "cache_dir",
    "default_device",
    "write_verified",
    "read_verified",
    "save_torch",
    "load_torch",
    "save_json",
    "load_json",
    "exclusive",
    "num_threads",
]

MAGIC = b"lsutils-verified-v1\n"
_DIGEST_BYTES = 32


class CorruptFileError(ValueError):
    """A cached file failed its integrity check (changed, truncated or not written by lsutils)."""


def cache_dir() -> Path:
    """The cache root: ``$LSUTILS_CACHE``, or ``~/.cache/lsutils`` when it is unset or empty."""
    return Path(os.environ.get("LSUTILS_CACHE") or Path.home() / ".cache" / "lsutils")


def default_device() -> torch.device:
    """``cuda`` when a CUDA GPU is available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_verified(path: str | os.PathLike, payload: bytes) -> None:
    """Atomically write ``payload`` behind a header holding its SHA-256."""
    atomic_write_bytes(path, MAGIC + hashlib.sha256(payload).digest() + payload)


def read_verified(path: str | os.PathLike) -> bytes:
    """The payload of a file written by :func:`write_verified`; :class:`CorruptFileError` if it
    changed."""
    data = Path(path).read_bytes()
    head = len(MAGIC) + _DIGEST_BYTES
    if not data.startswith(MAGIC) or len(data) < head:
        raise CorruptFileError(f"{path} is not an lsutils verified file (no integrity header)")
    digest, payload = data[len(MAGIC) : head], data[head:]
    if hashlib.sha256(payload).digest() != digest:
        raise CorruptFileError(
            f"{path} failed its SHA-256 check: the file changed after it was written"
        )
    return payload


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` ``obj`` into a verified file (tensors, dicts, lists, numbers, strings)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_verified(path, buf.getvalue())


def load_torch(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`save_torch`, onto the CPU, with ``weights_only=True``."""
    payload = read_verified(path)
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as JSON into a verified file."""
    write_verified(path, json.dumps(obj, indent=1, sort_keys=True).encode())


def load_json(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`save_json`."""
    return json.loads(read_verified(path).decode())


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive inter-process lock on ``<path>.lock`` for the ``with`` block.

    Yields True when the lock is held. With ``blocking=False`` it yields False at once if another
    process holds it. Where ``fcntl`` is missing (Windows) no lock is taken and it yields True.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the project's platforms
        yield True
        return
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def num_threads(n: int | None = None) -> Iterator[int]:
    """Run the block with ``n`` torch threads (default ``$LSUTILS_THREADS``, else torch's own
    default)."""
    env = os.environ.get("LSUTILS_THREADS") or None
    if n is None and env is None:
        yield torch.get_num_threads()
        return
    n = check_int(n if n is not None else int(env), "num_threads", 1)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(old)
