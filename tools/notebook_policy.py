"""The reader-facing rules for the book's notebooks, as static checks on their sources.

tests/test_notebook_policy.py applies each rule to every notebook and reports the offending
notebook and cell. The rules:

imports
    Every module a notebook imports is from the standard library, `lsutils`, IPython (every
    Jupyter kernel has it), or a declared dependency of `lsutils` (pyproject.toml). So a notebook
    runs top to bottom where only `lsutils` is installed (Colab, Binder): no `myst_nb`.
bookkeeping
    A code cell is bookkeeping when it has at least one `assert` (or `glue(...)` call) and every
    top-level statement is an `assert`, a `glue(...)` call, an assignment, or a `for`/`if`/`with`
    block made only of these. Such a cell shows nothing (no final expression, print or plot) and
    must carry the tag `hide-input`, so it is folded in the book, one click away.
figures
    `subplots(nrows, ncols, figsize=(w, h))` and `figure(figsize=...)`: at most two panels per row
    (`ncols` a literal <= 2) and `w` a literal <= 7.5 inches, so the text stays readable at the
    page's width.
glue-asserted
    Every glued value is checked: each variable in the value expression of `glue(name, value)`
    appears in an `assert` of the same notebook (or in a call to `claim(...)` or `assert_*(...)`,
    or is the iterable of a loop whose body asserts). A loop variable stands for its loop's
    iterable; a figure (`fig` of `fig, ax = plt.subplots()`) and a constant the notebook sets
    (a non-empty literal: `ALPHAS = (0.0, 0.1)`) need no assert. A value with no
    variable at all (`glue("x", f(3))`) is not checked: assign it to a name and assert it.
stray-output
    A cell does not end with a call whose value Jupyter would print as an object, such as
    `torch.manual_seed(0)` (`<torch._C.Generator at 0x...>`) or `ax.legend()`: end it with `;` or
    assign the value to `_`.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_sources import python_source  # noqa: E402

MAX_COLUMNS = 2
MAX_WIDTH_INCHES = 7.5
ALWAYS_AVAILABLE = {"lsutils", "IPython"}
FIGURE_CALLS = {"subplots", "figure", "subplot_mosaic"}
# Calls whose value Jupyter shows as an object repr (or a list of them) when they end a cell.
STRAY_CALLS = {
    "manual_seed", "seed", "legend", "set", "plot", "scatter", "bar", "barh", "hist", "axhline",
    "axvline", "axhspan", "axvspan", "text", "annotate", "imshow", "colorbar", "suptitle",
    "set_title", "set_xlabel", "set_ylabel", "set_xlim", "set_ylim", "set_xticks", "set_yticks",
    "set_xscale", "set_yscale", "title", "xlabel", "ylabel", "xlim", "ylim", "fill_between",
    "errorbar", "add_subplot", "figure", "subplots", "axis", "step", "stairs", "pcolormesh",
    "contour", "contourf", "boxplot", "violinplot", "pie", "loglog", "semilogx", "semilogy",
}  # fmt: skip


def code_cells(nb) -> Iterator[tuple[int, str, ast.Module | None]]:
    """(cell index, source, parsed module or None if it does not parse) for each code cell."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            try:
                tree = ast.parse(python_source(cell.source))
            except SyntaxError:
                tree = None
            yield i, cell.source, tree


def where(i: int, source: str) -> str:
    first = next((line for line in source.split("\n") if line.strip()), "")
    return f"cell {i} ({first[:60]!r})"


