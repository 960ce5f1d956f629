"""Repository hygiene: notebooks committed clean, table of contents complete, exact pins, README
accurate."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from toc import toc_pages  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "exercises", "solutions")
INSTALL_CELL = "import lsutils  # noqa: F401\nexcept ImportError:"


def notebooks(*dirs):
    return sorted(
        p for d in dirs for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def toc_files():
    """Every page of _toc.yml (root included), as paths without suffix relative to the repo root."""
    return [page for _, page in toc_pages()]


def resolve(entry):
    hits = [ROOT / (entry + s) for s in (".ipynb", ".md") if (ROOT / (entry + s)).exists()]
    return hits


@pytest.mark.parametrize("path", notebooks(*NOTEBOOK_DIRS), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: kernel spec must be python3"
    )


@pytest.mark.parametrize("path", notebooks("book"), ids=lambda p: str(p.relative_to(ROOT)))
def test_chapter_starts_with_label_title_and_install_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"\(([\w-]+)\)=\n# \S", first.source), (
        f"{path.name}: the first cell must be a label line `(label)=` followed by the H1 title"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and INSTALL_CELL in code[0].source, (
        f"{path.name}: the first code cell must be the lsutils install cell"
    )


def test_every_toc_entry_exists():
    missing = [entry for entry in toc_files() if len(resolve(entry)) != 1]
    assert not missing, (
        f"_toc.yml lists pages that do not exist (or exist as both .md and .ipynb): {missing}"
    )


def test_every_book_page_is_in_the_toc():
    listed = set(toc_files())
    pages = sorted((ROOT / "book").rglob("*.md")) + notebooks("book")
    orphans = [
        str(p.relative_to(ROOT))
        for p in pages
        if str(p.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not orphans, f"pages under book/ missing from _toc.yml (the build skips them): {orphans}"


def test_requirements_are_exact_pins():
    loose = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line == "-e .":
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?==[0-9][\w.+-]*", line):
            loose.append(line)
    assert not loose, f"requirements.txt lines that are not exact `name==version` pins: {loose}"


def test_readme_documents_the_two_commands_and_only_real_targets():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    mentioned = set(re.findall(r"`make ([a-z][\w-]*)", readme))
    assert mentioned <= targets, (
        f"README mentions make targets the Makefile lacks: {sorted(mentioned - targets)}"
    )
