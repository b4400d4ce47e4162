"""What a reader sees: every verdict shown on a rendered surface, read back as a reader reads it.

    python -m audit.shown_verdicts [FILE ...]     (default: every surface but the built book, :func:`check`)

Each surface is read without the code that made it: a notebook's stored outputs
(``text/markdown`` rendered by markdown-it-py as GitHub reads a table: cells split at
every unescaped ``|``, math or not; ``text/plain`` as printed), a page of the built book
(its HTML), a PDF (poppler's ``pdftotext``: its words and their positions). A verdict
is found where a reader finds it:

* a table with a *claim* and a *verdict* column: the verdict cell of each claim's row
  (the columns by their header, by position in a PDF or a fixed-width text table);
* a claim's view: its heading, ``id · verdict · title`` (the id first in its paragraph or line);
* a list of errata: a line or paragraph that opens with the verdict, then `` · `` and the id;
* the corrected note: a box's mark, before `` — ``, and the id in its link;
* a prose page (README.md, docs/, book/): a line naming one claim id with a verdict after it, and the
  report's summary line, "47 claims: 35 holds, ...".

:func:`wrong` compares what was read with the registry's computed verdicts
(:func:`derivations.engine.registry.run`): anything else shown in a verdict's place
(``x)'`` from a split cell, a stale verdict) is reported with where it was seen.
Every verdict is read as a word: *holds*, *holds under an assumption*, *erratum*, and
*undecided* (a statistical claim the evidence neither confirms nor refutes).
Exit status 1 when a shown verdict differs.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["Shown", "in_html", "in_markdown", "in_plain", "in_pdf", "in_notebook", "in_prose", "of_outcomes",
           "computed", "wrong", "check", "main"]

#: A claim id as the pages write it.
CLAIM_ID = re.compile(r"\bch\d+\.[a-z][a-z0-9_]*[a-zA-Z0-9]\b")
_ID_ONLY = re.compile(rf"^{CLAIM_ID.pattern}$")


@dataclass(frozen=True)
class Shown:
    """One verdict as a reader sees it: ``where`` (surface and place), the claim's id, the words shown."""

    where: str
    claim: str
    text: str


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).strip(" .:*")


# -- HTML (the book's pages; a notebook's Markdown, rendered) ------------------------------------------
def in_html(html: str, where: str) -> list[Shown]:
    """The verdicts on an HTML page: verdict tables, claim views, errata, the corrected note's boxes."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    out = []
    for table in soup.find_all("table"):
        heads = [_norm(th.get_text(" ")).lower() for th in table.find_all("th")]
        if "claim" not in heads or "verdict" not in heads:
            continue
        i_claim, i_verdict = heads.index("claim"), heads.index("verdict")
        for tr in table.find_all("tr"):
            cells = [_mark(td) for td in tr.find_all("td")]
            if len(cells) > i_claim and _ID_ONLY.match(cells[i_claim]):
                out.append(Shown(f"{where}: table row", cells[i_claim],
                                 cells[i_verdict] if len(cells) > i_verdict else "(no verdict cell)"))
    for p in soup.find_all("p"):
        first = _first(p)
        text = _norm(p.get_text(" "))
        if getattr(first, "name", None) == "strong" and _ID_ONLY.match(_norm(first.get_text())):   # a claim view
            mark = p.find("span", class_="verdict-mark")
            out.append(Shown(f"{where}: view", _norm(first.get_text()), _mark(mark) if mark else
                             "(no verdict in its heading)"))
        elif getattr(first, "name", None) == "span" and "verdict-mark" in (first.get("class") or []) and (
                errata := _ERRATUM.match(_mark(p))):                                          # a list of errata
            out.append(Shown(f"{where}: errata", errata["id"], _mark(first)))
        mark = p.find("span", class_="mark")
        if mark is not None:                                                       # the corrected note's box
            link = CLAIM_ID.findall(text.split(" — ", 1)[-1])
            if link:
                out.append(Shown(f"{where}: note box", link[-1], _norm(mark.get_text(" "))))
    return out


def _first(p):
    """The first child of a paragraph a reader sees: not blank text, not an empty anchor (``<a name>``)."""
    return next((c for c in p.children if (c.strip() if isinstance(c, str) else c.get_text().strip())), None)


#: The coloured dot a verdict's badge carries for GitHub (derivations.engine.display.badge): not a word a reader reads.
#: Blue is *undecided*'s.
_DOTS = "🟢🟡🔴🔵"


def _mark(element) -> str:
    """An element's text as a reader reads it, without a badge's coloured dot."""
    return _norm("".join(ch for ch in element.get_text(" ") if ch not in _DOTS))


def in_markdown(markdown: str, where: str) -> list[Shown]:
    """A notebook's Markdown output as GitHub renders a table (markdown-it-py, CommonMark with GFM tables; no
    math extension, so a ``|`` in ``$..$`` splits the row there as it does on GitHub)."""
    from markdown_it import MarkdownIt

    return in_html(MarkdownIt("commonmark").enable("table").render(markdown), where)


# -- plain text (text/plain outputs, the terminal, a PDF's text) ----------------------------------------
_HEADING = re.compile(rf"^(?P<id>{CLAIM_ID.pattern}) · (?P<shown>[^·]+?) · ")
_ERRATUM = re.compile(rf"^(?P<shown>[^·\n]+?) · `?(?P<id>{CLAIM_ID.pattern})`? ?: ")


def _columns(header: str) -> list[tuple[str, int]]:
    """The column names of a fixed-width table's header line, with where each starts."""
    return [(m[0].lower(), m.start()) for m in re.finditer(r"\S+(?: \S+)*", header)]


