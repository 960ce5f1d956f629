"""The book's small Sphinx extension: HTML fixes for the theme, page descriptions, and
build-time checks for rendering errors.

HTML
- sphinx-thebe registers its inline configuration script twice under Sphinx 7.4, so
  every page declares `const THEBE_JS_URL` twice and the browser reports "Identifier
  'THEBE_JS_URL' has already been declared". We drop repeated script entries from each
  page.
- pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit when no
  default colour mode is configured; we set the default to "auto" (follow the system
  setting) unless the book sets one.
- `book/_static/lsbook.js` makes the visible menu and page-contents buttons work (the
  themes bind their handlers to a hidden pair; see that file), and
  `book/_static/lsbook.css` keeps wide equations, tables and figures inside the column
  on phones.
- Every page gets a `<meta name="description">` taken from its first paragraph, for
  search engines and link previews.

Checks (each a Sphinx warning, so `jupyter-book build -W` fails on it)
- Control characters in the text of a page (prose, math, captions, outputs other than
  ANSI colour codes): a Python string "\\alpha" in a notebook becomes a BEL character,
  and MathJax shows "Math input error" where the formula should be.
- Math that MathJax cannot parse for structural reasons: unbalanced braces, `\\left`
  without `\\right`, `\\begin{...}` without the matching `\\end{...}`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parents[1] / "_static"
DESCRIPTION_CHARS = 160

# C0 controls and DEL except tab, newline and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _script_key(js) -> tuple:
    # An inline script is registered once with filename None and once with "": treat
    # them as the same.
    filename = getattr(js, "filename", js) or ""
    return (
        str(filename),
        tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())),
    )


def _unique_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Drop repeated script entries (same file, or same inline body) from the page about
    to be written."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        if (key := _script_key(js)) not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def _default_mode(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def first_paragraph(doctree: nodes.document) -> str:
    """The text of the first paragraph of the page's body (not in a code cell, an
    admonition or a caption), whitespace collapsed; empty when there is none."""
    for para in doctree.findall(nodes.paragraph):
        if any(
            isinstance(
                a, (nodes.Admonition, nodes.caption, nodes.table, nodes.list_item)
            )
            or "cell" in a.get("classes", [])
            for a in _ancestors(para)
        ):
            continue
        text = " ".join(para.astext().split())
        if len(text) > 40:
            return text
    return ""


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _description(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    if doctree is None or 'name="description"' in context.get("metatags", ""):
        return
    text = first_paragraph(doctree)
    if text:
        content = html.escape(shorten(text))
        meta = f'\n    <meta name="description" content="{content}" />'
        context["metatags"] = context.get("metatags", "") + meta


def math_problems(tex: str) -> list[str]:
    """Structural errors in a TeX formula that make MathJax fail (empty: none)."""
    problems = []
    # escaped braces and line breaks are not grouping
    plain = re.sub(r"\\\\|\\[{}]", "", tex)
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            problems.append("a '}' closes a group that was never opened")
            break
    if depth > 0:
        problems.append(f"{depth} unclosed '{{'")
    lefts = len(re.findall(r"\\left(?![a-zA-Z])", tex))
    rights = len(re.findall(r"\\right(?![a-zA-Z])", tex))
    if lefts != rights:
        problems.append(f"{lefts} \\left but {rights} \\right")
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            problems.append(f"\\end{{{env}}} without a matching \\begin")
            break
    if stack:
        problems.append(f"\\begin{{{stack[-1]}}} without \\end")
    return problems


def _in_literal(node: nodes.Node) -> bool:
    return any(isinstance(a, nodes.literal_block) for a in _ancestors(node))


def check_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Warn (so -W fails the build) about control characters and malformed math."""
    for text in doctree.findall(nodes.Text):
        value = str(text)
        if _in_literal(text):
            value = ANSI.sub(
                "", value
            )  # colour codes in outputs are rendered, not shown
        if match := CONTROL.search(value):
            context = value[max(0, match.start() - 30) : match.end() + 30]
            logger.warning(
                f"control character {match.group()!r} in the page text (a Python "
                f'string "\\alpha" is a BEL followed by "lpha"): {context!r}',
                location=text.parent,
                type="lsbook",
                subtype="control_character",
            )
    for node in doctree.findall(
        lambda n: isinstance(n, (nodes.math, nodes.math_block))
    ):
        for problem in math_problems(node.astext()):
            logger.warning(
                f"malformed math ({problem}): {node.astext()[:80]!r}",
                location=node,
                type="lsbook",
                subtype="math",
            )


def _static_files(app: Sphinx, config: Config) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _static_files)
    app.add_css_file("lsbook.css")
    app.add_js_file("lsbook.js")
    app.connect("doctree-resolved", check_doctree)
    # Early priorities: an html-page-context handler that returns a template name stops
    # the event.
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("html-page-context", _default_mode, priority=100)
    app.connect("html-page-context", _description, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
