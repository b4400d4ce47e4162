"""The note, corrected: one MyST Markdown page from the note's transcription and the claim registry.

    python -m book.corrected_note [--out FILE]        (default: print the page)

The page is the note's text (``derivations/engine/note.md``) in order, every displayed
equation in place. After each equation, and after each paragraph that a claim
quotes, a box gives the claim's verdict (computed: :func:`derivations.engine.registry.run_all`),
the corrected form beside each erratum, the assumption and the general form beside
each claim that holds under one, and a link to the claim in its chapter
(``{ref}`` to the label ``claim-<id>`` that the book's ``conf.py`` gives each claim
view). The note's author and date, which the transcription gives as a heading and a line, are the page's byline
(:func:`_byline`), not a section of it. ``book/builder.py`` writes it into the book as ``corrected_note.md``.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import derivations.chapters  # noqa: F401  (the chapters' claims)
from derivations.engine import note
from derivations.engine.registry import Claim, Outcome, Verdict, claims, run_all

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["CHAPTERS", "CSS_CLASS", "Block", "note_claims", "blocks", "box", "markdown", "main"]

#: The chapters that re-derive the note (the others go beyond it): the note's parts.
CHAPTERS = note.PARTS
#: The CSS class of each verdict's box (``book/_static/book.css``).
CSS_CLASS = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds-under", Verdict.ERRATUM: "erratum",
             Verdict.UNDECIDED: "undecided"}

INTRO = """# The note, corrected

