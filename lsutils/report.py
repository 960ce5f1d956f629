"""Putting computed results into the book's pages: glued numbers and numbered, captioned tables.

- :func:`glue` stores a value under a name for the prose (``{glue:text}`name:.3f```), exactly
  as ``myst_nb.glue(name, value, display=False)`` does, but without needing myst-nb: a notebook
  run on Colab or a laptop with only ``lsutils`` installed works the same (outside IPython it
  does nothing).
- :class:`Table` is a results table with a caption and a label. Jupyter shows it as an HTML table;
  the book renders its Markdown form, a MyST ``table`` directive, as a numbered table that the
  prose can cite with ``{numref}`label```.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["glue", "Table", "GLUE_PREFIX"]

#: The MIME-type prefix under which myst-nb looks for glued values.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value: Any) -> None:
    """Store ``value``'s display form under ``name`` for the page's prose; shows nothing."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"glue name must be letters, digits, '_', '.' or '-', got {name!r}")
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display
    except ImportError:  # plain Python: there is no page to glue into
        return
    if get_ipython() is None:
        return
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class Table:
    """A table of strings with a header row, a caption and a label (``tab-...``) for
    cross-references."""

    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str
    label: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.label):
            raise ValueError(f"label must be lowercase letters, digits and '-', got {self.label!r}")
        if not self.caption.strip():
            raise ValueError("a table needs a caption")
        width = len(self.header)
        if width == 0 or any(len(r) != width for r in self.rows):
            raise ValueError(f"every row needs {width} cells, like the header")

    def _repr_markdown_(self) -> str:
        lines = [
            f":::{{table}} {_cell(self.caption)}",
            f":name: {self.label}",
            ":align: center",
            "",
        ]
        lines.append("| " + " | ".join(_cell(h) for h in self.header) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.header) + "|")
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join([*lines, ":::"])

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(str(h))}</th>" for h in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in row) + "</tr>" for row in self.rows
        )
        return (
            f'<table id="{self.label}"><caption>{esc(self.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def __str__(self) -> str:
        widths = [
            max(len(str(c)) for c in col) for col in zip(self.header, *self.rows, strict=True)
        ]
        fmt = "  ".join(f"{{:>{w}}}" for w in widths)
        lines = [self.caption, fmt.format(*map(str, self.header))]
        return "\n".join(lines + [fmt.format(*map(str, r)) for r in self.rows])
