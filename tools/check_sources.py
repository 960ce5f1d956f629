"""Static checks for rendering errors in the book's sources, run before every build (`make book`)
and by the tests (tests/test_notebook_policy.py).

- Control characters (C0 codes other than tab, newline and carriage return, and DEL) anywhere in a
  notebook cell or a Markdown page: a script that wrote "\\alpha" through a Python string leaves a
  BEL character followed by "lpha" in the page, and MathJax shows "Math input error".
- String constants in code cells that hold control characters once Python has applied the
  escapes: "$\\alpha$" is a BEL, "$\\beta$" a backspace, "$\\frac$" a form feed, "$\\varepsilon$"
  a vertical tab, and in a string with math in it ("$"), a tab, a newline or a carriage return
  followed by the rest of a TeX command ("$\\theta$", "$\\nu$", "$\\rho$"). Write r"$\\alpha$" or
  "$\\\\alpha$".

Usage: `python tools/check_sources.py [PATH ...]` (default: every notebook and .md page under
book/, exercises/ and solutions/); prints one line per problem and exits with status 1 if any.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("book", "exercises", "solutions")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NAMES = {
    "\a": ("BEL", "a"),
    "\b": ("backspace", "b"),
    "\f": ("form feed", "f"),
    "\v": ("vertical tab", "v"),
    "\r": ("carriage return", "r"),
    "\t": ("tab", "t"),
    "\n": ("newline", "n"),
}
# A tab, a newline or a carriage return is fine in a string; before the rest of one of these TeX
# commands, in a string with math in it, it is a lost backslash.
TEX_COMMANDS = {
    "\t": ("tau", "theta", "times", "text", "tilde", "to", "top", "triangle", "tfrac"),
    "\n": ("nu", "nabla", "neq", "ne", "not", "ni", "neg", "nmid", "nolimits", "newline"),
    "\r": ("rho", "right", "rangle", "rm", "rceil", "rfloor", "rbrace", "rvert", "rVert"),
}


def sources(paths: list[Path] | None = None) -> list[Path]:
    """The files to check: `paths`, or every notebook and .md page under book/, exercises/ and
    solutions/."""
    if paths:
        return paths
    return [
        p
        for d in SOURCE_DIRS
        for p in sorted((ROOT / d).rglob("*"))
        if p.suffix in (".ipynb", ".md") and not {".ipynb_checkpoints", "_build"} & set(p.parts)
    ]


def python_source(cell_source: str) -> str:
    """A code cell's source with IPython magics and shell escapes commented out, so that `ast`
    accepts it."""
    return "\n".join(
        "#" + line if line.lstrip().startswith(("%", "!")) else line
        for line in cell_source.split("\n")
    )


def _meant(ch: str, after: str) -> str:
    word = re.match(r"[a-z]*", after).group()
    return f'"\\\\{NAMES[ch][1]}{word}"'


def value_problems(value: str) -> list[str]:
    """Control characters in one string value, each with the TeX command it probably was."""
    problems = []
    for m in CONTROL.finditer(value):
        ch = m.group()
        if ch in NAMES:
            problems.append(
                f"a string holds a {NAMES[ch][0]} character (meant {_meant(ch, value[m.end() :])}?)"
            )
        else:
            problems.append(f"a string holds the control character {ch!r}")
    if "$" in value:
        for ch, commands in TEX_COMMANDS.items():
            for m in re.finditer(ch, value):
                word = re.match(r"[a-zA-Z]*", value[m.end() :]).group()
                if NAMES[ch][1] + word in commands:
                    problems.append(
                        f"a math string holds a {NAMES[ch][0]} before {word!r} "
                        f"(meant {_meant(ch, word)}?)"
                    )
    return problems


def string_problems(code: str) -> list[tuple[int, str]]:
    """(line, problem) for the string constants of Python `code` that hold control characters.
    Python has applied the escapes, so this sees what the program will print or draw."""
    try:
        tree = ast.parse(python_source(code))
    except SyntaxError:
        return []
    return [
        (node.lineno, problem)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for problem in value_problems(node.value)
    ]


def check_file(path: Path) -> list[str]:
    """Problems in one notebook or Markdown page, as `path: place: problem` lines."""
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    problems = []
    if path.suffix == ".md":
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if m := CONTROL.search(line):
                problems.append(f"{rel}:{n}: control character {m.group()!r}")
        return problems
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for n, line in enumerate(cell.source.split("\n"), 1):
            if m := CONTROL.search(line):
                problems.append(f"{rel}: cell {i} line {n}: control character {m.group()!r}")
        if cell.cell_type == "code":
            for n, problem in string_problems(cell.source):
                problems.append(f"{rel}: cell {i} line {n}: {problem}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    problems = [p for path in sources([Path(a).resolve() for a in args]) for p in check_file(path)]
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} rendering problem(s) in the sources (tools/check_sources.py)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