def in_plain(text: str, where: str) -> list[Shown]:
    """The verdicts in plain text: fixed-width tables (a header naming *claim* and *verdict*), claim views
    (``id · verdict · title``), errata (``verdict · id: title (...)``), note boxes."""
    out, columns = [], None
    lines = text.splitlines()
    for n, line in enumerate(lines):
        cols = _columns(line)
        names = [c for c, _ in cols]
        if "claim" in names and "verdict" in names:                # a table's header: its columns from here on
            columns = cols
            continue
        row = CLAIM_ID.search(line) if columns else None
        if row:                                      # a row: its verdict runs from its column to the next column's
            starts = dict(columns)                   # start, or to the claim id when the verdict comes first
            ends = {c: (columns[i + 1][1] if i + 1 < len(columns) else None) for i, (c, _) in enumerate(columns)}
            end = row.start() if starts["verdict"] < starts["claim"] else ends["verdict"]
            out.append(Shown(f"{where}: table, line {n + 1}", row[0], _norm(line[starts["verdict"]:end])))
            continue
        if line.strip() == "":
            columns = None if columns and (n + 1 == len(lines) or not lines[n + 1].strip()) else columns
        head = _HEADING.match(line)
        if head:
            out.append(Shown(f"{where}: view, line {n + 1}", head["id"], _norm(head["shown"])))
            continue
        erratum = _ERRATUM.match(line)
        if erratum:
            out.append(Shown(f"{where}: errata, line {n + 1}", erratum["id"], _norm(erratum["shown"])))
    return out


# -- PDF ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


#: A page, or a word with its box, in poppler's ``pdftotext -bbox`` output (one element per line, attributes in
#: this order: its fixed format, read without an HTML parser, which took seconds on a book's chapter).
_BBOX = re.compile(r'<page |<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>')


