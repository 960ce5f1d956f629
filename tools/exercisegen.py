"""Generate the exercise notebooks and the Hands-On book pages from the solution notebooks (single
source).

Usage: ``python tools/exercisegen.py SOLUTIONS_DIR EXERCISES_DIR [--book BOOK_DIR] [--check]``
(``make exercises``, ``make check-exercises``): a build tool, not part of the ``lsutils`` package.

A solutions notebook is a sequence of exercises. Each starts with a markdown cell headed ``##
Exercise 1.2: Title``; the code cells after it (up to the next markdown cell) belong to it. Solution
code sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines; in the exercise notebook the
region becomes ``raise NotImplementedError("Exercise 1.2")`` at the marker's indentation. The cell
calling ``checks.check("1.2", ...)`` and every cell whose region is at top level are tagged
``raises-exception``, so the unsolved notebook runs under nbval. The book pages (one per notebook
plus an index) show every exercise with its solution in a dropdown. ``--check`` writes nothing and
exits 1 when any generated file has drifted.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_repository import repository_url  # noqa: E402  (a sibling script in tools/)

__all__ = [
    "ExerciseBlock",
    "parse_notebook",
    "strip_solutions",
    "exercise_notebook",
    "book_page",
    "index_page",
    "generate",
    "main",
]

REPO_URL = repository_url()  # from _config.yml, the one place it lives
SLUG = REPO_URL.removeprefix("https://github.com/")
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
HEADING = re.compile(r"^## Exercise (\d+\.\d+): (.+)$")
CHECK_CALL = re.compile(r"""checks\.check\(\s*["'](\d+\.\d+)["']""")
RAISES = "raises-exception"
HOW_TO = (
    "**How to work through this notebook.** Run the cells in order. In each exercise replace the "
    "`raise NotImplementedError(...)` line with your code (keep the function or variable name) and "
    "run the checker cell below it: it tries your answer on several inputs, drawn afresh at every "
    "run, and says whether it is right or what kind of mistake it looks like. The complete "
    "solutions are in the repository's `solutions/` folder, and in the dropdowns of the book's "
    "Hands-On pages."
)


@dataclass
class ExerciseBlock:
    """One exercise of a notebook: id, title, statement (markdown) and its code cells' sources."""

    id: str
    title: str
    statement: str
    code: list[str]


def strip_solutions(source: str, exercise_id: str) -> tuple[str, bool]:
    """Replace every solution region by a ``raise NotImplementedError``; return (new source,
    top-level?)."""
    out, inside, top_level, found = [], False, False, False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"Exercise {exercise_id}: nested {BEGIN}")
            inside, found = True, True
            indent = line[: len(line) - len(line.lstrip())]
            top_level = top_level or indent == ""
            out.append(f'{indent}raise NotImplementedError("Exercise {exercise_id}")')
        elif marker == END:
            if not inside:
                raise ValueError(f"Exercise {exercise_id}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"Exercise {exercise_id}: {BEGIN} without {END}")
    if not found:
        raise ValueError("no solution region")
    return "\n".join(out), top_level


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def _title_and_intro(nb) -> tuple[str, str]:
    first = nb.cells[0]
    lines = first.source.splitlines()
    if first.cell_type != "markdown" or not lines or not lines[0].startswith("# "):
        raise ValueError("the first cell must be markdown starting with an H1 title")
    return lines[0][2:].strip(), "\n".join(lines[1:]).strip()


def parse_notebook(nb) -> list[ExerciseBlock]:
    """The exercises of a solutions notebook, validated (one check cell per exercise, matching
    ids)."""
    blocks: list[ExerciseBlock] = []
    current: ExerciseBlock | None = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            m = HEADING.match(lines[0]) if lines else None
            current = (
                ExerciseBlock(m[1], m[2].strip(), "\n".join(lines[1:]).strip(), []) if m else None
            )
            if m:
                blocks.append(current)
        elif cell.cell_type == "code":
            if BEGIN in cell.source and current is None:
                raise ValueError(f"solution region outside an exercise: {cell.source[:60]!r}")
            if current is not None:
                current.code.append(cell.source)
    seen = set()
    for b in blocks:
        if b.id in seen:
            raise ValueError(f"exercise {b.id} appears twice")
        seen.add(b.id)
        checks = [m for src in b.code for m in CHECK_CALL.findall(src)]
        if checks != [b.id]:
            raise ValueError(
                f"exercise {b.id} must have exactly one checks.check({b.id!r}, ...) call, "
                f"found {checks}"
            )
        if not any(BEGIN in src for src in b.code):
            raise ValueError(f"exercise {b.id} has no {BEGIN} region")
    return blocks


def _exercise_of_cells(nb) -> list[str | None]:
    ids, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = HEADING.match(cell.source.splitlines()[0]) if cell.source.strip() else None
            current = m[1] if m else None
        ids.append(current)
    return ids


def exercise_notebook(nb):
    """The exercise version of a solutions notebook: regions stripped, cells tagged, outputs
    cleared."""
    parse_notebook(nb)  # validates
    out = copy.deepcopy(nb)
    out.cells[0].source = out.cells[0].source.rstrip() + "\n\n" + HOW_TO
    for cell, ex_id in zip(out.cells, _exercise_of_cells(out), strict=True):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        raises = False
        if BEGIN in cell.source:
            cell.source, raises = strip_solutions(cell.source, ex_id)
        if CHECK_CALL.search(cell.source):
            raises = True
        tags = [t for t in cell.metadata.get("tags", []) if t != RAISES]
        if raises:
            tags.append(RAISES)
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return out


def _slug(stem: str) -> str:
    return re.sub(r"^\d+_", "", stem).replace("_", "-")


def _label(exercise_id: str) -> str:
    return "ex-" + exercise_id.replace(".", "-")


def _fence(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def book_page(nb, stem: str) -> str:
    """MyST page for one notebook: every exercise with its solution in a dropdown, and download
    links."""
    title, intro = _title_and_intro(nb)
    blocks = parse_notebook(nb)
    gh = f"{REPO_URL}/blob/main/exercises/{stem}.ipynb"
    colab = f"https://colab.research.google.com/github/{SLUG}/blob/main/exercises/{stem}.ipynb"
    parts = [
        f"<!-- Generated by `python tools/exercisegen.py` from solutions/{stem}.ipynb: "
        "edit that, not this. -->",
        "",
        f"(hands-on-{_slug(stem)})=",
        f"# {title}",
        "",
        intro,
        "",
        f"Run the exercises yourself: [the notebook on GitHub]({gh}) (download it and run it next "
        f"to an installed `lsutils`) or [open it in Colab]({colab}). Each exercise ends with a "
        "checker cell that says whether your answer is right and, if not, what kind of mistake it "
        "looks like. Solutions are folded below each exercise.",
        "",
    ]
    for b in blocks:
        scaffold = "\n\n".join(
            strip_solutions(src, b.id)[0] if BEGIN in src else src for src in b.code
        )
        solution = "\n\n".join(_without_markers(src) for src in b.code if BEGIN in src)
        parts += [
            f"::::{{exercise}} {b.id} {b.title}",
            f":label: {_label(b.id)}",
            ":nonumber:",
            "",
            b.statement,
            "",
            _fence(scaffold),
            "::::",
            "",
            f"::::{{solution}} {_label(b.id)}",
            ":class: dropdown",
            "",
            _fence(solution),
            "::::",
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"


def index_page(chapters: list[tuple[str, str, int]]) -> str:
    """The Hands-On index: one line per notebook (stem, title, number of exercises)."""
    total = sum(n for _, _, n in chapters)
    lines = [
        "<!-- Generated by `python tools/exercisegen.py`: edit the generator or solutions/, "
        "not this. -->",
        "",
        "(hands-on)=",
        "# Hands-on exercises",
        "",
        f"{total} exercises, each checked automatically: symbolic derivations with sympy, "
        "functions written from scratch and checked against PyTorch and `lsutils`, and short "
        "experiments on small models. Each exercise ends with a checker cell, `checks.check(...)`, "
        "which calls your answer on several inputs drawn afresh at every run (edge cases "
        "included), accepts a right answer, and otherwise names the kind of mistake (the "
        "convention, the log base, a sign, a missing factor, a shape, a shortcut the exercise "
        "rules out) without giving the answer away. Until you fill in an exercise its cells raise "
        "`NotImplementedError`.",
        "",
        f'To work locally: `pip install "lsutils @ git+{REPO_URL}"`, download '
        "a notebook and run it in Jupyter; or open it in Colab, where its first cell installs "
        "`lsutils`. The complete solution notebooks are in the repository's "
        f"[solutions folder]({REPO_URL}/tree/main/solutions).",
        "",
        "| Notebook | Exercises | Download | Colab |",
        "| --- | --- | --- | --- |",
    ]
    for stem, title, n in chapters:
        gh = f"{REPO_URL}/blob/main/exercises/{stem}.ipynb"
        colab = f"https://colab.research.google.com/github/{SLUG}/blob/main/exercises/{stem}.ipynb"
        lines.append(
            f"| {{ref}}`{title} <hands-on-{_slug(stem)}>` | {n} | [{stem}.ipynb]({gh}) | "
            f"[open]({colab}) |"
        )
    return "\n".join(lines) + "\n"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _dump(nb) -> str:
    return nbformat.writes(nb) + "\n"


def generate(solutions: Path, exercises: Path, book: Path | None) -> dict[Path, str]:
    """Every generated file's path and text, from the solutions notebooks (nothing is written)."""
    files: dict[Path, str] = {}
    chapters = []
    paths = sorted(solutions.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks in {solutions}")
    for path in paths:
        nb = _read(path)
        for cell in nb.cells:
            if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
                raise ValueError(f"{path}: commit solutions without outputs (clear them first)")
        files[exercises / path.name] = _dump(exercise_notebook(nb))
        if book is not None:
            files[book / f"{path.stem}.md"] = book_page(nb, path.stem)
            chapters.append((path.stem, _title_and_intro(nb)[0], len(parse_notebook(nb))))
    if book is not None:
        files[book / "index.md"] = index_page(chapters)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", type=Path)
    parser.add_argument("exercises", type=Path)
    parser.add_argument(
        "--book",
        type=Path,
        default=Path("book/hands_on"),
        help="folder for the Hands-On pages (default book/hands_on); 'none' to skip",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any output has drifted"
    )
    args = parser.parse_args(argv)
    book = None if str(args.book) == "none" else args.book
    files = generate(args.solutions, args.exercises, book)
    stale = [p for p in sorted(args.exercises.glob("*.ipynb")) if p not in files]
    if book is not None:
        stale += [p for p in sorted(book.glob("*.md")) if p not in files]
    drifted = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in drifted:
            print(f"drifted: {p} (run `make exercises`)", file=sys.stderr)
        for p in stale:
            print(f"stale: {p} has no solutions notebook", file=sys.stderr)
        if drifted or stale:
            return 1
        print(f"exercises up to date: {len(files)} files")
        return 0
    for p in stale:
        p.unlink()
    for p, text in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
    print(f"wrote {len(files)} files ({len(drifted)} changed, {len(stale)} stale removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
