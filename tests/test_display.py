"""The notebook views: every claim of a chapter shown, each said once, remarks as prose where no page explains them,
and library functions naming their claims."""
from __future__ import annotations

import re

import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims)
from derivations.engine import display
from derivations.engine.display import ClaimView, chapter_verdicts, show
from derivations.engine.registry import claims, get, run
from derivations.engine.text import plain


# -- chapter_verdicts ---------------------------------------------------------------------------------
def test_chapter_verdicts_names_every_claim_not_shown_and_only_its_chapters(monkeypatch):
    monkeypatch.setattr(display, "SHOWN", {})
    first, *rest = claims(1)
    with pytest.raises(AssertionError) as err:
        chapter_verdicts(1)
    assert all(c.id in str(err.value) for c in claims(1)) and f"{len(rest) + 1} claims" in str(err.value), err.value
    for c in rest:
        show(c.id)
    with pytest.raises(AssertionError, match=rf"1 claim of the registry is not shown: {re.escape(first.id)} "):
        chapter_verdicts(1)
    show(first.id)
    assert [r[0] for r in chapter_verdicts(1).rows()] == [c.id for c in claims(1)]
    with pytest.raises(AssertionError, match="chapter 2"):                  # chapter 1's views do not count for 2
        chapter_verdicts(2)


# -- remarks as prose ---------------------------------------------------------------------------------
def _remark_paragraph(text: str, remark: str) -> tuple[list[str], int]:
    paragraphs = text.split("\n\n")
    words = " ".join(remark.split())
    return paragraphs, next(i for i, p in enumerate(paragraphs) if " ".join(p.split()) == words)


@pytest.mark.parametrize("md", [True, False], ids=["markdown", "text"])
def test_the_remark_is_a_paragraph_of_prose_under_the_formula_where_no_page_explains_it(md):
    """The terminal's view (``python -m derivations --claim``) has no page around it: the formula and the remark are
    in it, the remark a paragraph of prose before the checks. A chapter's page quotes and explains the line in its own
    prose, and its view says neither again."""
    c = get("ch2.loss_squared")
    view = ClaimView(run(c), full=True)
    text = view._repr_markdown_() if md else repr(view)
    paragraphs, i = _remark_paragraph(text, c.remark if md else plain(c.remark))  # StopIteration: not a paragraph
    assert "As printed:" in paragraphs[i - 1] or "As printed:" in paragraphs[i - 2], "the remark follows the formula"
    assert text.index(paragraphs[i]) < text.index("<details" if md else "Checks:"), "the remark comes before the checks"
    assert "Remark:" not in text
    page = ClaimView(run(c))
    for shown in (page._repr_markdown_(), repr(page)):
        assert "As printed" not in shown and " ".join(plain(c.remark).split()[:8]) not in " ".join(shown.split())


def test_the_plain_text_remark_is_wrapped():
    c = get("ch2.loss_squared")
    paragraphs, i = _remark_paragraph(repr(ClaimView(run(c), full=True)), plain(c.remark))
    assert max(len(line) for line in paragraphs[i].splitlines()) <= display.TEXT_WIDTH < len(c.remark)


