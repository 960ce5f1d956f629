"""The built book in a real browser, offline, as a reader sees it at desktop and phone widths.

Drives Debian's Chromium headless (through the playwright package) against a local http server that
serves _build/html on 127.0.0.1; every request to any other host is aborted and reported, so the
site must work with no network. Checked on every page, at 1280 px and at 390 px:

- rendering: math typeset by MathJax with no "Math input error" and no raw TeX left, images
  loaded with alt text, no console errors, no requests to other hosts, no stray object outputs
  (`<torch._C.Generator at 0x...>`), no absolute local paths in the text;
- layout: no horizontal scrolling of the page at 390 px, no display equation wider than its
  column at 1280 px;
- metadata: a page description, the favicon, the licence in the footer.

Navigation: at 390 px and 768 px the menu button opens the table of contents and the
page-contents button the page's sections; at 1280 px the menu button hides and shows the sidebar.
Results tables render as numbered, captioned tables that the prose cites by number. The CIFAR-10
page says at its top and in every caption when it shows a smoke run or synthetic data.

Screenshots of every page at 1280 and 390 px go to _build/screenshots/.

Runs under `make test` when _build/html and Chromium exist, and is skipped otherwise. `make
browser-test` sets LSUTILS_BROWSER_TEST=require: then a missing build or browser is a failure, not a
skip. `make book` runs test_no_math_errors right after the build when Chromium is installed.
"""

import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_notebook_policy import PENDING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_pdf import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("LSUTILS_BROWSER_TEST", "").lower() == "require"
FLOOR_PAGE = "book/principles/03_loss_floor.html"
HOME_PAGE = "book/intro.html"  # the root index.html only redirects here
CIFAR_PAGE = "book/applications/cifar10_transfer.html"
# Results tables that must render as numbered tables cited by number: (page, table label).
TABLES = [
    ("book/principles/01_overconfidence.html", "tab-gap-growth"),
    ("book/principles/02_smoothed_targets.html", "tab-convention-map"),
    (CIFAR_PAGE, "tab-cifar-results"),
]
SKIPPED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
DESKTOP, PHONE, TABLET = 1280, 390, 768
TIMEOUT_MS = 60_000
# Pages whose notebooks are still being rewritten for the stray-output rule (see PENDING).
STRAY_PENDING = {
    nb.removesuffix(".ipynb") + ".html" for nb, rules in PENDING.items() if "stray-output" in rules
}

