"""The book's citations, in one style (issue 32, item 7): author-year everywhere, each reference's date once, and the
corrected note's byline not a heading.

- Every citation on every page reads author and year, "Rajasekharan Pillai (2019)" or "(Szegedy et al., 2016)", and
  links to its entry: no page cites by number ("[1]", "Pillai[1]"), with footnotes or labelled entries.
- Every entry of a reference list (the References page, each chapter's) is led by its authors and its date, and gives
  its year once (a link's text, a DOI, is not read): not "Note, October 23, 2019, October 2019".
- The note's author, on the corrected note, is a byline: not a heading, so neither in the page's contents nor in the
  PDF's bookmarks.

Here each detector is shown to catch what the book once showed; ``tests/test_site.py`` runs them on the book it
builds (one build for both).
"""
from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]

#: The note's author, as the corrected note's byline gives the name (the transcription's second line).
AUTHOR = "Murali Krishnan Rajasekharan Pillai"
#: A year, as a word of a reference's text.
YEAR = re.compile(r"(?<![\w.:/-])(1[5-9]\d\d|20\d\d)(?![\w/-])")
#: A numeric citation in running text: "Pillai[1]", "[1]", "[2, 3]", "[1–3]".
NUMERIC = re.compile(r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]")
#: An entry of a reference list: authors, then the date in parentheses ("(2019, October 23)"), then a full stop.
LED_BY_AUTHOR_AND_YEAR = re.compile(r"[^()\d]+ \((?:1[5-9]|20)\d\d(?:, [A-Z][a-z]+ \d{1,2})?\)\. \S")
#: An author-year citation's text: "Rajasekharan Pillai (2019)", "(Szegedy et al., 2016)", with post-text.
AUTHOR_YEAR = re.compile(r"\(?[^\W\d][^()\[\]\d]*(?:,| \()\s*(?:1[5-9]|20)\d\d[a-z]?(?:\)|[,;] [^\[\]]*\))")


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _article(soup: BeautifulSoup):
    """The page's own text: the article, without code, math and scripts (where "[1]" may be an index)."""
    article = soup.find("article") or soup
    for tag in article.find_all(["script", "style", "pre", "code"]):
        tag.decompose()
    for tag in article.find_all(class_=re.compile(r"^(math|MathJax)")):
        tag.decompose()
    return article


def numeric_citations(html: str) -> list[str]:
    """What on a page cites by number: footnote references, labelled entries, a "[n]" in the prose of a paragraph that
    cites, a citation whose text is not author-year."""
    soup = _soup(html)
    found = [f"footnote reference {a.get_text()!r}" for a in soup.find_all(attrs={"role": "doc-noteref"})]
    found += [f"entry label {s.get_text()!r}" for s in soup.select("div.citation > span.label, aside.footnote")]
    found += [f"citation {c.get_text()!r}" for c in soup.select("span.bibtex-citation")
              if not AUTHOR_YEAR.fullmatch(" ".join(c.get_text().split()))]
    for p in _article(soup).find_all("p"):
        if p.find(class_=re.compile("bibtex-citation|footnote-reference|citation-reference")) or \
                p.find_parent(class_=re.compile("citation|footnote")):
            found += [f"{m[0]!r} in {p.get_text()[:80]!r}" for m in NUMERIC.finditer(p.get_text())]
    return found


def entries(html: str) -> list[str]:
    """The text of each entry of the page's reference lists, without its links' text (a DOI holds a year)."""
    soup = _soup(html)
    out = []
    for entry in soup.select('[role="doc-biblioentry"], aside.footnote'):
        for link in entry.select("a.reference.external"):
            link.decompose()
        out.append(" ".join(entry.get_text(" ").split()))
    return out


def date_problems(text: str) -> list[str]:
    """What is wrong with the date of one entry: a year given twice (or none), or not leading the entry."""
    years = YEAR.findall(text)
    found = [] if len(years) == 1 else [f"{len(years)} years {years}"]
    if not LED_BY_AUTHOR_AND_YEAR.match(text):
        found.append("not led by its authors and (year)")
    return found


