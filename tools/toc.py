"""The book's pages in reading order, from `_toc.yml`: one reader for the tools and the tests."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_pages(root: Path = ROOT) -> list[tuple[str | None, str]]:
    """(part caption or None, page path without suffix) in reading order, from _toc.yml."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [(None, toc["root"])]

    def walk(entries, part):
        for entry in entries or []:
            pages.append((part, entry["file"]))
            walk(entry.get("sections"), part)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), part.get("caption"))
    walk(toc.get("chapters"), None)
    return [(part, str(Path(f).with_suffix(""))) for part, f in pages]


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The `.ipynb` files the table of contents lists, in reading order."""
    paths = [root / f"{page}.ipynb" for _, page in toc_pages(root)]
    return [p for p in paths if p.is_file()]
