"""The book of a rerun of some chapters (tools/run_notebooks.py --html): it builds the first time (Sphinx with
warnings as errors, into a clean folder), links only to what it holds, and every page opens with the run's values."""
from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from derivations.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.order = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ids.add(a.get("id", ""))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        classes = (a.get("class", "") or "").split()
        if "bd-header-announcement" in classes or tag == "main" or "rerun-banner" in classes:
            self.order.append("main" if tag == "main" else "rerun-banner" if "rerun-banner" in classes else "banner")


@pytest.fixture(scope="module")
def rerun_book(tmp_path_factory):
    """Chapter 1 alone (its committed notebook as a rerun would leave it), built as `make run K=37 CHAPTERS=1` does."""
    from book.builder import build
    from tools.run_notebooks import banner

    notebooks = tmp_path_factory.mktemp("run")
    shutil.copy(ROOT / CHAPTERS[1].path, notebooks)
    out = notebooks / "html"
    build(notebooks, out, ROOT / "build" / "npm", announcement=banner({"K": 37}, [1], "build/runs/K=37"))
    return out


def test_every_page_opens_with_the_values(rerun_book):
    pages = sorted(rerun_book.glob("*.html"))
    assert {"index.html", "01_hard_labels.html", "corrected_note.html"} <= {p.name for p in pages}
    for page in pages:
        p = _Page()
        text = page.read_text(encoding="utf-8")
        p.feed(text)
        assert p.order[:3] == ["banner", "rerun-banner", "main"], f"{page.name}: the banner is not at the top"
        assert "A rerun with your values: <code>K=37</code> (chapter 1;" in text, page.name
        assert "build/runs/K=37/" in text, page.name


def test_no_link_leads_out_of_the_rerun(rerun_book):
    names = {p.name for p in rerun_book.glob("*.html")}
    assert not any(n.startswith(("02", "03", "04", "05", "00")) for n in names)
    for page in rerun_book.glob("*.html"):
        p = _Page()
        p.feed(page.read_text(encoding="utf-8"))
        for href in p.links:
            if re.match(r"^[a-z]+:", href) or href.startswith("#"):
                continue
            target = href.split("#")[0].split("?")[0]
            assert (rerun_book / target).exists(), f"{page.name}: link to missing {target}"
    note = (rerun_book / "corrected_note.html").read_text(encoding="utf-8")
    assert "not linked, since they are not in it" in note
    assert "chapter 2 is not in this rerun" in note and "chapter 3 is not in this rerun" in note
    assert "01_hard_labels.html#claim-ch1-" in note                # chapter 1's claims are linked
