"""The book (tools/book.py: Sphinx + myst-nb) in a real headless browser (Debian's Chromium), and its PDFs.

The site is built once from the committed notebooks into a temporary folder and
served on 127.0.0.1. One Chromium (tools/browser.py), with every other host
unresolvable, loads every page over ``http://127.0.0.1``, and the index and a
chapter (:data:`FILE_PAGES`) over ``file://``: one tab for each, going from page to
page (a tab per page cost Chromium twice the CPU), watched page by page (requests
sent, uncaught exceptions, console and logged errors). Each page's own script (``book/_static/book.js``) reports, after
MathJax 3 has typeset it, the formulas rendered, MathJax errors, images and the
resources loaded, the folds (a claim's checks: closed, their math typeset) and
every element wider than its column. Search runs for "softmax" both ways. The
corrected note, the overview and chapters 2 and 3 are printed to PDF; every PDF
page is rendered to an image with poppler's ``pdftoppm``, and its words are read
with ``pdftotext`` (the verdicts shown, words printed over each other). The
verdicts on every page and in every PDF are read back (tools/shown_verdicts.py)
and compared with the registry's. Each check is shown to catch a planted fault,
on a probe page: a line too wide, a table cell running into the next, a wrong
verdict. `make test` installs Chromium, npm and poppler first
(tools/ensure_system.sh).
"""
from __future__ import annotations

import functools
import http.server
import json
import os
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

from tools.browser import PROFILE_PREFIX, Browser
from tools.shown_verdicts import computed, in_html, in_pdf, overprinted, wrong

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.skipif(CHROMIUM is None or shutil.which("pdftoppm") is None,
                                 reason="chromium or pdftoppm not installed (make test installs them)"),
              # Sphinx 9's notices to extensions (myst-parser) about its next major version
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]
#: The pages printed to PDF in the test (``make pdf`` prints the whole book): the note's verdicts, every claim's
#: verdict and the errata (the overview), wide formulas (chapter 2), a chapter's views and table (chapter 3).
PRINTED = ("corrected_note.html", "00_overview.html", "02_soft_labels.html", "03_label_flipping.html")
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
    pdf_files: dict[str, Path] = field(default_factory=dict)
    overflow_probe: list[np.ndarray] = field(default_factory=list)
    probe_pdf: Path | None = None
    probe_overflow: list[str] = field(default_factory=list)          # overflow() on the probe page
    probe_fold_math: int = 0                                          # math typeset inside a closed fold
    left_behind: list[str] = field(default_factory=list)    # what the browser left once closed


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


#: What the probe page gets (the last page visited over http, then printed): a rule too wide for the column, a
#: verdict table whose claim id runs into the next column and whose verdict is wrong, a closed fold with math.
PROBE = r"""<div style="width:3000px;border-top:4px solid black"></div>
<table style="table-layout:fixed !important;width:420px !important"><thead><tr><th style="width:70px">claim</th>
<th>eq.</th><th>what</th><th>verdict</th></tr></thead><tbody><tr><td style="white-space:nowrap !important">
ch3.flip_one_minus_eps</td><td>4</td><td>x</td><td><strong>holds</strong></td></tr></tbody></table>
<details class="checks" id="probe-fold"><summary>probe</summary><ul><li>\(\epsilon(1-\epsilon)\)</li></ul></details>"""


def _pages(pdf: bytes, folder: Path, name: str) -> list[np.ndarray]:
    """Every page of the PDF rendered by pdftoppm, as a grey-level array (0 black, 255 white); written as PGM,
    which costs a quarter of the time PNG's compression does."""
    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(folder / f"{name}.pdf"), str(folder / name)], check=True)
    return [np.asarray(Image.open(p).convert("L")) for p in sorted(folder.glob(f"{name}-*.pgm"))]


def _probe(browser: Browser, tab: str, site: Site) -> None:
    """The probe's faults put into a chapter page (it loads MathJax), measured, and the page printed."""
    browser.evaluate(tab, f"document.querySelector('.bd-article').insertAdjacentHTML('afterbegin', {json.dumps(PROBE)})")
    site.probe_overflow = browser.evaluate(tab, "window.overflow()")
    site.probe_fold_math = browser.evaluate(
        tab, "MathJax.typesetPromise([document.getElementById('probe-fold')]).then(() => "
             "document.querySelectorAll('#probe-fold mjx-container').length)", wait=30)
    site.overflow_probe = _pages(browser.print_pdf(tab), site.out.parent, "probe")
    site.probe_pdf = site.out.parent / "probe.pdf"


def _visit(browser: Browser, site: Site, pages: dict[str, list[str]]) -> None:
    """One tab for each way (http, file) goes from page to page, each page's report, requests and errors read
    before the next; the pages of :data:`PRINTED` are printed on the way, the last of them then once more with
    the probe's faults (:data:`PROBE`); then each tab searches."""
    for how, names in pages.items():
        base, tab = site.bases[how], browser.open("about:blank", watch=True)
        for name in names:
            text = browser.visit(tab, base + name, "site-check")
            site.visits[(how, name)] = Visit(json.loads(text) if text else {}, browser.requests(tab), browser.errors(tab))
            if how == "http" and name in PRINTED:
                site.pdfs[name] = _pages(browser.print_pdf(tab), site.out.parent, name.removesuffix(".html"))
                site.pdf_files[name] = site.out.parent / f"{name.removesuffix('.html')}.pdf"
            if how == "http" and name == PRINTED[-1]:       # once printed, the page gets the probe's faults: each
                _probe(browser, tab, site)                  # check must see its own
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
        mine = f"{PROFILE_PREFIX}{os.getpid()}-"                 # other runs may share /tmp: only this one's
        s.left_behind = sorted(p.name for p in set(temp.iterdir()) - before if p.name.startswith(mine))
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


