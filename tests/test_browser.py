"""The built book in a real browser, offline: math typeset, images loaded, no console errors, search
works.

Drives Debian's Chromium headless (through the playwright package) against a local http server that
serves _build/html on 127.0.0.1; every request to any other host is aborted, so the site must work
with no network.

Runs under `make test` when _build/html and Chromium exist, and is skipped otherwise. `make
browser-test` sets LSUTILS_BROWSER_TEST=require: then a missing build or browser is a failure, not a
skip.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("LSUTILS_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("LSUTILS_BROWSER_TEST", "").lower() == "require"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
FLOOR_PAGE = "book/principles/03_loss_floor.html"
HOME_PAGE = "book/intro.html"  # the root index.html only redirects here
SCREENSHOT_PAGES = [HOME_PAGE, "book/principles/02_smoothed_targets.html", FLOOR_PAGE]
SKIPPED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
TIMEOUT_MS = 60_000

# Text nodes outside these elements must hold no TeX delimiters once MathJax has run.
RAW_TEX_JS = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'MJX-CONTAINER', 'MJX-ASSISTIVE-MML']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const bad = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let el = node.parentElement, inside = false;
    for (; el; el = el.parentElement) {
      if (skip.has(el.tagName) || el.classList.contains('highlight') || el.classList.contains('output')) {
        inside = true; break;
      }
    }
    const t = node.textContent;
    if (!inside && (t.includes('\\\\(') || t.includes('\\\\[') || t.includes('$$') || t.includes('\\\\begin{')))
      bad.push(t.trim().slice(0, 80));
  }
  return bad;
}"""

IMAGES_JS = """() => Array.from(document.images).map(img => ({
  src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
  alt: img.getAttribute('alt') || '', content: !!img.closest('article'),
}))"""

MATHJAX_DONE_JS = """async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
  await MathJax.startup.promise;
  return true;
}"""


def _unavailable(reason):
    if REQUIRED:
        pytest.fail(f"LSUTILS_BROWSER_TEST=require but {reason}")
    pytest.skip(reason)


def is_redirect(path):
    return 'http-equiv="Refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000]


def site_pages():
    """Every page of the built site, relative to its root: Sphinx's generated index and search pages
    and redirect stubs (the root index.html) excluded."""
    skip_dirs = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        str(p.relative_to(SITE)).replace(os.sep, "/")
        for p in SITE.rglob("*.html")
        if not skip_dirs & set(p.relative_to(SITE).parts)
        and p.name not in SKIPPED_PAGES
        and not is_redirect(p)
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built book at {SITE} (run `make book` first)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OfflinePage:
    """A browser page that may only talk to the local server; records console errors and blocked
    requests."""

    def __init__(self, browser, site_url):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors, self.blocked = [], []
        local = urlparse(site_url).netloc
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != local:
                self.blocked.append(f"{r.request.resource_type} {r.request.url}")
                r.abort()
            else:
                r.continue_()

        self.context.route("**/*", route)

    def open(self, url):
        self.errors.clear()
        self.blocked.clear()
        self.page.goto(url, wait_until="load")
        self.page.evaluate(MATHJAX_DONE_JS)

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser, site_url):
    page = OfflinePage(browser, site_url)
    yield page
    page.close()


def check_page(tab, site_url, rel):
    """Problems found on one page, as strings (empty when the page is fine)."""
    tab.open(site_url + rel)
    page, problems = tab.page, []
    n_math = page.locator(".math").count()
    n_typeset = page.locator("mjx-container").count()
    if n_math and n_typeset < n_math:
        problems.append(f"{n_math} math elements but only {n_typeset} typeset by MathJax")
    raw = page.evaluate(RAW_TEX_JS)
    if raw:
        problems.append(f"raw TeX left in the page: {raw[:3]}")
    for img in page.evaluate(IMAGES_JS):
        if not img["ok"]:
            problems.append(f"image did not load: {img['src']}")
        if img["content"] and not img["alt"].strip():
            problems.append(f"content image without alt text: {img['src']}")
    if tab.errors:
        problems.append(f"console errors: {tab.errors[:3]}")
    # A blocked script, stylesheet or font would mean the page needs the network to look right.
    needed = [b for b in tab.blocked if b.split()[0] in ("script", "stylesheet", "font", "image")]
    if needed:
        problems.append(f"requests to external hosts: {needed[:3]}")
    return problems


def test_every_page_renders_offline(tab, site_url):
    pages = site_pages()
    assert HOME_PAGE in pages and len(pages) >= 2, f"too few pages in {SITE}: {pages}"
    problems = {rel: p for rel in pages if (p := check_page(tab, site_url, rel))}
    assert not problems, "\n".join(f"{rel}: {'; '.join(p)}" for rel, p in problems.items())


def test_root_redirects_to_the_home_page(tab, site_url):
    tab.page.goto(site_url + "index.html")
    tab.page.wait_for_url("**/" + HOME_PAGE)
    assert tab.page.locator("h1").first.inner_text().strip(), "the home page has no title"


def test_math_is_typeset_on_the_principles_pages(tab, site_url):
    """Guard against a silently missing MathJax: the chapters with derivations must contain typeset
    math."""
    with_math = [rel for rel in site_pages() if rel.startswith("book/principles/")]
    assert with_math, "no Principles pages in the built site"
    counts = {}
    for rel in with_math:
        tab.open(site_url + rel)
        counts[rel] = tab.page.locator("mjx-container").count()
    assert sum(counts.values()) > 0, f"no MathJax output on any Principles page: {counts}"


def search_hits(tab, site_url, query):
    """Links of Sphinx's search results page for `query`, once the results have been rendered."""
    tab.open(site_url + "search.html?q=" + query.replace(" ", "+"))
    tab.page.wait_for_function(
        "() => { const s = document.querySelector('#search-results p.search-summary, #search-results > p');"
        " return s && !/Preparing|Searching/.test(s.textContent); }",
        timeout=TIMEOUT_MS,
    )
    hrefs = tab.page.eval_on_selector_all(
        "#search-results a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert not tab.errors, f"console errors on the search page: {tab.errors[:3]}"
    return hrefs


def test_search_finds_the_loss_floor_chapter(tab, site_url):
    if not (SITE / FLOOR_PAGE).is_file():
        pytest.fail(f"{FLOOR_PAGE} is missing from the built site")
    hrefs = search_hits(tab, site_url, "loss floor")
    assert any(FLOOR_PAGE in (h or "") for h in hrefs), (
        f"search for 'loss floor' did not list {FLOOR_PAGE}: {hrefs[:10]}"
    )


def test_screenshots(tab, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for rel in SCREENSHOT_PAGES:
        if (SITE / rel).is_file():
            tab.open(site_url + rel)
            out = SCREENSHOTS / (rel.replace("/", "__").removesuffix(".html") + ".png")
            tab.page.screenshot(path=str(out))
            assert out.stat().st_size > 10_000, f"suspiciously small screenshot {out}"
            taken.append(out)
    assert taken, "no screenshot taken"
