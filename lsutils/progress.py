"""Progress bars for long work: tqdm, switched off for the built book with
``LSUTILS_PROGRESS=0``."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm import tqdm

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable, *, desc: str, enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar over ``iterable``; disabled when ``enabled`` is false or ``$LSUTILS_PROGRESS`` is
    ``0``."""
    disabled = not enabled or os.environ.get("LSUTILS_PROGRESS", "1") == "0"
    return tqdm(iterable, desc=desc, disable=disabled, **kwargs)
