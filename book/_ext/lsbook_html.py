"""Small fixes to the HTML that Jupyter Book 1 produces, so pages load without console errors.

- sphinx-thebe registers its inline configuration script twice under Sphinx 7.4, so every page
  declares `const THEBE_JS_URL` twice and the browser reports "Identifier 'THEBE_JS_URL' has already
  been declared". We drop repeated script entries from each page.
- pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit when no default colour
  mode is configured; we set the default to "auto" (follow the system setting) unless the book sets
  one.
"""

from sphinx.application import Sphinx


def _script_key(js) -> tuple:
    # An inline script is registered once with filename None and once with "": treat them as the
    # same.
    filename = getattr(js, "filename", js) or ""
    return (
        str(filename),
        tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())),
    )


def _unique_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Drop repeated script entries (same file, or same inline body) from the page about to be
    written."""
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


def setup(app: Sphinx) -> dict:
    # Early priorities: an html-page-context handler that returns a template name stops the event.
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("html-page-context", _default_mode, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