# ---------------------------------------------------------------------------------------- imports
def allowed_modules(root: Path = ROOT) -> set[str]:
    """Top-level module names a notebook may import."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    deps = {
        re.match(r"[A-Za-z0-9_.-]+", d).group().lower().replace("-", "_")
        for d in project.get("dependencies", [])
    }
    return set(sys.stdlib_module_names) | ALWAYS_AVAILABLE | deps


def imported_modules(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def import_problems(nb, allowed: set[str]) -> list[str]:
    out = []
    for i, source, tree in code_cells(nb):
        if tree is None:
            continue
        for module in sorted(imported_modules(tree) - allowed):
            out.append(
                f"{where(i, source)} imports {module!r}, which is not stdlib, lsutils, or a "
                "dependency of lsutils"
            )
    return out


# ------------------------------------------------------------------------------------ bookkeeping
def _is_glue(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "glue"
    )


def _bookkeeping_statements(body: list[ast.stmt]) -> bool:
    for node in body:
        if isinstance(node, (ast.Assert, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            continue
        if _is_glue(node):
            continue
        if isinstance(node, (ast.For, ast.If)) and _bookkeeping_statements(node.body + node.orelse):
            continue
        if isinstance(node, ast.With) and _bookkeeping_statements(node.body):
            continue
        return False
    return True


def is_bookkeeping(tree: ast.Module) -> bool:
    """Only asserts, glue calls and the assignments that feed them (see the module docstring)."""
    checks = any(isinstance(n, ast.Assert) or _is_glue(n) for n in ast.walk(tree))
    return checks and _bookkeeping_statements(tree.body)


def bookkeeping_problems(nb) -> list[str]:
    out = []
    for i, source, tree in code_cells(nb):
        if tree is None or not is_bookkeeping(tree):
            continue
        if "hide-input" not in nb.cells[i].metadata.get("tags", []):
            out.append(f"{where(i, source)} only asserts and glues: tag it hide-input")
    return out


# ---------------------------------------------------------------------------------------- figures
def _literal(node: ast.AST | None):
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return ast.unparse(node)


def figure_problems(nb) -> list[str]:
    out = []
    for i, source, tree in code_cells(nb):
        if tree is None:
            continue
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not isinstance(
                call.func, (ast.Attribute, ast.Name)
            ):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
            if name not in FIGURE_CALLS:
                continue
            kw = {k.arg: k.value for k in call.keywords}
            if name == "subplots":
                ncols = kw.get("ncols", call.args[1] if len(call.args) > 1 else None)
                value = _literal(ncols) if ncols is not None else 1
                if not isinstance(value, int) or value > MAX_COLUMNS:
                    out.append(
                        f"{where(i, source)}: subplots with ncols={value}; at most "
                        f"{MAX_COLUMNS} panels per row (use more rows)"
                    )
            if "figsize" in kw:
                size = _literal(kw["figsize"])
                if not (isinstance(size, tuple) and isinstance(size[0], (int, float))):
                    out.append(f"{where(i, source)}: figsize={size} is not a literal (w, h)")
                elif size[0] > MAX_WIDTH_INCHES:
                    out.append(
                        f"{where(i, source)}: figure {size[0]} inches wide; at most "
                        f"{MAX_WIDTH_INCHES} so its text stays readable"
                    )
    return out


# ---------------------------------------------------------------------------------- glue-asserted
def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_check_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    return name == "claim" or name.startswith("assert")


def _is_constant_assignment(node: ast.AST) -> bool:
    """``NAME = <literal>`` with a non-empty literal (``100``, ``(0.0, 0.1)``, ``{"acc": 100}``): a
    setting the notebook chooses, not a result to check. An empty container is filled later, and a
    conditional expression depends on results: neither counts."""
    if not isinstance(node, ast.Assign):
        return False
    try:
        value = ast.literal_eval(node.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return not (isinstance(value, (tuple, list, dict, set)) and not value)


def _defined_elsewhere(trees: list[ast.Module]) -> tuple[set[str], set[str]]:
    """Names that are not numbers to check: imports, functions and classes defined in the
    notebook and builtins; and, separately, figures (`fig` in `fig, ax = plt.subplots(...)`,
    glued for a `{glue:figure}`)."""
    names, figures = set(dir(builtins)), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", getattr(node.value.func, "id", ""))
                in FIGURE_CALLS
            ):
                for target in node.targets:
                    first = target.elts[0] if isinstance(target, ast.Tuple) else target
                    if isinstance(first, ast.Name):
                        figures.add(first.id)
    return names, figures


def _asserted_names(trees: list[ast.Module]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                names |= _names(node.test)
            elif _is_check_call(node):
                names |= _names(node)
            elif isinstance(node, ast.For) and any(
                isinstance(n, ast.Assert) or _is_check_call(n) for n in ast.walk(node)
            ):
                names |= _names(node.iter)
    return names


def _glue_calls(tree: ast.Module) -> Iterator[tuple[ast.Call, dict[str, ast.AST]]]:
    """Each glue call with the loop variables in scope, mapped to their loops' iterables."""

    def visit(node: ast.AST, loops: dict[str, ast.AST]):
        if isinstance(node, ast.For):
            inner = dict(loops) | {name: node.iter for name in _names(node.target)}
            for child in node.body + node.orelse:
                yield from visit(child, inner)
            return
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "glue"
            and len(node.args) >= 2
        ):
            yield node, loops
        for child in ast.iter_child_nodes(node):
            yield from visit(child, loops)

    yield from visit(tree, {})