The text of the note {cite:p}`pillai2019softtargets`, as transcribed for this book, unedited. Every displayed
equation, and every sentence of the text that a chapter checks, is followed by its **computed** verdict:
<span class="verdict-key holds">holds</span>, <span class="verdict-key holds-under">holds under an assumption</span>
(the assumption and the general form are given), or <span class="verdict-key erratum">erratum</span> (the corrected
form is given, with a counterexample to the printed one). Each verdict links to the claim's checks in its chapter.
The note's words are its author's; the corrections are this book's.
"""


@dataclass(frozen=True)
class Block:
    """A paragraph or displayed equation of the note (``text``), and the outcomes of the claims about it."""

    chapter: int
    text: str
    outcomes: tuple[Outcome, ...]


def note_claims() -> list[Claim]:
    """The claims of chapters 1-3 that quote the note (a displayed equation or words of its text)."""
    return [c for c in claims() if c.chapter in CHAPTERS and c.source == "note"]


def _is_displayed(text: str) -> bool:
    return text.startswith("$$") and text.endswith("$$")


def _about(block: str, c: Claim) -> bool:
    """Is ``c`` a claim about this paragraph or displayed equation of its chapter?"""
    if _is_displayed(block):
        return c.printed.strip() == block[2:-2].strip()
    return c.printed.strip() not in note.displayed_all(c.chapter) and note.normalise(c.printed) in note.normalise(block)


def blocks(outcomes: list[Outcome]) -> list[Block]:
    """The note's paragraphs and displayed equations in order, each with the outcomes of its claims: a displayed
    equation with those of its own chapter (chapters 1 and 2 display the same line), a paragraph with those of any
    chapter that quote it (chapter 3 checks the sentence of chapter 2's part that defines label smoothing by flipping)."""
    out = []
    for chapter in CHAPTERS:
        for text in re.split(r"\n\s*\n", note.chapter_text(chapter).strip()):
            text = text.strip()
            mine = [o for o in outcomes if o.claim.chapter == chapter or not _is_displayed(text)]
            out.append(Block(chapter, text, tuple(o for o in mine if _about(text, o.claim))))
    return out


def _math(latex: str) -> str:
    """A formula as a displayed equation, or a quotation of the note's words (which carry their own ``$``)."""
    return f"“{latex.strip()}”" if "$" in latex or not any(ch in latex for ch in "\\_^=") else f"$$\n{latex}\n$$"


def box(o: Outcome, quoted: bool, linked: bool = True) -> str:
    """The verdict box of one claim: verdict, link (when its chapter is in the book), and the correction or the
    assumption; for an undecided claim, the statistical checks that the evidence neither confirms nor refutes (no
    correction, no counterexample: it is not an erratum)."""
    c, v = o.claim, o.verdict
    link = (f"{{ref}}`{c.place} · {c.id} <claim-{c.id.lower()}>`" if linked else
            f"{c.place} · {c.id}: chapter {c.chapter} is not in this rerun, see the committed book")
    lines = [f"{_math(c.printed)}\n" if quoted else "",
             f"<span class=\"mark\">{v.value}</span> — {c.title} ({link})\n"]
    if v is Verdict.HOLDS_UNDER:
        lines.append(f"**Assumption:** {c.assumption}\n")
    if v is Verdict.UNDECIDED:
        lines += [f"**Undecided** at the stated false-alarm probability: {f.statement}"
                  + (f": {f.observed}" if f.observed else "") + (f" ({f.bound})" if f.bound else "") + "\n"
                  for f in o.evidence.findings if f.asserted and f.undecided]
    if v in (Verdict.HOLDS_UNDER, Verdict.ERRATUM) and c.corrected:
        lines.append(f"**{'General form' if v is Verdict.HOLDS_UNDER else 'Corrected'}:**\n\n{_math(c.corrected)}\n")
    if v in (Verdict.HOLDS_UNDER, Verdict.ERRATUM) and o.evidence.counterexample is not None:
        lines.append(f"**Counterexample** (as printed): {o.evidence.counterexample}\n")
    body = "\n".join(x for x in lines if x)
    return f"````{{container}} verdict {CSS_CLASS[v]}\n:name: note-{c.id.lower().replace('.', '-')}\n\n{body}````\n"


def markdown(outcomes: list[Outcome], chapters=None) -> str:
    """The page: the note's text with a verdict box after each equation or paragraph that claims are about.

    ``chapters``: the chapters the book holds (default: all). A claim of another chapter keeps its verdict (the
    verdicts do not depend on a reader's values) but is not linked, and the page says why."""
    linked = set(CHAPTERS if chapters is None else chapters)
    parts = [INTRO]
    absent = [n for n in CHAPTERS if n not in linked]
    if absent:
        parts.append(f"This book is a rerun of some chapters only: the verdicts of chapter{'s' if len(absent) > 1 else ''} "
                     f"{', '.join(map(str, absent))} are given but not linked, since {'they are' if len(absent) > 1 else 'it is'} "
                     "not in it; the committed book (`make html`) links every claim.\n")
    found = blocks(outcomes)
    found[1:3] = _byline(found[1:3])
    for b in found:
        parts.append(b.text + "\n")
        parts += [box(o, quoted=not _is_displayed(b.text), linked=o.claim.chapter in linked) for o in b.outcomes]
    return "\n".join(parts)


#: The note's date line, under its author's name: "October 23, 2019".
_DATE = re.compile(r"[A-Z][a-z]+ \d{1,2}, \d{4}")


def _byline(after_title: list[Block]) -> list[Block]:
    """The note's author and date (the two blocks after its title), as a byline: the transcription gives the name
    as a heading (``## Murali Krishnan Rajasekharan Pillai``), which would be a section of the page, in its contents
    and in the PDF's bookmarks. Any other blocks are returned as they are."""
    name, date = (after_title + [None, None])[:2]
    if name is None or name.outcomes or not re.fullmatch(r"## [^\n#]+", name.text):
        return after_title
    lines = [name.text[3:].strip()]
    if date is not None and not date.outcomes and _DATE.fullmatch(date.text):
        lines.append(date.text)
    kept = after_title[len(lines):]
    return [Block(name.chapter, "```{container} byline\n" + "\\\n".join(lines) + "\n```", ()), *kept]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="write the page here (default: print it)")
    args = ap.parse_args(argv)
    page = markdown(run_all(note_claims(), jobs=os.cpu_count() or 1))
    if args.out:
        args.out.write_text(page, encoding="utf-8")
    else:
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
