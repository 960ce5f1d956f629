"""Write the repository URL from `_config.yml` (`repository.url`, the one place it lives) into
everything that links to it.

- The install cell, the first code cell of every notebook under book/, exercises/ and solutions/:
  it installs `lsutils` from the repository where it is missing (Colab, Binder, a laptop).
- The blocks of README.md and book/intro.md between `<!-- repository: begin -->` and
  `<!-- repository: end -->`, and the `repository-code` and `url` fields of CITATION.cff.

Usage: `python tools/sync_repository.py` rewrites what differs; `--check` only reports it and exits
with status 1 (tests/test_notebook_policy.py runs the check). Needs only PyYAML and nbformat.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "exercises", "solutions")
BLOCK = re.compile(
    r"(<!-- repository: begin[^>]*-->\n)(.*?)(<!-- repository: end -->)", flags=re.DOTALL
)
INSTALL_MARKER = "ImportError"  # an install cell imports lsutils and catches ImportError

INSTALL_CELL = """\
try:
    import lsutils  # noqa: F401
except ImportError:  # on Colab or Binder: install the companion package
    %pip install -q "lsutils @ git+{url}"
    import lsutils  # noqa: F401"""

README_BLOCK = """\
- Read the book online: <{pages}>
- Source, issues and this README: <{url}>
- Get a copy to build and test: `git clone {url}.git`
"""

INTRO_BLOCK = """\
The source of the book, of `lsutils` and of the exercises is at <{url}>; the published book is at
<{pages}>.
"""


def repository_url(root: Path = ROOT) -> str:
    """`repository.url` from the book's `_config.yml`, without a trailing slash."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    url = str(config["repository"]["url"]).rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"repository.url must be https://github.com/OWNER/NAME, got {url!r}")
    return url


def pages_url(url: str) -> str:
    """Where GitHub Pages publishes the book for the repository at `url`."""
    owner, name = url.removeprefix("https://github.com/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def install_cell(url: str) -> str:
    return INSTALL_CELL.format(url=url)


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(
        p
        for d in NOTEBOOK_DIRS
        for p in (root / d).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def _sync_notebook(path: Path, url: str, write: bool) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or INSTALL_MARKER not in code[0].source or "import lsutils" not in code[0].source:
        return [f"{path.relative_to(ROOT)}: the first code cell is not the lsutils install cell"]
    cell = code[0]
    want = install_cell(url)
    problems = []
    if cell.source != want:
        problems.append(f"{path.relative_to(ROOT)}: install cell differs from _config.yml's")
        cell.source = want
    tags = cell.metadata.setdefault("tags", [])
    if "hide-input" not in tags:
        problems.append(f"{path.relative_to(ROOT)}: install cell lacks the hide-input tag")
        tags.append("hide-input")
    if problems and write:
        nbformat.write(nb, path)
    return problems


def _sync_blocks(path: Path, body: str, write: bool) -> list[str]:
    if not path.exists():
        return [f"{path.relative_to(ROOT)}: missing"]
    text = path.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        return [f"{path.relative_to(ROOT)}: no <!-- repository: begin --> block"]
    new = BLOCK.sub(lambda m: m.group(1) + body + m.group(3), text)
    if new == text:
        return []
    if write:
        path.write_text(new, encoding="utf-8")
    return [f"{path.relative_to(ROOT)}: repository block differs from _config.yml's URL"]


def _sync_citation(path: Path, url: str, write: bool) -> list[str]:
    if not path.exists():
        return [f"{path.relative_to(ROOT)}: missing"]
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"(?m)^repository-code: .*$", f'repository-code: "{url}"', text)
    new = re.sub(r"(?m)^url: .*$", f'url: "{pages_url(url)}"', new)
    if new == text:
        return []
    if write:
        path.write_text(new, encoding="utf-8")
    return [f"{path.relative_to(ROOT)}: repository-code or url differs from _config.yml's"]


def sync(root: Path = ROOT, write: bool = True) -> list[str]:
    """Bring every generated place in line with `_config.yml`; returns what differed."""
    url = repository_url(root)
    problems = []
    for path in notebooks(root):
        problems += _sync_notebook(path, url, write)
    fill = {"url": url, "pages": pages_url(url)}
    problems += _sync_blocks(root / "README.md", README_BLOCK.format(**fill), write)
    problems += _sync_blocks(root / "book" / "intro.md", INTRO_BLOCK.format(**fill), write)
    problems += _sync_citation(root / "CITATION.cff", url, write)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    problems = sync(write=not args.check)
    for p in problems:
        print(p)
    if args.check and problems:
        print("run `python tools/sync_repository.py` to regenerate them from _config.yml")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