def pdf_words(pdf: Path) -> list[_Word]:
    """Every word of the PDF with its box (poppler's ``pdftotext -bbox``), in reading order; read once per file
    and version (:func:`_words_of`)."""
    st = Path(pdf).stat()
    return _words_of(str(pdf), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _words_of(pdf: str, mtime_ns: int, size: int) -> list[_Word]:
    out = subprocess.run(["pdftotext", "-bbox", pdf, "-"], check=True, capture_output=True, text=True).stdout
    words, page = [], 0
    for m in _BBOX.finditer(out):
        if m[1] is None:
            page += 1
        else:
            words.append(_Word(page, float(m[1]), float(m[2]), float(m[3]), float(m[4]), unescape(m[5])))
    return words


def _lines_of(words: list[_Word]) -> list[list[_Word]]:
    """The words grouped into lines (same page, vertical centres within half a line), left to right."""
    lines: list[list[_Word]] = []
    for w in sorted(words, key=lambda w: (w.page, (w.y0 + w.y1) / 2, w.x0)):
        if lines and lines[-1][0].page == w.page and abs((lines[-1][0].y0 + lines[-1][0].y1) / 2 - (w.y0 + w.y1) / 2) \
                < 0.5 * (w.y1 - w.y0):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


#: The foot of a printed sheet: its page's title, "page N of M"
_FOOT = re.compile(r"· page \d+ of \d+$")


def in_pdf(pdf: Path, where: str) -> list[Shown]:
    """The verdicts in a PDF: its tables read by the words' positions (the verdict column starts at its header
    word; a row runs until the next claim id in the claim column, through the lines that have words only right
    of it), the rest as plain text."""
    out = []
    lines = [ln for ln in _lines_of(pdf_words(pdf))                 # each sheet's foot (book/builder.py: PRINTED)
             if not _FOOT.search(" ".join(w.text for w in ln))]
    columns = None
    rows: list[tuple[str, list[_Word], int]] = []
    for line in lines:
        texts = [w.text.lower() for w in line]
        if "claim" in texts and "verdict" in texts and len(texts) <= 6:            # a header (repeated on each page)
            x = {t: w.x0 for t, w in zip(texts, line)}
            starts = sorted(x.values())
            after = {t: min((v for v in starts if v > x[t]), default=float("inf")) for t in ("claim", "verdict")}
            columns = (x["claim"], after["claim"], x["verdict"], after["verdict"])
            continue
        if columns is None:
            continue
        x_claim, x_claim_end, x_verdict, x_verdict_end = columns
        ids = [w for w in line if _ID_ONLY.match(w.text) and x_claim - 8 <= w.x0 < x_claim_end]
        if ids:                                                                    # a new row
            rows.append((ids[0].text, [], ids[0].page))
            if ids[0].x1 > x_claim_end + 1:                                    # the id runs into the next column
                rows[-1][1].append(_Word(ids[0].page, 0, 0, 0, 0, f"(id runs into the next column: {ids[0].text})"))
        elif not rows or not any(x_verdict - 1 <= w.x0 < x_verdict_end - 2 or w.x0 >= x_claim_end - 2 for w in line):
            columns = None                             # a line that is not a row's continuation: the table ended
            continue
        if rows:
            rows[-1][1].extend(w for w in line if x_verdict - 1 <= w.x0 < x_verdict_end - 2)
    for claim, words, page in rows:
        out.append(Shown(f"{where}: table on page {page}", claim,
                         _norm(" ".join(w.text for w in words if w.text not in _DOTS))))
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    out += [s for s in in_plain(text, where) if ": table" not in s.where]
    out += [Shown(f"{where}: note box", claim, shown) for shown, claim in _note_boxes(text)]
    return out


#: A corrected note box's title line in a PDF's text: its verdict, " — ", its title, and where it is checked,
#: "(ch1 eq8 · ch1.loss_others_zero)". MathJax 4 prints a formula's glyphs as text: a formula in the title spreads
#: it over lines, sub- and superscripts on lines of their own, and the claim id may come before "(ch1 eq8 ·".
_BOX_START = re.compile(r"(?m)(?:^|\f)(?P<shown>[^\n\f—·]{1,40}?) — ")
_BOX_WHERE = re.compile(r"\(ch\d+\s+(?:eq|\+)\d+\s*·")
_BOX_ID = re.compile(rf"(?:·\s*|\n)(?P<id>{CLAIM_ID.pattern})\)")


def _note_boxes(text: str) -> list[tuple[str, str]]:
    r"""The (verdict, claim id) of each corrected note box in a PDF's text: a title line's verdict, and the claim
    id closing its "(chN eqM · id)", wherever the formulas of the title put it before the next title line.

    >>> _note_boxes("holds — The softmax (ch1 eq1 · ch1.softmax)\nbody\nerratum — The step to log(e\n"
    ...             "1\nch1.loss_others_zero)\n−\n1) (ch1 eq8 ·\nAssumption")
    [('holds', 'ch1.softmax'), ('erratum', 'ch1.loss_others_zero')]
    """
    starts = list(_BOX_START.finditer(text))
    found = []
    for m, after in zip(starts, [*starts[1:], None]):
        segment = text[m.end():after.start() if after else len(text)]
        where, claim = _BOX_WHERE.search(segment), _BOX_ID.search(segment)
        if where and claim and claim.start() < where.end() + 200:
            found.append((_norm(m["shown"]), claim["id"]))
    return found


#: A glyph of a typeset formula, which MathJax 4 prints as text: a letter of Unicode's mathematical alphabets (its
#: variables, 𝐾, 𝛼), an arrow or a mathematical operator (→, −, ∑, ∈). In a formula glyphs overlap by design: a subscript under
#: a superscript, a limit under a sum.
_MATH_GLYPH = re.compile("[\U0001D400-\U0001D7FF\u2190-\u21FF\u2200-\u22FF\u2032-\u2034\u27E8-\u27E9\u2016]")


def overprinted(pdf: Path) -> list[str]:
    """Words of the PDF printed over each other on one line (a table cell running into the next one): each
    pair whose boxes overlap by more than a third of the narrower word's width, a formula's glyphs set aside
    (:data:`_MATH_GLYPH`).

    >>> _MATH_GLYPH.search("𝐾") is not None, _MATH_GLYPH.search("ch3.flip_one_minus_eps") is None
    (True, True)
    """
    out = []
    for line in _lines_of([w for w in pdf_words(pdf) if not _MATH_GLYPH.search(w.text)]):
        for a, b in zip(line, line[1:]):
            overlap = a.x1 - b.x0
            if overlap > min(a.x1 - a.x0, b.x1 - b.x0) / 3:
                out.append(f"page {a.page}: {a.text!r} runs into {b.text!r}")
    return out


# -- prose pages ----------------------------------------------------------------------------------------
_PROSE_ID = re.compile(r"(?<![\w.])(ch\d+\.[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9])")
_PROSE_VERDICT = re.compile(r"\b(holds under an assumption|holds|erratum|undecided)\b", re.I)
_SUMMARY = re.compile(r"\d+ claims: \d+ holds, \d+ holds under an assumption, \d+ erratum(?:, \d+ undecided)?")
#: The claim of a :class:`Shown` that is the report's summary line, not one claim's verdict.
SUMMARY = "(summary)"


def in_prose(text: str, where: str) -> list[Shown]:
    """The verdicts quoted in a prose page: each line naming exactly one claim id with a verdict after it (a table
    row, a sentence), and each summary line of ``python -m derivations``.

    >>> [(s.claim, s.text) for s in in_prose("| `ch3.same_q` | 5 | same q | **ERRATUM** |\\nch1.softmax, ch1.x hold"
    ...                                       "\\n3 claims: 1 holds, 1 holds under an assumption, 1 erratum", "p")]
    [('ch3.same_q', 'erratum'), ('(summary)', '3 claims: 1 holds, 1 holds under an assumption, 1 erratum')]
    """
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        ids = list(_PROSE_ID.finditer(line))
        verdict = _PROSE_VERDICT.search(line, ids[0].end()) if len(ids) == 1 else None
        if verdict:
            out.append(Shown(f"{where}: line {n}", ids[0][1], verdict[1].lower()))
        out += [Shown(f"{where}: line {n}", SUMMARY, m[0]) for m in _SUMMARY.finditer(line)]
    return out


def _summary(verdicts: dict[str, str]) -> str:
    counts = {v: sum(x == v for x in verdicts.values()) for v in ("holds", "holds under an assumption", "erratum",
                                                                 "undecided")}
    return f"{len(verdicts)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n or v != "undecided")


# -- notebooks ------------------------------------------------------------------------------------------
def in_notebook(path: Path) -> tuple[list[Shown], list[Shown]]:
    """The verdicts in a notebook's stored outputs: (in its Markdown outputs, in its plain-text outputs)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    md, text = [], []
    for i, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            where = f"{Path(path).name} cell {i}"
            if "text/markdown" in data:
                md += in_markdown("".join(data["text/markdown"]), where + " (Markdown)")
            if "text/plain" in data:
                text += in_plain("".join(data["text/plain"]), where + " (text)")
            if output.get("output_type") == "stream":
                text += in_plain("".join(output["text"]), where + " (printed)")
    return md, text


# -- the comparison -------------------------------------------------------------------------------------
def computed() -> dict[str, str]:
    """Every claim's computed verdict, as the views name it (the registry's, run)."""
    import derivations.chapters  # noqa: F401  (the chapters' claims)
    from derivations.engine.registry import claims, run

    return {c.id: run(c).verdict.value for c in claims()}


def wrong(shown: list[Shown], verdicts: dict[str, str]) -> list[str]:
    """Each shown verdict that is not its claim's computed one (case aside: ERRATUM and erratum are one), and
    each id shown that the registry does not hold."""
    out = []
    for s in shown:
        if s.claim == SUMMARY:
            if s.text != _summary(verdicts):
                out.append(f"{s.where}: {s.text!r}, computed {_summary(verdicts)!r}")
        elif s.claim not in verdicts:
            out.append(f"{s.where}: {s.claim} is not a registered claim")
        elif s.text.lower() != verdicts[s.claim].lower():
            out.append(f"{s.where}: {s.claim} shows {s.text!r}, computed {verdicts[s.claim]!r}")
    return out


def of_outcomes(outcomes) -> dict[str, list[Shown]]:
    """What the library shows of these outcomes, read back: the verdict table, the claims' views and the errata
    (each in Markdown, as GitHub renders it, and as plain text), the terminal report, the corrected note's boxes."""
    from markdown_it import MarkdownIt

    from book.corrected_note import box
    from derivations.engine.display import ClaimView, ErrataView, VerdictTable
    from derivations.engine.report import as_rows, format_table

    table, views, listed = VerdictTable(outcomes), [ClaimView(o) for o in outcomes], ErrataView(outcomes)
    boxes = "\n\n".join("\n".join(box(o, quoted=True, linked=False).splitlines()[3:-1]) for o in outcomes)   # each box's body
    return {"table (Markdown)": in_markdown(table._repr_markdown_(), "table"),
            "table (text)": in_plain(repr(table), "table"),
            "views (Markdown)": in_markdown("\n\n".join(v._repr_markdown_() for v in views), "views"),
            "views (text)": in_plain("\n\n".join(repr(v) for v in views), "views"),
            "errata (Markdown)": in_markdown(listed._repr_markdown_(), "errata"),
            "errata (text)": in_plain(repr(listed), "errata"),
            "python -m derivations": in_plain(format_table(as_rows([(o, 0.0) for o in outcomes])), "report"),
            "corrected note": in_html(MarkdownIt("commonmark").render(boxes), "corrected note")}