# Text nodes outside these elements must hold no TeX delimiters once MathJax has run.
RAW_TEX_JS = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'MJX-CONTAINER',
                        'MJX-ASSISTIVE-MML']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const bad = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let el = node.parentElement, inside = false;
    for (; el; el = el.parentElement) {
      if (skip.has(el.tagName) || el.classList.contains('highlight')
          || el.classList.contains('output')) {
        inside = true; break;
      }
    }
    const t = node.textContent;
    if (!inside && (t.includes('\\\\(') || t.includes('\\\\[') || t.includes('$$')
                    || t.includes('\\\\begin{')))
      bad.push(t.trim().slice(0, 80));
  }
  return bad;
}"""

MATH_ERRORS_JS = """() => Array.from(document.querySelectorAll('mjx-container'))
  .filter(m => m.querySelector('mjx-merror') || /Math input error/.test(m.textContent))
  .map(m => (m.querySelector('mjx-merror')?.getAttribute('data-mjx-error')
              || m.textContent).slice(0, 80))"""

IMAGES_JS = """() => Array.from(document.images).map(img => ({
  src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
  alt: img.getAttribute('alt') || '', content: !!img.closest('article'),
}))"""

MATHJAX_DONE_JS = """async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
  await MathJax.startup.promise;
  return true;
}"""

# Display equations (and their containers) wider than the space they have.
WIDE_MATH_JS = """() => Array.from(
    document.querySelectorAll('div.math, mjx-container[display="true"]'))
  .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
  .map(el => `${el.scrollWidth}px in ${el.clientWidth}px: `
              + (el.textContent || '').slice(0, 60))"""

PAGE_WIDTH_JS = """() => ({
  scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  inner: window.innerWidth,
  wide: Array.from(document.querySelectorAll('.bd-article *'))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                  && !el.closest('pre, .pst-scrollable-table-container, div.math, '
                                 + 'mjx-container, .highlight, .output, .cell_output, table'))
    .slice(0, 3)
    .map(el => el.tagName + '.' + el.className + ': ' + (el.textContent || '').slice(0, 40)),
})"""

OUTPUTS_JS = """() => Array.from(document.querySelectorAll('.cell_output'))
  .map(el => el.innerText)"""
STRAY_OUTPUT = re.compile(r"<[\w.]+(?: object)? at 0x[0-9a-f]+>|^\[?Text\(\d|^\[<matplotlib", re.M)
LOCAL_PATH = re.compile(r"(?<![\w.:/])/(?:home|root|tmp|work|Users|var/folders)/[\w.-]+")


def _unavailable(reason):
    if REQUIRED:
        pytest.fail(f"LSUTILS_BROWSER_TEST=require but {reason}")
    pytest.skip(reason)


def is_redirect(path):
    return 'http-equiv="Refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000]


def site_pages():
    """Every page of the built site, relative to its root: Sphinx's generated index and search
    pages and redirect stubs (the root index.html) excluded."""
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
    """A browser page that may only talk to the local server; records console errors and
    blocked requests."""

    def __init__(self, browser, site_url, width=DESKTOP):
        self.context = browser.new_context(
            viewport={"width": width, "height": 900 if width > PHONE else 844},
            device_scale_factor=1,
            is_mobile=width <= PHONE,
            has_touch=width <= TABLET,
        )
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


def rendering_problems(tab, rel):
    """Rendering errors on the page open in `tab`, as strings (empty when it is fine)."""
    page, problems = tab.page, []
    n_math = page.locator(".math").count()
    n_typeset = page.locator("mjx-container").count()
    if n_math and n_typeset < n_math:
        problems.append(f"{n_math} math elements but only {n_typeset} typeset by MathJax")
    if errors := page.evaluate(MATH_ERRORS_JS):
        problems.append(f"MathJax errors: {errors[:3]}")
    if raw := page.evaluate(RAW_TEX_JS):
        problems.append(f"raw TeX left in the page: {raw[:3]}")
    for img in page.evaluate(IMAGES_JS):
        if not img["ok"]:
            problems.append(f"image did not load: {img['src']}")
        if img["content"] and not img["alt"].strip():
            problems.append(f"content image without alt text: {img['src']}")
    if tab.errors:
        problems.append(f"console errors: {tab.errors[:3]}")
    if tab.blocked:
        problems.append(f"requests to external hosts: {tab.blocked[:3]}")
    if rel not in STRAY_PENDING:
        stray = [m for text in page.evaluate(OUTPUTS_JS) for m in STRAY_OUTPUT.findall(text)]
        if stray:
            problems.append(f"stray object outputs: {stray[:3]}")
    if paths := LOCAL_PATH.findall(page.locator("article").inner_text()):
        problems.append(f"absolute local paths in the text: {paths[:3]}")
    return problems


def desktop_problems(tab, rel):
    page, problems = tab.page, rendering_problems(tab, rel)
    if wide := page.evaluate(WIDE_MATH_JS):
        problems.append(f"display equations wider than the column at {DESKTOP} px: {wide[:3]}")
    description = page.locator('meta[name="description"]')
    if not description.count() or len(description.first.get_attribute("content") or "") < 40:
        problems.append("no page description (<meta name='description'>)")
    icon = page.locator('link[rel="icon"]')
    if not icon.count():
        problems.append("no favicon link")
    footer = page.locator("footer").all_inner_texts()
    if not any("CC BY 4.0" in t and "MIT" in t for t in footer):
        problems.append("the footer does not state the licences (CC BY 4.0, MIT)")
    return problems


def phone_problems(tab, rel):
    problems = rendering_problems(tab, rel)
    width = tab.page.evaluate(PAGE_WIDTH_JS)
    if width["scroll"] > width["inner"] + 1:
        problems.append(
            f"the page scrolls sideways at {PHONE} px ({width['scroll']} px wide): {width['wide']}"
        )
    return problems


def _screenshot(tab, rel, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{rel.replace('/', '__').removesuffix('.html')}@{width}.png"
    tab.page.screenshot(path=str(out), full_page=True)
    return out


def test_every_page_renders_offline_at_desktop_and_phone_widths(browser, site_url):
    """Every page at 1280 and 390 px: rendering errors, external requests, layout, metadata;
    writes the screenshots."""
    pages = site_pages()
    assert HOME_PAGE in pages and len(pages) >= 2, f"too few pages in {SITE}: {pages}"
    problems, small = {}, []
    for width, check in ((DESKTOP, desktop_problems), (PHONE, phone_problems)):
        tab = OfflinePage(browser, site_url, width=width)
        try:
            for rel in pages:
                tab.open(site_url + rel)
                if found := check(tab, rel):
                    problems[f"{rel} @{width}px"] = found
                shot = _screenshot(tab, rel, width)
                if shot.stat().st_size < 10_000:
                    small.append(str(shot))
        finally:
            tab.close()
    assert not small, f"suspiciously small screenshots: {small}"
    assert not problems, "\n".join(f"{rel}: {'; '.join(p)}" for rel, p in problems.items())


def test_no_math_errors(tab, site_url):
    """MathJax typesets every formula on every page without an error (run by `make book`)."""
    bad = {}
    for rel in site_pages():
        tab.open(site_url + rel)
        if errors := tab.page.evaluate(MATH_ERRORS_JS):
            bad[rel] = errors[:3]
    assert not bad, f"MathJax errors: {bad}"


def test_root_redirects_to_the_home_page(tab, site_url):
    tab.page.goto(site_url + "index.html")
    tab.page.wait_for_url("**/" + HOME_PAGE)
    assert tab.page.locator("h1").first.inner_text().strip(), "the home page has no title"


def test_math_is_typeset_on_the_principles_pages(tab, site_url):
    """Guard against a silently missing MathJax: the chapters with derivations must contain
    typeset math."""
    with_math = [rel for rel in site_pages() if rel.startswith("book/principles/")]
    assert with_math, "no Principles pages in the built site"
    counts = {}
    for rel in with_math:
        tab.open(site_url + rel)
        counts[rel] = tab.page.locator("mjx-container").count()
    assert sum(counts.values()) > 0, f"no MathJax output on any Principles page: {counts}"


# ------------------------------------------------------------------------------------ navigation
def _visible_toggle(page, kind):
    buttons = page.locator(f".{kind}-toggle")
    visible = [buttons.nth(i) for i in range(buttons.count()) if buttons.nth(i).is_visible()]
    assert visible, f"no visible {kind} toggle button at {page.viewport_size['width']} px"
    return visible[0]


def _in_view(locator):
    box = locator.bounding_box()
    return box is not None and box["width"] > 0 and box["x"] >= 0 and box["x"] < 10_000


@pytest.mark.parametrize("width", [PHONE, TABLET])
def test_menu_and_page_contents_open_on_phones_and_tablets(browser, site_url, width):
    tab = OfflinePage(browser, site_url, width=width)
    try:
        tab.open(site_url + FLOOR_PAGE)
        page = tab.page
        toc_link = page.locator(
            '#pst-primary-sidebar-modal a.reference.internal[href$="04_gradient_dynamics.html"]'
        ).first
        assert not toc_link.count(), "the menu is open before a click"
        _visible_toggle(page, "primary").click()
        page.wait_for_selector("#pst-primary-sidebar-modal[open]", timeout=5_000)
        assert toc_link.is_visible() and _in_view(toc_link), (
            f"the menu button did not show the table of contents at {width} px"
        )
        page.keyboard.press("Escape")
        page.wait_for_selector("#pst-primary-sidebar-modal:not([open])", state="attached")

        section_link = page.locator(
            '#pst-secondary-sidebar-modal a.nav-link[href="#deriving-the-floor"]'
        ).first
        _visible_toggle(page, "secondary").click()
        page.wait_for_selector("#pst-secondary-sidebar-modal[open]", timeout=5_000)
        assert section_link.is_visible() and _in_view(section_link), (
            f"the page-contents button did not show the page's sections at {width} px"
        )
        assert not tab.errors, tab.errors
    finally:
        tab.close()


def test_menu_button_hides_and_shows_the_sidebar_on_desktop(tab, site_url):
    tab.open(site_url + FLOOR_PAGE)
    page = tab.page
    sidebar = page.locator("#pst-primary-sidebar")
    toc_link = sidebar.locator('a.reference.internal[href$="04_gradient_dynamics.html"]').first
    assert toc_link.is_visible(), "the sidebar is not shown on desktop"
    contents = page.locator('#pst-secondary-sidebar a.nav-link[href="#deriving-the-floor"]')
    assert contents.first.is_visible(), "the page contents are not shown on desktop"
    toggle = _visible_toggle(page, "primary")
    toggle.click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility"
        " === 'hidden'",
        timeout=5_000,
    )
    article = page.locator("article.bd-article").bounding_box()
    toggle.click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility"
        " === 'visible'",
        timeout=5_000,
    )
    assert toc_link.is_visible(), "the menu button did not bring the sidebar back"
    assert article["x"] < 100, f"the article did not use the freed space: {article}"
    assert not tab.errors, tab.errors


# ------------------------------------------------------------------------------ tables, search
@pytest.mark.parametrize(("rel", "label"), TABLES, ids=[t[1] for t in TABLES])
def test_results_table_is_numbered_captioned_and_cited(tab, site_url, rel, label):
    if not (SITE / rel).is_file():
        pytest.fail(f"{rel} is missing from the built site")
    tab.open(site_url + rel)
    table = tab.page.locator(f"table#{label}")
    assert table.count() == 1, f"no numbered table #{label} on {rel} (rendered as HTML output?)"
    number = table.locator("caption .caption-number").inner_text().strip()
    assert re.fullmatch(r"Table \d+(\.\d+)*", number), f"table #{label} has no number: {number!r}"
    assert table.locator("caption .caption-text").inner_text().strip(), "table without caption"
    assert table.locator("tbody tr").count() >= 2, f"table #{label} has no rows"
    cites = tab.page.locator(f'a.reference.internal[href="#{label}"]')
    assert cites.count() and number in cites.first.inner_text(), (
        f"the prose of {rel} does not cite {number} with {{numref}}"
    )


def test_cifar_page_says_when_it_is_not_a_cifar10_result(tab, site_url):
    if not (SITE / CIFAR_PAGE).is_file():
        pytest.fail(f"{CIFAR_PAGE} is missing from the built site")
    tab.open(site_url + CIFAR_PAGE)
    page = tab.page
    first = page.locator("article section").first.locator(".admonition").first
    assert first.count(), "no admonition at the top of the CIFAR-10 page"
    above = page.evaluate(
        "() => { const a = document.querySelector('article section .admonition');"
        " const p = document.querySelector('article section > p');"
        " return !!a && (!p"
        " || (a.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING)); }"
    )
    assert above, "the run's admonition is not above the page's first paragraph"
    captions = page.locator("figure figcaption, table caption").all_inner_texts()
    assert len(captions) >= 4, f"expected the CIFAR page's figures and table: {captions}"
    if "warning" in (first.get_attribute("class") or ""):
        assert "not a CIFAR-10 result" in first.inner_text()
        bare = [c[:60] for c in captions if "Not a CIFAR-10 result" not in c]
        assert not bare, f"captions that could read as CIFAR-10 results: {bare}"
    else:
        assert all("CIFAR-10, full experiment" in c for c in captions), captions


def search_hits(tab, site_url, query):
    """Links of Sphinx's search results page for `query`, once the results have been
    rendered."""
    tab.open(site_url + "search.html?q=" + query.replace(" ", "+"))
    tab.page.wait_for_function(
        "() => { const s = document.querySelector('#search-results p.search-summary,"
        " #search-results > p');"
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
