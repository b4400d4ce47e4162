"""The book (tools/book.py: Sphinx + myst-nb) in a real headless browser (Debian's Chromium), and its PDFs.

The site is built once from the committed notebooks into a temporary folder and
served on 127.0.0.1. One Chromium (tools/browser.py), with every other host
unresolvable, loads every page over ``http://127.0.0.1``, and the index and a
chapter (:data:`FILE_PAGES`) over ``file://``: one tab for each, going from page to
page (a tab per page cost Chromium twice the CPU), watched page by page (requests
sent, uncaught exceptions, console and logged errors). Each page's own script (``book/_static/book.js``) reports, after
MathJax 3 has typeset it, the formulas rendered, MathJax errors, images and the
resources loaded. Search runs for "softmax" both ways. The corrected note and
chapter 2 are printed to PDF, and every PDF page is rendered to an image with
poppler's ``pdftoppm``. `make test` installs Chromium, npm and poppler first
(tools/ensure_system.sh).
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from tools.browser import Browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.skipif(CHROMIUM is None or shutil.which("pdftoppm") is None,
                                 reason="chromium or pdftoppm not installed (make test installs them)"),
              # Sphinx 9's notices to extensions (myst-parser) about its next major version
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]
#: The pages printed to PDF in the test (``make pdf`` prints the whole book).
PRINTED = ("corrected_note.html", "02_soft_labels.html")
#: The pages loaded over ``file://`` too: the index, the lightest chapter with figures and formulas, and the search
#: page. Every page shares the same templates and static files, which http has checked on each; what ``file://`` can
#: break (relative resources, scripts, MathJax's fonts, search) shows on these.
FILE_PAGES = ("index.html", "05_real_data.html")
#: Resolution of the rendered pages (dots per inch), and the right-hand strip that must stay blank (inches).
DPI, STRIP = 50, 0.4

# resolves to the hrefs of the search results once the search has finished (null after 20 s)
SEARCH_RESULTS = """new Promise(resolve => {
  const end = Date.now() + 20000;
  (function poll() {
    const links = Array.from(document.querySelectorAll('#search-results ul.search li a'));
    const done = /finished|found/i.test((document.querySelector('#search-results') || {}).innerText || '');
    if (links.length && done) resolve(links.map(a => a.getAttribute('href')));
    else if (Date.now() > end) resolve(null); else setTimeout(poll, 50);
  })();
})"""


@dataclass
class Visit:
    """What one tab saw: its page's check report, the requests it sent, its errors."""

    report: dict
    requests: list[str]
    errors: list[str]


@dataclass
class Site:
    out: Path
    pages: list[Path]
    bases: dict[str, str]                                   # "http" / "file" -> base URL
    visits: dict[tuple[str, str], Visit] = field(default_factory=dict)
    search: dict[str, list[str] | None] = field(default_factory=dict)
    pdfs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    overflow_probe: list[np.ndarray] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)    # what the browser left once closed


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _pages(pdf: bytes, folder: Path, name: str) -> list[np.ndarray]:
    """Every page of the PDF rendered by pdftoppm, as a grey-level array (0 black, 255 white); written as PGM,
    which costs a quarter of the time PNG's compression does."""
    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(folder / f"{name}.pdf"), str(folder / name)], check=True)
    return [np.asarray(Image.open(p).convert("L")) for p in sorted(folder.glob(f"{name}-*.pgm"))]


