"""The book's Sphinx extension (book/_ext/lsbook_html.py): its checks for malformed math and its
page descriptions."""

import sys
from pathlib import Path

from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

import lsbook_html  # noqa: E402


def test_math_problems_accepts_well_formed_tex():
    for tex in (
        r"\frac{a}{b} + \left( x \right)",
        r"\{ x \} \\ y",
        r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
        r"\left. \frac{d}{dx} \right|_{x=0}",
    ):
        assert lsbook_html.math_problems(tex) == [], tex


def test_math_problems_finds_what_mathjax_rejects():
    assert lsbook_html.math_problems(r"\frac{a}{b")
    assert lsbook_html.math_problems(r"a}")
    assert lsbook_html.math_problems(r"\left( x")
    assert lsbook_html.math_problems(r"\begin{aligned} a \end{align}")
    assert lsbook_html.math_problems(r"\begin{aligned} a")


def test_control_characters_are_recognised():
    assert lsbook_html.CONTROL.search("$\x07lpha$")
    assert not lsbook_html.CONTROL.search("tab\tnewline\n")


def _doc(rst: str):
    doc = new_document("<test>", get_default_settings(Parser))
    Parser().parse(rst, doc)
    return doc


def test_description_is_the_first_real_paragraph_shortened():
    doc = _doc(
        "Title\n=====\n\nShort.\n\n.. note::\n\n   An admonition paragraph that is long enough "
        "to count if it were prose, but it is not.\n\n" + "Word " * 60 + "\n"
    )
    text = lsbook_html.first_paragraph(doc)
    assert text.startswith("Word Word")
    short = lsbook_html.shorten(text)
    assert len(short) <= lsbook_html.DESCRIPTION_CHARS and short.endswith("…")
    assert lsbook_html.shorten("brief") == "brief"