def _constants(trees: list[ast.Module]) -> set[str]:
    """Names only ever assigned a non-empty literal (see :func:`_is_constant_assignment`)."""
    assigned: dict[str, bool] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    for name in _names(target):
                        const = _is_constant_assignment(node) and isinstance(target, ast.Name)
                        assigned[name] = assigned.get(name, True) and const
    return {name for name, const in assigned.items() if const}


def glue_problems(nb) -> list[str]:
    cells = [(i, s, t) for i, s, t in code_cells(nb) if t is not None]
    trees = [t for _, _, t in cells]
    (skip, figures), asserted = _defined_elsewhere(trees), _asserted_names(trees)
    constants = _constants(trees)
    out = []
    for i, source, tree in cells:
        for call, loops in _glue_calls(tree):
            names, seen = set(), set()
            todo = list(_names(call.args[1]))
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                if name in loops:
                    todo += list(_names(loops[name]))
                elif name not in skip:
                    names.add(name)
            label = ast.unparse(call.args[0])
            if names and names <= figures:
                continue
            if names and names <= constants and not names <= asserted:
                out.append(
                    f"{where(i, source)}: glue({label}, ...) glues only constants the notebook "
                    f"types in ({sorted(names)}): glue a computed value and assert it"
                )
                continue
            names -= constants - asserted  # display factors and settings beside a computed value
            if not names:
                out.append(
                    f"{where(i, source)}: glue({label}, {ast.unparse(call.args[1])}) glues a "
                    "value with no variable an assert could check: assign it and assert it"
                )
            elif missing := sorted(names - asserted):
                out.append(
                    f"{where(i, source)}: glue({label}, ...) uses {missing}, which no assert "
                    "in the notebook checks"
                )
    return out


# ----------------------------------------------------------------------------------- stray-output
def stray_output_problems(nb) -> list[str]:
    out = []
    for i, source, tree in code_cells(nb):
        if tree is None or not tree.body or source.rstrip().endswith(";"):
            continue
        last = tree.body[-1]
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            f = last.value.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in STRAY_CALLS:
                out.append(
                    f"{where(i, source)} ends with {ast.unparse(f)}(...), whose value Jupyter "
                    "prints as an object: end the line with ';' or assign it to '_'"
                )
    return out


RULES = {
    "imports": lambda nb: import_problems(nb, allowed_modules()),
    "bookkeeping": bookkeeping_problems,
    "figures": figure_problems,
    "glue-asserted": glue_problems,
    "stray-output": stray_output_problems,
}


def check(path: Path, rules=RULES) -> dict[str, list[str]]:
    nb = nbformat.read(path, as_version=4)
    return {name: rule(nb) for name, rule in rules.items()}


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        paths = sorted((ROOT / "book").rglob("*.ipynb"))
    bad = 0
    for path in paths:
        for rule, problems in check(path).items():
            for p in problems:
                print(f"{path}: [{rule}] {p}")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