def check(outcomes=None) -> list[str]:
    """Every shown verdict that is not the computed one, and every claim a surface must show and does not: the
    library's views of ``outcomes`` (default: every registered claim, run), the stored outputs of every notebook
    (Markdown and plain text: each tabulates its chapter's claims, the overview all), the prose pages; the library's
    views show each claim once, in order. The built
    book's pages and PDFs are read with the same readers in tests/test_site.py."""
    import derivations.chapters  # noqa: F401  (the chapters' claims)
    from derivations.engine.registry import claims, run

    files = outcomes is None
    outcomes = [run(c) for c in claims()] if files else outcomes
    verdicts = {o.claim.id: o.verdict.value for o in outcomes}
    surfaces = [(name, shown, [i for i in verdicts if verdicts[i] != "holds" or not name.startswith("errata")])
                for name, shown in of_outcomes(outcomes).items()]
    library = len(surfaces)
    if files:
        for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
            chapter = [c.id for c in claims(int(nb.stem[:2]) or None)]
            md, text = in_notebook(nb)
            surfaces += [(f"{nb.name} (Markdown)", md, chapter), (f"{nb.name} (text)", text, chapter)]
        for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "book").glob("*.md"))]:
            surfaces.append((str(page.relative_to(ROOT)), in_prose(page.read_text(encoding="utf-8"), page.name), []))
    out = []
    for n, (name, shown, must) in enumerate(surfaces):
        out += wrong(shown, verdicts)
        seen = [s.claim for s in shown]
        out += [f"{name}: no verdict shown for {sorted(set(must) - set(seen))}"] if set(must) - set(seen) else []
        if n < library and set(must) <= set(seen) and seen != must:           # the library's: each once, in order
            out.append(f"{name}: shows {seen}, not each claim once in order")
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="notebooks (.ipynb), pages (.html, .md), PDFs, text files")
    args = ap.parse_args(argv)
    if not args.files:
        bad = check()
        print("\n".join(bad) if bad else "every surface shows the computed verdicts")
        return 1 if bad else 0
    shown = []
    for f in args.files:
        if f.suffix == ".ipynb":
            md, text = in_notebook(f)
            shown += md + text
        elif f.suffix == ".html":
            shown += in_html(f.read_text(encoding="utf-8"), f.name)
        elif f.suffix == ".pdf":
            shown += in_pdf(f, f.name)
        elif f.suffix == ".md":
            shown += in_prose(f.read_text(encoding="utf-8"), f.name)
        else:
            shown += in_plain(f.read_text(encoding="utf-8"), f.name)
    bad = wrong(shown, computed())
    print("\n".join(bad) if bad else f"{len(shown)} verdicts shown, each the computed one")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
