"""lsutils.report: glue without myst-nb, and captioned tables."""

from __future__ import annotations

import pytest

from lsutils import report


def test_table_markdown_is_a_myst_table_directive():
    t = report.Table(["a", "b|c"], [[1, "x|y"], [2, "z"]], caption="Two rows.", label="tab-two")
    md = t._repr_markdown_().splitlines()
    assert md[:3] == [":::{table} Two rows.", ":name: tab-two", ":align: center"]
    assert md[4] == "| a | b\\|c |" and md[6] == "| 1 | x\\|y |" and md[-1] == ":::"
    html = t._repr_html_()
    assert html.startswith('<table id="tab-two"><caption>Two rows.</caption>') and "x|y" in html
    assert "Two rows." in str(t)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(label="Tab X"), "label must be"),
        (dict(caption="  "), "needs a caption"),
        (dict(rows=[[1]]), "every row needs 2 cells"),
    ],
)
def test_table_rejects_bad_input(kwargs, match):
    args = dict(header=["a", "b"], rows=[[1, 2]], caption="c", label="tab-x") | kwargs
    with pytest.raises(ValueError, match=match):
        report.Table(**args)


def test_glue_is_silent_outside_ipython_and_checks_names():
    report.glue("fine_name", 1.0)  # no IPython shell here: nothing happens, no error
    with pytest.raises(ValueError, match="glue name"):
        report.glue("bad name", 1.0)


def test_glue_emits_what_myst_nb_reads(monkeypatch):
    """Inside IPython, glue displays the value under myst-nb's prefix with scrapbook metadata."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    try:
        report.glue("x", 0.5)
    finally:
        InteractiveShell.clear_instance()
    (bundle,), kw = shown[0]
    assert bundle == {report.GLUE_PREFIX + "text/plain": "0.5"}
    assert kw["metadata"]["scrapbook"] == {"name": "x", "mime_prefix": report.GLUE_PREFIX}
    assert kw["raw"] is True and shell is not None
