"""The note itself: one transcription, kept in the package, that every quotation comes from.

``note.md`` is the text of *Soft Targets v/s Label Flipping* (M. K. R. Pillai,
2019) as transcribed for this companion, unedited. The printed formula of every
claim about the note is taken from it by :func:`displayed` (a displayed
equation, by chapter and number) or :func:`quote` (a phrase of the running
text, which must occur in it); the notebooks quote the same text, and a test
checks that every quotation is found here.

The note's three parts map to the companion's chapters: 1 the opening (hard
labels), 2 *Label Smoothing* up to the *Label Flipping* bullet (soft labels),
3 from that bullet on (label flipping).

>>> displayed(1, 8)
'\\\\approx -\\\\left(z_{y_{1}} - \\\\|z_{y}\\\\|_{\\\\infty}\\\\right)'
>>> quote("flipping the labels with $1-\\\\epsilon$ probability")
'flipping the labels with $1-\\\\epsilon$ probability'
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

__all__ = ["TEXT", "PARTS", "chapter_text", "displayed", "displayed_all", "quote", "normalise", "contains"]

#: The transcription, verbatim.
TEXT: str = resources.files("derivations.engine").joinpath("note.md").read_text(encoding="utf-8")

#: Where chapters 2 and 3 begin in the note.
_STARTS = {2: "## Label Smoothing", 3: "• Label Flipping:"}
#: The chapters that re-derive a part of the note, in the note's order (the others go beyond it).
PARTS = (1, *_STARTS)


def chapter_text(chapter: int) -> str:
    """The part of the note that chapter ``chapter`` (one of :data:`PARTS`) re-derives."""
    if chapter not in PARTS:
        raise ValueError(f"the note has parts for chapters {', '.join(map(str, PARTS))}; got {chapter!r}")
    start = 0 if chapter == 1 else TEXT.index(_STARTS[chapter])
    end = TEXT.index(_STARTS[chapter + 1]) if chapter < PARTS[-1] else len(TEXT)
    return TEXT[start:end]


@lru_cache(maxsize=None)
def displayed_all(chapter: int) -> tuple[str, ...]:
    """The displayed equations (``$$ ... $$``) of a chapter, in order, as printed."""
    return tuple(m.strip() for m in re.findall(r"\$\$(.*?)\$\$", chapter_text(chapter), flags=re.S))


def displayed(chapter: int, n: int) -> str:
    """The ``n``-th displayed equation (1-based) of the note's part for ``chapter``, exactly as printed."""
    eqs = displayed_all(chapter)
    if not 1 <= n <= len(eqs):
        raise ValueError(f"chapter {chapter} of the note displays {len(eqs)} equations; asked for number {n}")
    return eqs[n - 1]


def normalise(text: str) -> str:
    """Collapse runs of whitespace, and read ``$$`` as ``$``, so a quotation may wrap differently than the
    transcription and quote a displayed equation inline."""
    return " ".join(text.replace("$$", "$").split())


def contains(fragment: str) -> bool:
    """Does the note contain ``fragment`` (whitespace normalised)?"""
    return normalise(fragment) in normalise(TEXT)


def quote(fragment: str) -> str:
    """``fragment``, after checking that the note contains it; ``ValueError`` if it does not."""
    if not contains(fragment):
        raise ValueError(f"not in the note's transcription: {fragment!r}")
    return fragment