def _visit(browser: Browser, site: Site, pages: dict[str, list[str]]) -> None:
    """One tab for each way (http, file) goes from page to page, each page's report, requests and errors read
    before the next; the pages of :data:`PRINTED` are printed on the way, then a page with a line too wide for
    its column; then each tab searches."""
    for how, names in pages.items():
        base, tab = site.bases[how], browser.open("about:blank", watch=True)
        for name in names:
            text = browser.visit(tab, base + name, "site-check")
            site.visits[(how, name)] = Visit(json.loads(text) if text else {}, browser.requests(tab), browser.errors(tab))
            if how == "http" and name in PRINTED:
                site.pdfs[name] = _pages(browser.print_pdf(tab), site.out.parent, name.removesuffix(".html"))
        if how == "http":                     # the last page with a line too wide for the column: the check must see it
            browser.evaluate(tab, "document.querySelector('main').insertAdjacentHTML('afterbegin', "
                                  "'<div style=\"width:3000px;border-top:4px solid black\"></div>')")
            site.overflow_probe = _pages(browser.print_pdf(tab), site.out.parent, "probe")
        browser.visit(tab, base + "search.html?q=softmax", "site-check")
        site.search[how] = browser.evaluate(tab, SEARCH_RESULTS, wait=30)
        site.visits[(how, "search.html")] = Visit({}, browser.requests(tab), browser.errors(tab))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The book built once, every page visited over http and file, two pages printed."""
    from tools.book import build

    out = tmp_path_factory.mktemp("book") / "html"
    pages = build(ROOT / "notebooks", out, ROOT / "build" / "npm")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    s = Site(out, pages, {"http": f"http://127.0.0.1:{server.server_address[1]}/", "file": out.as_uri() + "/"})
    try:
        temp = Path(tempfile.gettempdir())
        before = set(temp.iterdir())
        with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", executable=CHROMIUM) as browser:
            _visit(browser, s, {how: [p.name for p in pages if how == "http" or p.name in FILE_PAGES]
                                for how in s.bases})
        s.left_behind = sorted(p.name for p in set(temp.iterdir()) - before if "chrom" in p.name.lower())
        yield s
    finally:
        server.shutdown()


def test_every_notebook_is_a_page_in_reading_order(site):
    names = [p.name for p in site.pages]
    notebooks = sorted(nb.stem + ".html" for nb in (ROOT / "notebooks").glob("*.ipynb"))
    assert names[0] == "index.html" and names[1:1 + len(notebooks)] == notebooks
    assert {"corrected_note.html", "references.html"} <= set(names)


def test_navigation_sidebar_and_previous_next(site):
    for i, page in enumerate(site.pages):
        html = page.read_text(encoding="utf-8")
        nav = html[html.index('class="bd-sidebar-primary'):]
        for other in site.pages[1:]:
            if other == page:                             # the page itself is marked current, its link "#"
                continue
            assert f'href="{other.name}"' in nav, f"{page.name}: sidebar lacks {other.name}"
        if i + 1 < len(site.pages):
            assert re.search(rf'class="right-next"\s+href="{re.escape(site.pages[i + 1].name)}"', html), page.name
        if i > 0:
            assert re.search(r'class="left-prev"\s+href="', html), f"{page.name}: no previous link"


def test_every_formula_renders_without_error(site):
    for (how, name), v in site.visits.items():
        if name == "search.html":
            continue
        r = v.report
        assert r, f"{how} {name}: the page's check never reported (not loaded, or MathJax never finished)"
        if name not in ("index.html", "references.html"):
            assert r["mathjax"] and r["formulas"] >= 1, f"{how} {name}: no formula rendered"
        assert r["math_errors"] == 0, f"{how} {name}: {r['math_errors']} MathJax error(s)"
        assert r["raw_tex_left"] == 0, f"{how} {name}: unrendered $$ left in the text"


def test_every_image_loads(site):
    for (how, name), v in site.visits.items():
        assert not v.report.get("broken_images"), f"{how} {name}: broken images {v.report['broken_images']}"
    chapters = [name for how, name in site.visits if re.match(r"0[1-9]", name)]
    assert chapters and all(site.visits[("http", n)].report["images"] >= 1 for n in chapters), "a chapter lost its figures"


def test_no_request_leaves_the_site(site):
    for (how, name), v in site.visits.items():
        base = site.bases[how]
        seen = v.requests + v.report.get("resources", [])
        outside = [u for u in seen if not u.startswith(base)]
        assert not outside, f"{how} {name} requested {outside}"
        if v.report.get("formulas"):
            assert any("/_static/mathjax/" in u for u in seen), f"{how} {name}: MathJax not served from the site"


def test_no_page_throws_a_javascript_error(site):
    for (how, name), v in site.visits.items():
        assert not v.errors, f"{how} {name}: {v.errors}"


def test_search_finds_the_overview_for_softmax(site):
    for how, hits in site.search.items():
        assert hits, f"search over {how}: no result for 'softmax'"
        assert any(h.split("?")[0].split("#")[0].endswith("00_overview.html") for h in hits), f"{how}: {hits}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.loads = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src",) if tag in ("script", "img", "iframe") else ("href",) if tag == "link" else ():
            if a.get(key):
                self.loads.append(a[key])


def test_every_internal_link_resolves(site):
    parsed = {}
    for page in site.out.glob("*.html"):
        parsed[page.name] = p = _Links()
        p.feed(page.read_text(encoding="utf-8"))
    for name, p in parsed.items():
        for href in p.links:
            if re.match(r"^[a-z]+:", href):          # external hyperlinks (the bibliography's DOIs) are not loaded
                continue
            target, _, anchor = href.partition("#")
            target = target.split("?")[0] or name
            assert (site.out / target).exists(), f"{name}: link to missing {target}"
            if anchor and target in parsed:
                assert {anchor, unquote(anchor)} & parsed[target].ids, f"{name}: missing anchor #{anchor} in {target}"
        for src in p.loads:
            assert not re.match(r"^(https?:)?//", src), f"{name} loads {src} from outside the site"


def test_corrected_note_marks_every_claim_that_quotes_the_note(site):
    from derivations.engine.registry import run
    from tools.corrected_note import note_claims

    html = (site.out / "corrected_note.html").read_text(encoding="utf-8")
    boxes = html.split('<div class="verdict ')[1:]
    for c in note_claims():
        anchor = "claim-" + re.sub(r"[^a-z0-9]+", "-", c.id.lower())
        mine = [b for b in boxes if f'#{anchor}"' in b.split("</div>")[0]]
        assert len(mine) == 1, f"{c.id}: {len(mine)} verdict boxes on the corrected note"
        assert f'<span class="mark">{run(c).verdict.value}</span>' in mine[0], f"{c.id}: verdict missing"
        if c.corrected and run(c).verdict.value != "holds":
            assert "Corrected" in mine[0] or "General form" in mine[0], f"{c.id}: no correction beside it"


def test_corrected_note_cites_and_the_bibliography_lists(site):
    refs = (site.out / "references.html").read_text(encoding="utf-8")
    for words in ("Rethinking the Inception", "When Does Label Smoothing Help", "DisturbLabel", "Soft Targets"):
        assert words.lower() in refs.lower(), words
    for page in site.pages:
        html = page.read_text(encoding="utf-8")
        if re.match(r"\d\d_", page.name):                  # each chapter: its own references section
            assert 'id="references"' in html and 'id="footcite-' in html, f"{page.name}: no references section"
        if page.name in ("index.html", "corrected_note.html"):
            assert 'href="references.html#id' in html, f"{page.name}: the note is not cited"


def test_pdf_pages_have_content_and_nothing_crosses_the_right_margin(site):
    strip = int(STRIP * DPI)
    assert set(site.pdfs) == set(PRINTED)
    for name, pages in site.pdfs.items():
        assert pages, f"{name}: no PDF page"
        for i, page in enumerate(pages, 1):
            assert (page < 128).sum() > 200, f"{name}, page {i}: blank"
            assert (page[:, -strip:] < 230).sum() == 0, f"{name}, page {i}: ink in the right margin (cut off)"
    # the check sees an overflow when there is one: a rule 3000 px wide reaches into the strip
    assert any((page[:, -strip:] < 230).sum() > 0 for page in site.overflow_probe)


def test_the_browser_leaves_nothing_behind(site):
    """Its profile and its temporary files (a killed Chromium's singleton socket folder) go with it."""
    assert site.left_behind == []