def test_every_verdict_on_a_page_is_the_computed_one(site):
    """Read as a reader reads them (tables by their header, views under their heading, the note's boxes): each
    verdict shown on a page of the book is the registry's; the overview shows every claim's."""
    verdicts = computed()
    seen = {}
    for page in site.pages:
        seen[page.name] = in_html(page.read_text(encoding="utf-8"), page.name)
    assert not wrong([s for shown in seen.values() for s in shown], verdicts)
    assert {s.claim for s in seen["00_overview.html"]} == set(verdicts), "the overview tabulates every claim"
    for page in site.pages:
        if re.match(r"0[1-9]_", page.name):
            chapter = {c for c in verdicts if c.startswith(f"ch{int(page.name[:2])}.")}
            views = {s.claim for s in seen[page.name] if s.where.endswith("view")}
            assert views == chapter, f"{page.name}: views without a verdict: {sorted(chapter - views)}"
    # the reader sees a wrong verdict when there is one: the probe page's table says 'holds' for an erratum
    probe = in_html(PROBE, "probe")
    assert wrong(probe, verdicts) == ["probe: table row: ch3.flip_one_minus_eps shows 'holds', computed 'erratum'"]


def test_every_verdict_in_the_pdf_is_the_computed_one(site):
    verdicts = computed()
    seen = {name: in_pdf(path, name) for name, path in site.pdf_files.items()}
    assert not wrong([s for shown in seen.values() for s in shown], verdicts)
    table = {s.claim for s in seen["00_overview.html"] if ": table" in s.where}
    assert table == set(verdicts), f"the overview's table in the PDF lacks {sorted(set(verdicts) - table)}"
    listed = {s.claim for s in seen["00_overview.html"] if ": errata" in s.where}
    assert listed == {c for c, v in verdicts.items() if v != "holds"}, "the overview's errata in the PDF"
    ch3 = {c for c in verdicts if c.startswith("ch3.")}
    for kind in ("table", "view"):
        shown = {s.claim for s in seen["03_label_flipping.html"] if f": {kind}" in s.where}
        assert shown == ch3, f"chapter 3's PDF: no verdict read for {sorted(ch3 - shown)} ({kind})"
    from tools.corrected_note import note_claims

    note = {s.claim for s in seen["corrected_note.html"] if "note box" in s.where}
    assert note == {c.id for c in note_claims()}, f"the corrected note's PDF: no box read for " \
                                                  f"{sorted({c.id for c in note_claims()} - note)}"
    # the planted table: its id runs into the next column, and its verdict is wrong; both are seen
    probe = wrong(in_pdf(site.probe_pdf, "probe"), verdicts)
    assert any("ch3.flip_one_minus_eps shows" in p for p in probe), probe


def test_no_word_in_the_pdf_is_printed_over_another(site):
    """A table cell that runs into the next one (chapter 3's claim ids did) prints words over words."""
    for name, path in site.pdf_files.items():
        assert not overprinted(path), f"{name}: {overprinted(path)[:5]}"
    assert any("ch3.flip_one_minus_eps" in o for o in overprinted(site.probe_pdf)), "the probe's overprint unseen"


def test_nothing_is_wider_than_its_column(site):
    """On screen: every block of every page fits its box, a displayed formula (which scrolls inside the column)
    fits the column; the probe's table cell, too narrow for its claim id, is seen."""
    for (how, name), v in site.visits.items():
        if name != "search.html":
            assert not v.report.get("overflow"), f"{how} {name}: wider than the column: {v.report['overflow'][:5]}"
    assert any("ch3.flip_one_minus_eps" in o for o in site.probe_overflow), site.probe_overflow   # the planted cell


def test_the_checks_are_folded_closed_with_their_math_typeset(site):
    """Every claim view's checks sit in a closed <details> (nothing of them in the reading flow); MathJax typesets
    math inside a closed fold (the probe), and none is left raw in any fold."""
    from bs4 import BeautifulSoup

    for page in site.pages:
        if not re.match(r"0[1-9]_", page.name):
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        views = soup.select("p[id^=claim-]")
        folds = soup.select("details.checks")
        assert views and len(folds) == len(views), f"{page.name}: {len(views)} views, {len(folds)} folds of checks"
        assert not any(f.has_attr("open") for f in folds), f"{page.name}: a fold is open"
        assert all(f.find("summary") and f.find("li") for f in folds), f"{page.name}: a fold without its list"
        flow = [e for e in soup.select(".cell_output li") if not e.find_parent("details")]
        assert not flow, f"{page.name}: a list item outside the folds: {flow[0].get_text()[:80]}"
        r = site.visits[("http", page.name)].report
        assert r["folds"] >= len(views) and r["folds_open"] == 0 and r["raw_math_in_folds"] == 0, (page.name, r)
        in_folds = sum(len(f.select("span.math, div.math")) for f in soup.select("details"))
        assert r["folds_with_math"] == sum(1 for f in soup.select("details") if f.select("span.math, div.math")), \
            f"{page.name}: of {in_folds} formulas in the folds, some were not typeset"
    assert site.probe_fold_math == 1, "MathJax did not typeset the math of a closed fold"


def test_the_browser_leaves_nothing_behind(site):
    """Its profile and its temporary files (a killed Chromium's singleton socket folder) go with it."""
    assert site.left_behind == []
