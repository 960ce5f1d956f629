"""Print the built book (_build/html) to one PDF, _build/pdf/book.pdf (`make pdf`).

The pages are joined in table-of-contents order into one HTML document (_build/pdf/book.html)
with a title page and a contents page; links between pages become links inside the document;
each chapter starts on a new page. Headless Chromium, the one the browser test uses, typesets the
math with the book's bundled MathJax and prints it with page numbers. Nothing is executed again:
the PDF shows exactly the outputs of the last `make book`, and it needs no network and no LaTeX.

Usage: `python tools/build_pdf.py [--site _build/html] [--out _build/pdf/book.pdf]`. Needs the
playwright package (a test dependency) and BeautifulSoup (installed with Jupyter Book).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import posixpath
import sys
import threading
import time
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from toc import toc_pages

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("LSUTILS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
html, body { background: white !important; }
body { font-size: 10.5pt; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .prev-next-area, .header-article-items, #pst-back-to-top, .headerlink,
.copybtn, .toggle-button, .cell_input details summary .copybtn { display: none !important; }
.lsbook-chapter { break-before: page; }
/* sphinx-book-theme's print style hides each article's first h1 (it prints the page title
   separately); here every chapter's own h1 is its title. */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-main .bd-content { margin-left: 0 !important; }
.lsbook-title { height: 240mm; display: flex; flex-direction: column; justify-content: center; }
.lsbook-title h1 { font-size: 28pt; border: none; }
.lsbook-contents li { margin: 0.2em 0; }
.lsbook-part { font-weight: bold; margin-top: 0.8em; list-style: none; }
figure, img, svg, table, .cell_output, div.math { break-inside: avoid; }
img { max-width: 100% !important; height: auto; }
h1, h2, h3 { break-after: avoid; }
pre { white-space: pre-wrap; word-break: break-word; }
details:not([open]) > *:not(summary) { display: none; }
"""
FOOTER = (
    '<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
MATHJAX_DONE_JS = """async () => {
  for (let i = 0; i < 600 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 100));
  if (!window.MathJax || !MathJax.startup) return false;
  await MathJax.startup.promise;
  return true;
}"""


def _anchor(page: str, fragment: str = "") -> str:
    base = "p-" + page.replace("/", "-").replace("_", "-")
    return f"{base}--{fragment}" if fragment else base


def _rewrite(soup: BeautifulSoup, page: str, pages: set[str]) -> None:
    """Make ids unique per page, links between pages internal, and resource URLs relative to
    the site root (the combined document's base)."""
    here = posixpath.dirname(page)
    for el in soup.find_all(id=True):
        el["id"] = _anchor(page, el["id"])
    for el in soup.find_all(["img", "source", "script"], src=True):
        src = el["src"]
        if "://" not in src and not src.startswith(("data:", "/")):
            el["src"] = posixpath.normpath(posixpath.join(here, src))
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if "://" in href or href.startswith(("mailto:", "data:")):
            continue
        path, _, fragment = href.partition("#")
        target = posixpath.normpath(posixpath.join(here, path)) if path else page + ".html"
        target_page = target.removesuffix(".html")
        if target_page in pages:
            a["href"] = "#" + _anchor(target_page, fragment)
        else:
            a["href"] = target + (f"#{fragment}" if fragment else "")


def combine(site: Path, root: Path = ROOT) -> str:
    """The whole book as one HTML document (URLs relative to `site`)."""
    order = toc_pages(root)
    names = {p for _, p in order}
    first = BeautifulSoup(
        (site / (order[0][1] + ".html")).read_text(encoding="utf-8"), "html.parser"
    )
    head = first.head
    for link in head.find_all(["link", "script"]):
        for attr in ("href", "src"):
            if link.get(attr) and "://" not in link[attr]:
                link[attr] = posixpath.normpath(
                    posixpath.join(posixpath.dirname(order[0][1]), link[attr])
                )
    for tag in head.find_all("base"):
        tag.decompose()
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    book_title = html.escape(config.get("title", "The book"))
    author = html.escape(config.get("author", ""))
    chapters, contents, last_part = [], [], None
    for part, page in order:
        soup = BeautifulSoup((site / (page + ".html")).read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("article.bd-article") or soup.select_one("main")
        if article is None:
            raise SystemExit(f"{page}.html has no article")
        _rewrite(article, page, names)
        h1 = article.find("h1")
        heading = h1.get_text(" ", strip=True).replace("#", "").strip() if h1 else page
        if part != last_part and part:
            contents.append(f'<li class="lsbook-part">{html.escape(part)}</li>')
            last_part = part
        contents.append(f'<li><a href="#{_anchor(page)}">{html.escape(heading)}</a></li>')
        chapters.append(
            f'<section class="lsbook-chapter" id="{_anchor(page)}">'
            f"{article.decode_contents()}</section>"
        )
    body = (
        f'<div class="lsbook-title"><h1>{book_title}</h1><p>{author}</p>'
        "<p>Text and figures CC BY 4.0; code MIT. Printed from the executed book.</p></div>"
        f'<section class="lsbook-chapter lsbook-contents"><h2>Contents</h2><ul>{"".join(contents)}'
        "</ul></section>" + "".join(chapters)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head>{head.decode_contents()}'
        f"<style>{PRINT_CSS}</style></head>"
        f'<body><main class="bd-main"><div class="bd-content"><div class="bd-article-container">'
        f'<article class="bd-article">{body}</article></div></div></main></body></html>'
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def print_pdf(site: Path, document: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.set_default_timeout(600_000)
            page.route(
                "**/*",
                lambda r: r.continue_() if local in r.request.url else r.abort(),
            )
            page.goto(f"http://{local}/{document.name}", wait_until="load")
            if not page.evaluate(MATHJAX_DONE_JS):
                raise SystemExit("MathJax did not load in the combined document")
            page.emulate_media(media="print")
            page.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"},
                outline=True,
                tagged=True,
            )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "book.pdf")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no built book at {args.site}: run `make book` first", file=sys.stderr)
        return 1
    if not os.access(CHROMIUM, os.X_OK):
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    start = time.time()
    # The combined document lives in the site folder so that its relative URLs resolve; it is
    # removed again afterwards, so the published site does not change.
    document = args.site / "_lsbook_print.html"
    document.write_text(combine(args.site), encoding="utf-8")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        print_pdf(args.site, document, args.out)
    finally:
        document.unlink(missing_ok=True)
    size = args.out.stat().st_size / 2**20
    print(f"wrote {args.out} ({size:.1f} MiB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
