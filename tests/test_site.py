"""The offline site in a real headless browser (Debian's Chromium).

The site is built from the committed notebooks into a temporary folder and served
on 127.0.0.1; one Chromium (tools/browser.py) loads every page as soon as it is
written, each in its own tab, with every other host unresolvable. Each page's own
check script reports, after MathJax has finished, how many formulas rendered, any
MathJax errors, broken images and every resource the page loaded. `make test`
installs Chromium first (tools/ensure_system.sh).
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tools.browser import Browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make test installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The folder, its pages, the base URL, and each page's text of ``site-check``: every page is loaded in
    Chromium as soon as it is written (the next ones render while MathJax typesets it)."""
    from tools.build_html import build

    out = tmp_path_factory.mktemp("html")
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", executable=CHROMIUM) as browser:
            tabs = {}
            pages = build(ROOT / "notebooks", out, ROOT / "build" / "npm",
                          on_page=lambda page: tabs.setdefault(page.name, browser.open(base + page.name)))
            texts = {name: browser.text_of(tab, "site-check") for name, tab in tabs.items()}
        yield out, pages, base, texts
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def site_check(text: str | None) -> dict:
    assert text is not None, "the page's check script never reported (page did not load or MathJax never finished)"
    return json.loads(text)


@pytest.fixture(scope="module")
def reports(site):
    out, pages, base, texts = site
    assert sorted(texts) == sorted(p.name for p in pages)
    return {p.name: site_check(texts[p.name]) for p in pages}


def test_every_notebook_has_a_page(site):
    out, pages, _, _ = site
    assert {p.stem for p in pages} == {"index"} | {nb.stem for nb in (ROOT / "notebooks").glob("*.ipynb")}


def test_every_formula_renders_without_error(reports):
    for name, r in reports.items():
        assert r["mathjax"], f"{name}: MathJax did not load"
        assert r["formulas"] >= 1, f"{name}: no formula rendered"
        assert r["math_errors"] == 0, f"{name}: {r['math_errors']} MathJax error(s)"
        assert r["raw_tex_left"] == 0, f"{name}: unrendered $$ left in the text"


def test_every_image_loads(reports):
    for name, r in reports.items():
        assert not r["broken_images"], f"{name}: broken images {r['broken_images']}"
    chapters = [n for n in reports if n != "index.html"]
    assert all(reports[n]["images"] >= 1 for n in chapters if not n.startswith("00_")), "a chapter lost its figures"


def test_no_request_leaves_the_site(site, reports):
    _, _, base, _ = site
    for name, r in reports.items():
        outside = [u for u in r["resources"] if not u.startswith(base)]
        assert not outside, f"{name} requested {outside}"
        assert any("mathjax/" in u for u in r["resources"]), f"{name}: MathJax not served from the site folder"


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


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_internal_link_resolves(site):
    out, pages, _, _ = site
    parsed = {p.name: _parse(p) for p in pages}
    from urllib.parse import unquote
    for name, p in parsed.items():
        for href in p.links:
            if re.match(r"^[a-z]+:", href):          # external hyperlinks are not loaded by the page
                continue
            target, _, anchor = href.partition("#")
            target = target or name
            assert (out / target).exists(), f"{name}: link to missing {target}"
            if anchor and target in parsed:
                assert {anchor, unquote(anchor)} & parsed[target].ids, f"{name}: missing anchor #{anchor} in {target}"
        for src in p.loads:
            assert not re.match(r"^(https?:)?//", src), f"{name} loads {src} from outside the site"
