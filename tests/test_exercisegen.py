"""The exercise notebooks and Hands-On pages are generated from solutions/ by tools/exercisegen.py
and must not drift from them."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "exercisegen.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("exercisegen", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["exercisegen"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


gen = _load_tool()


def _toy():
    return new_notebook(
        cells=[
            new_markdown_cell("# Toy\n\nIntro."),
            new_markdown_cell("## Exercise 9.1: Top level\n\nDo it."),
            new_code_cell("x = None\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION\nx"),
            new_code_cell('checks.check("9.1", x)'),
            new_markdown_cell("## Exercise 9.2: In a function\n\nWrite f."),
            new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 2\n    # END SOLUTION"),
            new_code_cell('checks.check("9.2", f)'),
        ]
    )


def test_repository_is_up_to_date():
    folders = [
        str(ROOT / "solutions"),
        str(ROOT / "exercises"),
        "--book",
        str(ROOT / "book" / "hands_on"),
    ]
    assert gen.main([*folders, "--check"]) == 0


def test_the_tool_runs_as_documented_and_is_not_in_the_package():
    result = subprocess.run(
        [sys.executable, str(TOOL), "solutions", "exercises", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert not (ROOT / "lsutils" / "exercisegen.py").exists()
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) tools/exercisegen.py solutions exercises --check" in makefile


def test_strip_solutions_keeps_indentation():
    src, top = gen.strip_solutions(
        "def f():\n    # BEGIN SOLUTION\n    return 2\n    # END SOLUTION", "9.2"
    )
    assert src == 'def f():\n    raise NotImplementedError("Exercise 9.2")'
    assert not top
    src, top = gen.strip_solutions("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\nprint(x)", "9.1")
    assert src == 'raise NotImplementedError("Exercise 9.1")\nprint(x)' and top


@pytest.mark.parametrize(
    "bad",
    [
        "# BEGIN SOLUTION\nx = 1",
        "x = 1\n# END SOLUTION",
        "x = 1",
        "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION",
    ],
)
def test_strip_solutions_rejects_bad_markers(bad):
    with pytest.raises(ValueError):
        gen.strip_solutions(bad, "9.1")


def test_exercise_notebook_strips_and_tags():
    ex = gen.exercise_notebook(_toy())
    sources = [c.source for c in ex.cells]
    assert all(
        "x = 1" not in s and "return 2" not in s and "BEGIN SOLUTION" not in s for s in sources
    )
    tags = [c.metadata.get("tags", []) for c in ex.cells]
    assert (
        "raises-exception" in tags[2]
        and "raises-exception" in tags[3]
        and "raises-exception" in tags[6]
    )
    assert "raises-exception" not in tags[5]  # defining a function that raises does not raise


def test_parse_rejects_missing_or_mismatched_check():
    nb = _toy()
    nb.cells[3].source = 'checks.check("9.2", x)'
    with pytest.raises(ValueError, match="exactly one"):
        gen.parse_notebook(nb)


def test_book_page_has_exercise_and_dropdown_solution():
    page = gen.book_page(_toy(), "09_toy")
    assert "(hands-on-toy)=" in page and "# Toy" in page
    assert page.count("::::{exercise}") == 2 and page.count(":class: dropdown") == 2
    assert ":label: ex-9-1" in page and "{solution} ex-9-2" in page
    assert "exercises/09_toy.ipynb" in page and "colab.research.google.com" in page
    exercise_part, solution_part = page.split("::::{solution} ex-9-1")
    assert "x = 1" not in exercise_part.split("::::{exercise} 9.1")[1] and "x = 1" in solution_part


def test_check_detects_drift(tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    out, book = tmp_path / "exercises", tmp_path / "book"
    args = [str(tmp_path / "solutions"), str(out), "--book", str(book)]
    assert gen.main(args + ["--check"]) == 1  # nothing generated yet
    assert gen.main(args) == 0
    assert gen.main(args + ["--check"]) == 0
    first = sorted(out.glob("*.ipynb"))[0]
    nb = nbformat.read(first, as_version=4)
    nb.cells[0].source += "\nedited by hand"
    nbformat.write(nb, first)
    assert gen.main(args + ["--check"]) == 1
    assert gen.main(args) == 0
    (book / "stale.md").write_text("old page\n")
    assert gen.main(args + ["--check"]) == 1


def test_solutions_must_be_clear_of_outputs(tmp_path):
    nb = _toy()
    nb.cells[2].execution_count = 1
    (tmp_path / "s").mkdir()
    nbformat.write(nb, tmp_path / "s" / "01_toy.ipynb")
    with pytest.raises(ValueError, match="without outputs"):
        gen.generate(tmp_path / "s", tmp_path / "e", None)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb")))
def test_exercise_notebooks_hide_every_solution_line(name):
    solution = nbformat.read(ROOT / "solutions" / name, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / name, as_version=4)
    hidden = set()
    for cell in solution.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in (gen.BEGIN, gen.END):
                inside = line.strip() == gen.BEGIN
            elif inside and len(line.strip()) > 20:
                hidden.add(line.strip())
    assert hidden
    shown = {line.strip() for cell in exercise.cells for line in cell.source.splitlines()}
    assert not hidden & shown