def headed_byline(html: str) -> list[str]:
    """Headings, and entries of the page's contents, that give the note's author."""
    soup = _soup(html)
    found = [f"<{h.name}> {h.get_text(strip=True)!r}" for h in soup.find_all(re.compile(r"^h[1-6]$"))
             if "Rajasekharan Pillai" in h.get_text()]
    found += [f"contents entry {a.get_text(strip=True)!r}" for a in soup.select("nav a, .toc a, #jb-print-toc a")
              if "Rajasekharan Pillai" in a.get_text()]
    return found


# What the book showed before (issue 32): each detector catches it.
OLD_CHAPTER = ('<article><p>The note under audit is Rajasekharan Pillai<a class="footnote-reference brackets" '
               'href="#footcite-pillai2019softtargets" id="id1" role="doc-noteref"><span class="fn-bracket">[</span>1'
               '<span class="fn-bracket">]</span></a>.</p></article>')
OLD_ENTRY = ('<div class="citation" id="id2" role="doc-biblioentry"><span class="label"><span class="fn-bracket">[</span>'
             '1<span class="fn-bracket">]</span></span><p>Murali Krishnan Rajasekharan Pillai. Bonus 2: soft targets v/s '
             'label flipping. Note, October 23, 2019, October 2019.</p></div>')
OLD_TEXT_CITATION = '<article><p>as shown by <span class="bibtex-citation">Szegedy et al. [2016]</span>.</p></article>'
OLD_NOTE = ('<nav><ul><li><a class="reference internal nav-link" href="#murali-krishnan-rajasekharan-pillai">Murali '
            'Krishnan Rajasekharan Pillai</a></li></ul></nav><article><section id="murali-krishnan-rajasekharan-pillai">'
            '<h2>Murali Krishnan Rajasekharan Pillai<a class="headerlink" href="#x">#</a></h2><p>October 23, 2019</p>'
            '</section></article>')


def test_the_detectors_catch_what_the_book_showed():
    assert numeric_citations(OLD_CHAPTER) and numeric_citations(OLD_ENTRY)
    assert numeric_citations(OLD_TEXT_CITATION)                           # brackets, not parentheses
    assert numeric_citations('<article><p>Pillai[1] derives it <span class="bibtex-citation">(Szegedy et al., 2016)'
                             '</span>.</p></article>')
    assert date_problems(entries(OLD_ENTRY)[0])
    assert date_problems("Szegedy, C. (2016). Rethinking. In Proceedings of CVPR 2016, 2818–2826.")
    assert headed_byline(OLD_NOTE) == ["<h2> 'Murali Krishnan Rajasekharan Pillai#'", "contents entry "
                                       "'Murali Krishnan Rajasekharan Pillai'"]


def test_the_detectors_pass_author_year():
    ok = ('<article><p>The note <span class="bibtex-citation">Rajasekharan Pillai (<a href="#id5">2019</a>)</span>, '
          'smoothing <span class="bibtex-citation">(<a href="#id6">Szegedy et al., 2016</a>)</span>, calibration '
          '<span class="bibtex-citation">(<a href="#id7">Guo et al., 2017</a>, Section 3; Table 1)</span>, digits '
          '<span class="bibtex-citation">(<a href="#id8">Alpaydin and Kaynak, 1998</a>)</span>, the logits '
          '<span class="math">\\(z[1]\\)</span>.</p></article>')
    assert numeric_citations(ok) == []
    for text in ("Rajasekharan Pillai, M. K. (2019, October 23). Bonus 2: soft targets v/s label flipping. Note.",
                 'Szegedy, C., and Wojna, Z. (2016). Rethinking. In Proceedings of CVPR, 2818–2826. <a class="reference '
                 'external" href="https://doi.org/10.1109/CVPR.2016.308">doi:10.1109/CVPR.2016.308</a>.'):
        assert date_problems(entries(f'<div role="doc-biblioentry"><p>{text}</p></div>')[0]) == []
